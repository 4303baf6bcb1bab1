#include "tools/train/stop_signal.h"

#include <atomic>
#include <csignal>

namespace ldm::train {
namespace {

std::atomic<bool> g_stop{false};

extern "C" void HandleStopSignal(int sig) {
  if (g_stop.exchange(true)) {
    // Already stopping: the user insists, so let the default action terminate the process.
    std::signal(sig, SIG_DFL);
    std::raise(sig);
  }
}

}  // namespace

void StopSignal::Install() {
  std::signal(SIGINT, HandleStopSignal);
  std::signal(SIGTERM, HandleStopSignal);
}

bool StopSignal::Requested() { return g_stop.load(std::memory_order_relaxed); }

void StopSignal::Set(bool value) { g_stop.store(value); }

}  // namespace ldm::train
