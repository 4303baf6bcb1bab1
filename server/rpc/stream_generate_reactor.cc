#include "server/rpc/stream_generate_reactor.h"

#include "absl/strings/str_cat.h"
#include "server/rpc/grpc_status.h"
#include "server/rpc/proto_events.h"
#include "spdlog/spdlog.h"

namespace ldm::server {

grpc::ServerWriteReactor<v1::GenerateEvent>* StreamGenerateReactor::Begin(
    grpc::CallbackServerContext* context, Scheduler* scheduler,
    absl::StatusOr<GenerationRequest> request) {
  auto reactor = std::make_shared<StreamGenerateReactor>(scheduler);
  StreamGenerateReactor* raw = reactor.get();
  {
    absl::MutexLock lock(&raw->mu_);
    raw->self_ = reactor;
  }
  if (!request.ok()) {
    raw->Finish(ToGrpcStatus(request.status()));
    absl::MutexLock lock(&raw->mu_);
    raw->finish_called_ = true;
    return raw;
  }
  request->sink = reactor;
  request->deadline = CallDeadline(*context);
  const std::string id = request->request_id;
  {
    absl::MutexLock lock(&raw->mu_);
    raw->request_id_ = id;
    raw->deadline_ = request->deadline;
  }
  // Enqueue emits "queued" synchronously through OnQueued, which may start the first write.
  absl::StatusOr<std::shared_ptr<RequestState>> state = scheduler->Enqueue(*std::move(request));
  if (!state.ok()) {
    // Rejected before anything was sent to the sink: finish with the scheduler's status.
    spdlog::info("request {} rejected: {}", id, state.status().ToString());
    Action action;
    {
      absl::MutexLock lock(&raw->mu_);
      if (!raw->finish_called_) {
        raw->finish_called_ = true;
        action.finish = ToGrpcStatus(state.status());
      }
    }
    raw->Run(action);
    return raw;
  }
  bool cancelled_meanwhile = false;
  {
    absl::MutexLock lock(&raw->mu_);
    raw->state_ = *state;
    cancelled_meanwhile = raw->client_gone_;
  }
  if (cancelled_meanwhile) raw->CancelRequest("the client cancelled the call");
  return raw;
}

StreamGenerateReactor::StreamGenerateReactor(Scheduler* scheduler) : scheduler_(scheduler) {}

void StreamGenerateReactor::OnQueued(int position) { Push(QueuedEvent(position)); }

void StreamGenerateReactor::OnStarted(const std::string& model, const std::string& device) {
  Push(StartedEvent(model, device));
}

void StreamGenerateReactor::OnProgress(int step, int total, std::vector<PreviewImage> previews) {
  Push(ProgressEvent(step, total, std::move(previews)));
}

void StreamGenerateReactor::OnImage(int index, std::string png, uint64_t seed, int width,
                                    int height) {
  Push(ImageEvent(index, std::move(png), seed, width, height));
}

void StreamGenerateReactor::OnDone(const absl::Status& status, const RequestTimings& timings) {
  Action action;
  {
    absl::MutexLock lock(&mu_);
    if (status.ok() && !client_gone_) buffer_.Push(DoneEvent(request_id_, timings));
    final_status_ = ToGrpcStatus(status);
    action = NextActionLocked();
  }
  Run(action);
}

void StreamGenerateReactor::Push(v1::GenerateEvent event) {
  Action action;
  {
    absl::MutexLock lock(&mu_);
    if (client_gone_ || finish_called_) return;
    buffer_.Push(std::move(event));
    action = NextActionLocked();
  }
  Run(action);
}

StreamGenerateReactor::Action StreamGenerateReactor::NextActionLocked() {
  Action action;
  if (finish_called_ || buffer_.write_in_flight()) return action;
  if (!client_gone_) action.write = buffer_.StartNext();
  if (action.write == nullptr && final_status_.has_value()) {
    finish_called_ = true;
    action.finish = *final_status_;
  }
  return action;
}

void StreamGenerateReactor::Run(const Action& action) {
  // StartWrite/Finish outside the lock: the one-write-in-flight rule is kept by the buffer's
  // in-flight flag, and gRPC may run reactions on other threads right away.
  if (action.write != nullptr) StartWrite(action.write);
  if (action.finish.has_value()) Finish(*action.finish);
}

void StreamGenerateReactor::OnWriteDone(bool ok) {
  Action action;
  bool cancel = false;
  {
    absl::MutexLock lock(&mu_);
    buffer_.WriteDone();
    if (!ok && !client_gone_) {
      // The stream broke (client gone): stop writing and stop the work.
      client_gone_ = true;
      buffer_.Clear();
      cancel = !final_status_.has_value();
      if (!final_status_.has_value()) {
        final_status_ = grpc::Status(grpc::StatusCode::CANCELLED, "the client went away");
      }
    }
    action = NextActionLocked();
  }
  if (cancel) CancelRequest("the stream to the client broke");
  Run(action);
}

void StreamGenerateReactor::OnCancel() {
  Action action;
  {
    absl::MutexLock lock(&mu_);
    client_gone_ = true;
    buffer_.Clear();
    if (!final_status_.has_value()) {
      final_status_ = grpc::Status(grpc::StatusCode::CANCELLED, "cancelled by the client");
    }
    action = NextActionLocked();
  }
  CancelRequest("the client cancelled the call");
  Run(action);
}

void StreamGenerateReactor::CancelRequest(const std::string& why) {
  std::shared_ptr<RequestState> state;
  std::optional<absl::Time> deadline;
  {
    absl::MutexLock lock(&mu_);
    state = state_;
    deadline = deadline_;
  }
  // Before Enqueue returned there is no state yet; Begin() checks client_gone_ afterwards.
  if (state == nullptr || state->finished()) return;
  scheduler_->Cancel(state, CancellationStatus(state->id(), deadline, why));
}

void StreamGenerateReactor::OnDone() {
  // Declared before the lock so that the last reference (possibly this object) goes after it.
  std::shared_ptr<StreamGenerateReactor> keep;
  std::shared_ptr<RequestState> state;
  {
    absl::MutexLock lock(&mu_);
    keep = std::move(self_);
    // Breaks the reactor <-> RequestState cycle (the state holds this object as its sink).
    state = std::move(state_);
  }
}

}  // namespace ldm::server
