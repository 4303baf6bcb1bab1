// A Clock that only moves when told to. Thread-safe.
#pragma once

#include "absl/synchronization/mutex.h"
#include "server/scheduling/clock.h"

namespace ldm::testing {

class FakeClock : public server::Clock {
 public:
  explicit FakeClock(absl::Time start = absl::FromUnixSeconds(1'700'000'000)) : now_(start) {}
  absl::Time Now() const override {
    absl::MutexLock lock(&mu_);
    return now_;
  }
  void Advance(absl::Duration d) {
    absl::MutexLock lock(&mu_);
    now_ += d;
  }

 private:
  mutable absl::Mutex mu_;
  absl::Time now_ ABSL_GUARDED_BY(mu_);
};

}  // namespace ldm::testing
