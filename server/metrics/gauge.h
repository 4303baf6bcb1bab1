// Gauge: a double that can go up and down (Prometheus "gauge"), e.g. ldm_queue_depth.
//
// Thread safety: all members may be called concurrently; Increment/Decrement are lock-free
// (one CAS loop), Set is a single atomic store.
// Ownership: normally created and owned by a Family<Gauge> (see family.h).
#pragma once

#include "server/metrics/atomic_double.h"

namespace ldm::metrics {

class Gauge {
 public:
  Gauge() = default;
  Gauge(const Gauge&) = delete;
  Gauge& operator=(const Gauge&) = delete;

  void Set(double value) { value_.Store(value); }
  void Increment(double delta = 1.0) { value_.Add(delta); }
  void Decrement(double delta = 1.0) { value_.Add(-delta); }
  // Sets the value to the current Unix time in seconds (with sub-second precision).
  void SetToCurrentTime();

  double Value() const { return value_.Load(); }

 private:
  AtomicDouble value_;
};

}  // namespace ldm::metrics
