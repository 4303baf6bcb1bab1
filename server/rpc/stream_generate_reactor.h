// StreamGenerate: a gRPC callback-API write reactor that is also the request's ResultSink.
//
// Events from scheduler threads are buffered (StreamEventBuffer) and written one at a time;
// sink methods never wait for the network, so a slow client never stalls a worker (its progress
// events are coalesced, its images and done event are kept). The call ends after the done event
// with OK, or with the request's error status.
// Cancellation: when the client cancels (or its deadline passes) OnCancel asks the scheduler to
// cancel the request, whose rows then free at the next step boundary, and finishes the call at
// once (the client is gone; later sink events are ignored).
// Lifetime: created by Begin() as a shared_ptr that holds itself until gRPC's OnDone; the
// scheduler's RequestState holds another reference as the sink, so the object lives until both
// gRPC and the scheduler are done with it.
// Thread safety: sink methods and reactions may run concurrently on different threads; one
// absl::Mutex guards the state and StartWrite/Finish are called outside it.
#pragma once

#include <grpcpp/grpcpp.h>

#include <memory>
#include <optional>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "ldm/v1/image_generation.pb.h"
#include "server/rpc/stream_event_buffer.h"
#include "server/scheduling/generation_request.h"
#include "server/scheduling/request_state.h"
#include "server/scheduling/result_sink.h"
#include "server/scheduling/scheduler.h"

namespace ldm::server {

class StreamGenerateReactor final : public grpc::ServerWriteReactor<v1::GenerateEvent>,
                                    public ResultSink {
 public:
  // Starts the call: enqueues `request` (already converted; its sink and deadline are filled in
  // here) or, when `request` holds an error, finishes the call with it. `scheduler` must outlive
  // the call. Returns the reactor for gRPC.
  static grpc::ServerWriteReactor<v1::GenerateEvent>* Begin(
      grpc::CallbackServerContext* context, Scheduler* scheduler,
      absl::StatusOr<GenerationRequest> request);

  explicit StreamGenerateReactor(Scheduler* scheduler);

  // ResultSink
  void OnQueued(int position) override;
  void OnStarted(const std::string& model, const std::string& device) override;
  void OnProgress(int step, int total, std::vector<PreviewImage> previews) override;
  void OnImage(int index, std::string png, uint64_t seed, int width, int height) override;
  void OnDone(const absl::Status& status, const RequestTimings& timings) override;

  // grpc::ServerWriteReactor
  void OnWriteDone(bool ok) override;
  void OnCancel() override;
  void OnDone() override;

 private:
  // What to do once the lock is released.
  struct Action {
    const v1::GenerateEvent* write = nullptr;
    std::optional<grpc::Status> finish;
  };

  void Push(v1::GenerateEvent event);
  Action NextActionLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void Run(const Action& action);
  void CancelRequest(const std::string& why);

  Scheduler* const scheduler_;
  absl::Mutex mu_;
  std::shared_ptr<StreamGenerateReactor> self_ ABSL_GUARDED_BY(mu_);
  std::shared_ptr<RequestState> state_ ABSL_GUARDED_BY(mu_);
  std::string request_id_ ABSL_GUARDED_BY(mu_);
  std::optional<absl::Time> deadline_ ABSL_GUARDED_BY(mu_);
  StreamEventBuffer buffer_ ABSL_GUARDED_BY(mu_);
  std::optional<grpc::Status> final_status_ ABSL_GUARDED_BY(mu_);  // set by the sink's OnDone
  bool client_gone_ ABSL_GUARDED_BY(mu_) = false;
  bool finish_called_ ABSL_GUARDED_BY(mu_) = false;
};

}  // namespace ldm::server
