#include "server/scheduling/request_queue.h"

#include "absl/strings/str_cat.h"

namespace ldm::server {

RequestQueue::RequestQueue(int capacity) : capacity_(capacity) {}

absl::StatusOr<int> RequestQueue::Push(std::shared_ptr<RequestState> request,
                                       const std::function<void(int)>& on_queued) {
  absl::MutexLock lock(&mu_);
  if (closed_) {
    return absl::UnavailableError(
        absl::StrCat("request ", request->id(), ": server is draining and accepts no new requests"));
  }
  if (static_cast<int>(queue_.size()) >= capacity_) {
    return absl::ResourceExhaustedError(absl::StrCat(
        "request ", request->id(), ": queue is full (", capacity_, " requests waiting); retry later"));
  }
  auto it = queue_.insert(std::move(request));
  const int position = static_cast<int>(std::distance(queue_.begin(), it.first));
  if (on_queued) on_queued(position);
  ++notifications_;
  return position;
}

std::shared_ptr<RequestState> RequestQueue::PopIf(
    const std::function<bool(const RequestState&)>& accept) {
  absl::MutexLock lock(&mu_);
  if (queue_.empty()) return nullptr;
  auto head = queue_.begin();
  if (!accept(**head)) return nullptr;
  std::shared_ptr<RequestState> out = *head;
  queue_.erase(head);
  return out;
}

bool RequestQueue::Remove(const RequestState* request) {
  absl::MutexLock lock(&mu_);
  for (auto it = queue_.begin(); it != queue_.end(); ++it) {
    if (it->get() == request) {
      queue_.erase(it);
      return true;
    }
  }
  return false;
}

std::vector<std::shared_ptr<RequestState>> RequestQueue::TakeAll() {
  absl::MutexLock lock(&mu_);
  std::vector<std::shared_ptr<RequestState>> out(queue_.begin(), queue_.end());
  queue_.clear();
  return out;
}

void RequestQueue::WaitForWork(absl::Duration timeout) {
  absl::MutexLock lock(&mu_);
  const uint64_t seen = notifications_;
  auto ready = [this, seen]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    return !queue_.empty() || closed_ || notifications_ != seen;
  };
  mu_.AwaitWithTimeout(absl::Condition(&ready), timeout);
}

void RequestQueue::Notify() {
  absl::MutexLock lock(&mu_);
  ++notifications_;
}

void RequestQueue::Close() {
  absl::MutexLock lock(&mu_);
  closed_ = true;
}

bool RequestQueue::closed() const {
  absl::MutexLock lock(&mu_);
  return closed_;
}

int RequestQueue::size() const {
  absl::MutexLock lock(&mu_);
  return static_cast<int>(queue_.size());
}

}  // namespace ldm::server
