#include "server/rpc/generate_unary_reactor.h"

#include "absl/strings/str_cat.h"
#include "server/rpc/grpc_status.h"
#include "server/rpc/proto_events.h"
#include "spdlog/spdlog.h"

namespace ldm::server {

grpc::ServerUnaryReactor* GenerateUnaryReactor::Begin(grpc::CallbackServerContext* context,
                                                      Scheduler* scheduler,
                                                      absl::StatusOr<GenerationRequest> request,
                                                      v1::GenerateResponse* response) {
  auto reactor = std::make_shared<GenerateUnaryReactor>(scheduler, response);
  GenerateUnaryReactor* raw = reactor.get();
  {
    absl::MutexLock lock(&raw->mu_);
    raw->self_ = reactor;
  }
  if (!request.ok()) {
    {
      absl::MutexLock lock(&raw->mu_);
      raw->finish_called_ = true;
    }
    raw->Finish(ToGrpcStatus(request.status()));
    return raw;
  }
  request->sink = reactor;
  request->deadline = CallDeadline(*context);
  // Nobody would see previews: don't spend worker time on them.
  request->preview_every = 0;
  {
    absl::MutexLock lock(&raw->mu_);
    raw->deadline_ = request->deadline;
    response->set_request_id(request->request_id);
    response->set_model(request->model);
  }
  const std::string id = request->request_id;
  absl::StatusOr<std::shared_ptr<RequestState>> state = scheduler->Enqueue(*std::move(request));
  if (!state.ok()) {
    spdlog::info("request {} rejected: {}", id, state.status().ToString());
    bool finish = false;
    {
      absl::MutexLock lock(&raw->mu_);
      finish = raw->TakeFinish();
    }
    if (finish) raw->Finish(ToGrpcStatus(state.status()));
    return raw;
  }
  bool cancelled = false;
  {
    absl::MutexLock lock(&raw->mu_);
    raw->state_ = *state;
    cancelled = raw->cancelled_;
  }
  if (cancelled) {
    scheduler->Cancel(*state, absl::CancelledError(absl::StrCat(
                                  "request ", (*state)->id(), ": the client cancelled the call")));
  }
  return raw;
}

GenerateUnaryReactor::GenerateUnaryReactor(Scheduler* scheduler, v1::GenerateResponse* response)
    : scheduler_(scheduler), response_(response) {}

bool GenerateUnaryReactor::TakeFinish() {
  if (finish_called_) return false;
  finish_called_ = true;
  return true;
}

void GenerateUnaryReactor::OnImage(int index, std::string png, uint64_t seed, int width,
                                   int height) {
  absl::MutexLock lock(&mu_);
  if (finish_called_) return;
  v1::GeneratedImage& image = images_[index];
  image.set_index(static_cast<uint32_t>(index));
  image.set_png(std::move(png));
  image.set_seed(seed);
  image.set_width(static_cast<uint32_t>(width));
  image.set_height(static_cast<uint32_t>(height));
}

void GenerateUnaryReactor::OnDone(const absl::Status& status, const RequestTimings& timings) {
  {
    absl::MutexLock lock(&mu_);
    if (!TakeFinish()) return;
    if (status.ok()) {
      // Images may arrive in any order from the encoder pool; the response lists them by index.
      for (auto& [index, image] : images_) *response_->add_images() = std::move(image);
      *response_->mutable_timings() = ToProto(timings);
    }
    images_.clear();
  }
  Finish(ToGrpcStatus(status));
}

void GenerateUnaryReactor::OnCancel() {
  std::shared_ptr<RequestState> state;
  std::optional<absl::Time> deadline;
  bool finish = false;
  {
    absl::MutexLock lock(&mu_);
    cancelled_ = true;
    state = state_;
    deadline = deadline_;
    finish = TakeFinish();
  }
  if (state != nullptr && !state->finished()) {
    scheduler_->Cancel(state,
                       CancellationStatus(state->id(), deadline, "the client cancelled the call"));
  }
  if (finish) Finish(grpc::Status(grpc::StatusCode::CANCELLED, "cancelled by the client"));
}

void GenerateUnaryReactor::OnDone() {
  std::shared_ptr<GenerateUnaryReactor> keep;
  std::shared_ptr<RequestState> state;
  {
    absl::MutexLock lock(&mu_);
    keep = std::move(self_);
    state = std::move(state_);
  }
}

}  // namespace ldm::server
