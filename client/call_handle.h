// A cancellation handle for one client call (including its retries).
//
// Create one, pass it in CallOptions, and call Cancel() from any thread: the call in flight is
// cancelled (the server sees CANCELLED and frees its rows at the next step), a pending retry
// backoff wakes up at once, and no further attempt starts. The call then returns CANCELLED.
// Cancel() before the call starts makes it return CANCELLED without contacting the server.
// A handle is meant for one call; it stays cancelled once cancelled.
// Thread safety: all methods are thread-safe.
#pragma once

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"

namespace grpc {
class ClientContext;
}

namespace ldm::client {

class CallHandle {
 public:
  CallHandle() = default;
  CallHandle(const CallHandle&) = delete;
  CallHandle& operator=(const CallHandle&) = delete;

  // Cancels the call; idempotent.
  void Cancel();
  bool cancelled() const;

  // For the client: registers the context of the attempt in flight. Returns false (and does not
  // register) when the handle is already cancelled.
  bool Attach(grpc::ClientContext* context);
  // Unregisters the context; must be called before the context is destroyed.
  void Detach();
  // Sleeps up to `duration`; returns true early when the handle is cancelled.
  bool SleepUnlessCancelled(absl::Duration duration);

 private:
  mutable absl::Mutex mu_;
  bool cancelled_ ABSL_GUARDED_BY(mu_) = false;
  grpc::ClientContext* context_ ABSL_GUARDED_BY(mu_) = nullptr;
};

}  // namespace ldm::client
