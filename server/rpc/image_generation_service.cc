#include "server/rpc/image_generation_service.h"

#include "server/rpc/generate_unary_reactor.h"
#include "server/rpc/grpc_status.h"
#include "server/rpc/stream_generate_reactor.h"
#include "spdlog/spdlog.h"

namespace ldm::server {
namespace {

const absl::Status& NotReady() {
  static const absl::Status* status =
      new absl::Status(absl::UnavailableError("the server is starting (loading models)"));
  return *status;
}

}  // namespace

ImageGenerationService::ImageGenerationService(SchedulerMetrics* metrics, RequestLimits limits)
    : metrics_(metrics), limits_(limits) {}

void ImageGenerationService::Attach(Scheduler* scheduler, ModelCatalog catalog) {
  auto backend = std::make_shared<const Backend>(scheduler, std::move(catalog), limits_);
  absl::MutexLock lock(&mu_);
  backend_ = std::move(backend);
}

bool ImageGenerationService::attached() const { return backend() != nullptr; }

std::shared_ptr<const ImageGenerationService::Backend> ImageGenerationService::backend() const {
  absl::MutexLock lock(&mu_);
  return backend_;
}

absl::StatusOr<GenerationRequest> ImageGenerationService::Convert(
    const Backend& backend, const v1::GenerateRequest& request) const {
  absl::StatusOr<GenerationRequest> converted = backend.converter.Convert(request);
  if (!converted.ok()) {
    // The scheduler never sees these; count them here. Unknown names are not used as label
    // values (a client could create unbounded series).
    const bool known = backend.catalog.models().count(request.model()) > 0;
    const std::string model = request.model().empty() ? backend.catalog.default_model()
                              : known                 ? request.model()
                                                      : std::string("unknown");
    if (metrics_ != nullptr) metrics_->RequestFinished(model, converted.status().code(), 0.0);
    spdlog::info("rejected: {}", converted.status().ToString());
  }
  return converted;
}

grpc::ServerUnaryReactor* ImageGenerationService::Generate(grpc::CallbackServerContext* context,
                                                           const v1::GenerateRequest* request,
                                                           v1::GenerateResponse* response) {
  std::shared_ptr<const Backend> b = backend();
  if (b == nullptr) {
    return GenerateUnaryReactor::Begin(context, nullptr, NotReady(), response);
  }
  return GenerateUnaryReactor::Begin(context, b->scheduler, Convert(*b, *request), response);
}

grpc::ServerWriteReactor<v1::GenerateEvent>* ImageGenerationService::StreamGenerate(
    grpc::CallbackServerContext* context, const v1::GenerateRequest* request) {
  std::shared_ptr<const Backend> b = backend();
  if (b == nullptr) return StreamGenerateReactor::Begin(context, nullptr, NotReady());
  return StreamGenerateReactor::Begin(context, b->scheduler, Convert(*b, *request));
}

grpc::ServerUnaryReactor* ImageGenerationService::ListModels(grpc::CallbackServerContext* context,
                                                             const v1::ListModelsRequest* request,
                                                             v1::ListModelsResponse* response) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  std::shared_ptr<const Backend> b = backend();
  if (b == nullptr) {
    reactor->Finish(ToGrpcStatus(NotReady()));
    return reactor;
  }
  *response = b->catalog.Describe();
  reactor->Finish(grpc::Status::OK);
  return reactor;
}

}  // namespace ldm::server
