// Time source for all timing logic in the scheduler (deadlines, queue wait, step durations), so
// that tests can drive time explicitly with a fake clock.
// Thread safety: implementations must be safe to call from any thread.
#pragma once

#include "absl/time/clock.h"
#include "absl/time/time.h"

namespace ldm::server {

class Clock {
 public:
  virtual ~Clock() = default;
  virtual absl::Time Now() const = 0;
};

// The system clock.
class RealClock : public Clock {
 public:
  absl::Time Now() const override { return absl::Now(); }
  static RealClock* Get() {
    static RealClock* clock = new RealClock();
    return clock;
  }
};

}  // namespace ldm::server
