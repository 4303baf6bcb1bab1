// The bounded priority queue between the API and the workers.
//
// Order: higher priority first, then arrival (sequence) order. Push never blocks: a full queue is
// RESOURCE_EXHAUSTED at once, a closed one UNAVAILABLE. Workers take the head when it fits their
// free batch rows (PopIf) and wait for work with a timeout.
// Thread safety: all methods are thread-safe.
#pragma once

#include <functional>
#include <memory>
#include <set>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "server/scheduling/request_state.h"

namespace ldm::server {

class RequestQueue {
 public:
  explicit RequestQueue(int capacity);

  // Adds `request`; returns its position (number of requests ahead of it). `on_queued` (if set)
  // runs with that position before any worker can see the request, so that a "queued" event
  // always precedes "started".
  absl::StatusOr<int> Push(std::shared_ptr<RequestState> request,
                           const std::function<void(int)>& on_queued = nullptr);

  // Pops the head if `accept(head)` returns true; nullptr otherwise or when empty.
  std::shared_ptr<RequestState> PopIf(const std::function<bool(const RequestState&)>& accept);

  // Removes `request` if it is still queued; returns whether it was.
  bool Remove(const RequestState* request);

  // Removes and returns every queued request (used when a drain times out).
  std::vector<std::shared_ptr<RequestState>> TakeAll();

  // Blocks until the queue is non-empty, it is closed, Notify() is called, or `timeout` passes.
  void WaitForWork(absl::Duration timeout);
  // Wakes waiting workers (e.g. after a cancellation freed rows).
  void Notify();

  // Rejects further pushes with UNAVAILABLE (draining).
  void Close();
  bool closed() const;
  int size() const;
  int capacity() const { return capacity_; }

 private:
  struct Order {
    bool operator()(const std::shared_ptr<RequestState>& a,
                    const std::shared_ptr<RequestState>& b) const {
      if (a->request().priority != b->request().priority) {
        return a->request().priority > b->request().priority;
      }
      return a->sequence() < b->sequence();
    }
  };

  const int capacity_;
  mutable absl::Mutex mu_;
  std::set<std::shared_ptr<RequestState>, Order> queue_ ABSL_GUARDED_BY(mu_);
  bool closed_ ABSL_GUARDED_BY(mu_) = false;
  uint64_t notifications_ ABSL_GUARDED_BY(mu_) = 0;
};

}  // namespace ldm::server
