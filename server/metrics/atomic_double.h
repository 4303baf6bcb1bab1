// AtomicDouble: a lock-free double with an atomic Add, used by Counter, Gauge and Histogram.
//
// Thread safety: every member may be called concurrently. Add is a compare-and-swap loop on the
// value's bit pattern, so it is lock-free wherever std::atomic<double> is (x86-64, aarch64).
// Loads/stores use relaxed ordering: metric values carry no happens-before relationship to
// anything else in the program.
#pragma once

#include <atomic>

namespace ldm::metrics {

class AtomicDouble {
 public:
  explicit AtomicDouble(double initial = 0.0) : value_(initial) {}
  AtomicDouble(const AtomicDouble&) = delete;
  AtomicDouble& operator=(const AtomicDouble&) = delete;

  double Load() const { return value_.load(std::memory_order_relaxed); }
  void Store(double v) { value_.store(v, std::memory_order_relaxed); }

  // Adds `delta` atomically; returns the new value.
  double Add(double delta) {
    double current = value_.load(std::memory_order_relaxed);
    // compare_exchange_weak reloads `current` on failure, so the loop retries with fresh data.
    while (!value_.compare_exchange_weak(current, current + delta, std::memory_order_relaxed,
                                         std::memory_order_relaxed)) {
    }
    return current + delta;
  }

 private:
  std::atomic<double> value_;
};

}  // namespace ldm::metrics
