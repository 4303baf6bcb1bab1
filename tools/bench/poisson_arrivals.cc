#include "tools/bench/poisson_arrivals.h"

#include <cmath>

#include "absl/strings/str_cat.h"

namespace ldm::bench {

absl::StatusOr<PoissonArrivals> PoissonArrivals::Create(double rate, uint64_t seed) {
  if (!std::isfinite(rate) || rate <= 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("open-loop rate = ", rate, " must be a positive number of requests/s"));
  }
  return PoissonArrivals(rate, seed);
}

double PoissonArrivals::NextUniform() {
  // SplitMix64 (Steele, Lea, Flood 2014), the top 53 bits as a double in [0, 1), flipped to (0, 1].
  uint64_t z = (state_ += 0x9e3779b97f4a7c15ULL);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  z ^= z >> 31;
  return 1.0 - static_cast<double>(z >> 11) * 0x1.0p-53;
}

double PoissonArrivals::NextGap() { return -std::log(NextUniform()) / rate_; }

std::vector<double> PoissonArrivals::Times(int n) {
  std::vector<double> out;
  out.reserve(n > 0 ? n : 0);
  double t = 0;
  for (int i = 0; i < n; ++i) {
    t += NextGap();
    out.push_back(t);
  }
  return out;
}

}  // namespace ldm::bench
