// Counter: a monotonically increasing double (Prometheus "counter"), e.g. ldm_requests_total.
//
// Thread safety: all members may be called concurrently; Increment is lock-free (one CAS loop).
// Ownership: counters are normally created and owned by a Family<Counter> (see family.h), which
// hands out references that stay valid for the family's lifetime. A standalone Counter is allowed
// (useful in tests) but is not exported unless it belongs to a registered family.
#pragma once

#include "server/metrics/atomic_double.h"

namespace ldm::metrics {

class Counter {
 public:
  Counter() = default;
  Counter(const Counter&) = delete;
  Counter& operator=(const Counter&) = delete;

  // Adds 1.
  void Increment() { value_.Add(1.0); }

  // Adds `delta` and returns true if `delta` >= 0. A negative or NaN delta would break
  // monotonicity: it is rejected (returns false) and the value is unchanged.
  bool Increment(double delta);

  double Value() const { return value_.Load(); }

 private:
  AtomicDouble value_;
};

}  // namespace ldm::metrics
