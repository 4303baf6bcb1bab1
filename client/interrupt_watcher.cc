#include "client/interrupt_watcher.h"

#include <pthread.h>

#include <cstdlib>

namespace ldm::client {

InterruptWatcher::InterruptWatcher() {
  sigemptyset(&signals_);
  sigaddset(&signals_, SIGINT);
  sigaddset(&signals_, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &signals_, &previous_mask_);
}

InterruptWatcher::~InterruptWatcher() {
  stop_ = true;
  if (thread_.joinable()) thread_.join();
  pthread_sigmask(SIG_SETMASK, &previous_mask_, nullptr);
}

void InterruptWatcher::Start(std::function<void()> on_interrupt) {
  on_interrupt_ = std::move(on_interrupt);
  thread_ = std::thread([this] { Loop(); });
}

void InterruptWatcher::Loop() {
  // A short timeout instead of a wake-up signal keeps shutdown simple; 100 ms is not noticeable.
  const timespec timeout{0, 100 * 1000 * 1000};
  while (!stop_) {
    if (sigtimedwait(&signals_, nullptr, &timeout) < 0) continue;  // timeout or EINTR
    if (interrupted_.exchange(true)) std::_Exit(130);  // second Ctrl-C: the user insists
    if (on_interrupt_) on_interrupt_();
  }
}

}  // namespace ldm::client
