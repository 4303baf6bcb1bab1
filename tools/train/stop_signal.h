// StopSignal: turns SIGINT/SIGTERM into a flag the training loops poll between steps, so an
// interrupted run writes a checkpoint and exits cleanly instead of dying mid-step.
//
// Install() is idempotent. A second signal while a stop is pending restores the default action
// and re-raises, so a stuck process can still be killed with a second Ctrl-C.
// Thread safety: Requested() is a lock-free atomic load, safe from any thread.
#pragma once

namespace ldm::train {

class StopSignal {
 public:
  static void Install();
  static bool Requested();
  // For tests: set or clear the flag without a signal.
  static void Set(bool value);
};

}  // namespace ldm::train
