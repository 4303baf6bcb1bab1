// ldm.v1.ImageGeneration on the gRPC callback API.
//
// Generate and StreamGenerate validate and convert the request (RequestConverter), enqueue it on
// the scheduler and hand the events to a reactor (GenerateUnaryReactor, StreamGenerateReactor);
// ListModels describes the catalog. Until Attach() (models still loading) every RPC answers
// UNAVAILABLE. Requests rejected here (validation, unknown model) are counted in the metrics
// like the ones the scheduler rejects.
// Ownership: the attached scheduler and the metrics (nullable) are not owned and must outlive
// every call; the catalog is copied.
// Thread safety: all methods are thread-safe; Attach is meant to be called once.
#pragma once

#include <memory>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "ldm/v1/image_generation.grpc.pb.h"
#include "server/rpc/model_catalog.h"
#include "server/rpc/request_converter.h"
#include "server/scheduling/scheduler.h"
#include "server/scheduling/scheduler_metrics.h"

namespace ldm::server {

class ImageGenerationService final : public v1::ImageGeneration::CallbackService {
 public:
  ImageGenerationService(SchedulerMetrics* metrics, RequestLimits limits);

  // Starts serving requests with `scheduler` and `catalog`.
  void Attach(Scheduler* scheduler, ModelCatalog catalog);
  bool attached() const;

  grpc::ServerUnaryReactor* Generate(grpc::CallbackServerContext* context,
                                     const v1::GenerateRequest* request,
                                     v1::GenerateResponse* response) override;
  grpc::ServerWriteReactor<v1::GenerateEvent>* StreamGenerate(
      grpc::CallbackServerContext* context, const v1::GenerateRequest* request) override;
  grpc::ServerUnaryReactor* ListModels(grpc::CallbackServerContext* context,
                                       const v1::ListModelsRequest* request,
                                       v1::ListModelsResponse* response) override;

 private:
  struct Backend {
    Backend(Scheduler* s, ModelCatalog c, RequestLimits limits)
        : scheduler(s), catalog(std::move(c)), converter(&catalog, limits) {}
    Scheduler* scheduler;
    ModelCatalog catalog;
    RequestConverter converter;
  };

  std::shared_ptr<const Backend> backend() const;
  // Converts `request`, recording rejections in the metrics.
  absl::StatusOr<GenerationRequest> Convert(const Backend& backend,
                                            const v1::GenerateRequest& request) const;

  SchedulerMetrics* const metrics_;
  const RequestLimits limits_;
  mutable absl::Mutex mu_;
  std::shared_ptr<const Backend> backend_ ABSL_GUARDED_BY(mu_);
};

}  // namespace ldm::server
