// Generate (unary): a gRPC callback-API unary reactor that is also the request's ResultSink.
//
// It collects the request's images into the response and finishes the call from the sink's
// OnDone (never by waiting inside a reaction). Previews are not produced for unary calls.
// Cancellation: OnCancel (client cancel or deadline) cancels the request in the scheduler, so its
// rows free at the next step boundary, and finishes the call at once.
// Lifetime: like StreamGenerateReactor, a self-owning shared_ptr until gRPC's OnDone, also held
// by the scheduler as the sink; the response is touched only before Finish.
// Thread safety: sink methods and reactions may run concurrently; one absl::Mutex guards all.
#pragma once

#include <grpcpp/grpcpp.h>

#include <map>
#include <memory>
#include <optional>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "ldm/v1/image_generation.pb.h"
#include "server/scheduling/generation_request.h"
#include "server/scheduling/request_state.h"
#include "server/scheduling/result_sink.h"
#include "server/scheduling/scheduler.h"

namespace ldm::server {

class GenerateUnaryReactor final : public grpc::ServerUnaryReactor, public ResultSink {
 public:
  // Enqueues `request` (or finishes with its error). `response` is gRPC's and stays valid until
  // the call finishes; `scheduler` must outlive the call.
  static grpc::ServerUnaryReactor* Begin(grpc::CallbackServerContext* context, Scheduler* scheduler,
                                         absl::StatusOr<GenerationRequest> request,
                                         v1::GenerateResponse* response);

  GenerateUnaryReactor(Scheduler* scheduler, v1::GenerateResponse* response);

  // ResultSink
  void OnQueued(int position) override {}
  void OnStarted(const std::string& model, const std::string& device) override {}
  void OnProgress(int step, int total, std::vector<PreviewImage> previews) override {}
  void OnImage(int index, std::string png, uint64_t seed, int width, int height) override;
  void OnDone(const absl::Status& status, const RequestTimings& timings) override;

  // grpc::ServerUnaryReactor
  void OnCancel() override;
  void OnDone() override;

 private:
  // Marks the call finished; returns false when it already was.
  bool TakeFinish() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  Scheduler* const scheduler_;
  absl::Mutex mu_;
  v1::GenerateResponse* const response_ ABSL_GUARDED_BY(mu_);
  std::map<int, v1::GeneratedImage> images_ ABSL_GUARDED_BY(mu_);  // by index
  std::shared_ptr<GenerateUnaryReactor> self_ ABSL_GUARDED_BY(mu_);
  std::shared_ptr<RequestState> state_ ABSL_GUARDED_BY(mu_);
  std::optional<absl::Time> deadline_ ABSL_GUARDED_BY(mu_);
  bool cancelled_ ABSL_GUARDED_BY(mu_) = false;
  bool finish_called_ ABSL_GUARDED_BY(mu_) = false;
};

}  // namespace ldm::server
