#include "client/call_handle.h"

#include <grpcpp/client_context.h>

namespace ldm::client {

void CallHandle::Cancel() {
  absl::MutexLock lock(&mu_);
  cancelled_ = true;
  // TryCancel is thread-safe; holding mu_ keeps the context alive (Detach waits for us).
  if (context_ != nullptr) context_->TryCancel();
}

bool CallHandle::cancelled() const {
  absl::MutexLock lock(&mu_);
  return cancelled_;
}

bool CallHandle::Attach(grpc::ClientContext* context) {
  absl::MutexLock lock(&mu_);
  if (cancelled_) return false;
  context_ = context;
  return true;
}

void CallHandle::Detach() {
  absl::MutexLock lock(&mu_);
  context_ = nullptr;
}

bool CallHandle::SleepUnlessCancelled(absl::Duration duration) {
  absl::MutexLock lock(&mu_);
  return mu_.AwaitWithTimeout(absl::Condition(&cancelled_), duration);
}

}  // namespace ldm::client
