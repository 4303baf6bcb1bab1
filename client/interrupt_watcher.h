// Turns SIGINT/SIGTERM into a cancellation for ldm-client: the first signal runs a callback
// (which cancels the call, so the server frees the request's batch rows at its next step and the
// tool exits with CANCELLED's code); a second signal exits at once with 130.
//
// Construct it before any other thread starts (gRPC's included): it blocks the two signals in the
// constructing thread, so every thread started later inherits the mask and only the watcher's
// sigtimedwait receives them. The destructor stops the watcher and restores the mask.
// Thread safety: construct, Start and destroy from one thread; the callback runs on the watcher.
#pragma once

#include <signal.h>

#include <atomic>
#include <functional>
#include <thread>

namespace ldm::client {

class InterruptWatcher {
 public:
  InterruptWatcher();
  ~InterruptWatcher();
  InterruptWatcher(const InterruptWatcher&) = delete;
  InterruptWatcher& operator=(const InterruptWatcher&) = delete;

  void Start(std::function<void()> on_interrupt);
  bool interrupted() const { return interrupted_; }

 private:
  void Loop();

  sigset_t signals_;
  sigset_t previous_mask_;
  std::function<void()> on_interrupt_;
  std::atomic<bool> stop_{false};
  std::atomic<bool> interrupted_{false};
  std::thread thread_;
};

}  // namespace ldm::client
