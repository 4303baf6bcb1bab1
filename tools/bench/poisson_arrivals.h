// PoissonArrivals: the arrival times of an open-loop load at `rate` requests per second.
//
// Gaps between arrivals are exponential with mean 1/rate (a Poisson process), drawn by inverse
// transform from a SplitMix64 stream seeded with `seed`, so a given (rate, seed) gives the same
// schedule on every platform and standard library (std::exponential_distribution does not
// promise that).
// Errors: Create() returns INVALID_ARGUMENT for a rate that is not finite and positive.
// Thread safety: not thread-safe; one generator per dispatcher thread.
#pragma once

#include <cstdint>
#include <vector>

#include "absl/status/statusor.h"

namespace ldm::bench {

class PoissonArrivals {
 public:
  static absl::StatusOr<PoissonArrivals> Create(double rate, uint64_t seed);

  // The next gap in seconds (>= 0).
  double NextGap();
  // The first `n` arrival times in seconds from 0 (the first arrival is after one gap).
  std::vector<double> Times(int n);

  double rate() const { return rate_; }

 private:
  PoissonArrivals(double rate, uint64_t seed) : rate_(rate), state_(seed) {}
  // Uniform in (0, 1]: never 0, so the logarithm is finite.
  double NextUniform();

  double rate_;
  uint64_t state_;
};

}  // namespace ldm::bench
