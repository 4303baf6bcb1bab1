// A tiny deterministic random number generator (SplitMix64) for the shapes dataset.
//
// std:: distributions differ between standard libraries, so every draw the dataset makes goes
// through this class, whose output is fixed by its seed alone. Not thread-safe; make one per
// sample (it is two words of state and cheap to construct).
#pragma once

#include <cstdint>

namespace ldm::shapes {

class ShapesRng {
 public:
  explicit ShapesRng(uint64_t seed) : state_(seed) {}
  // A generator for one item of a stream: mixes (seed, stream, index) so nearby indices give
  // unrelated sequences.
  static ShapesRng ForItem(uint64_t seed, uint64_t stream, uint64_t index);

  uint64_t NextU64();
  // Uniform in [0, 1), 53 bits.
  double Uniform();
  // Uniform in [lo, hi).
  double Uniform(double lo, double hi);
  // Uniform integer in [0, n); n must be > 0.
  int UniformInt(int n);
  // True with probability p.
  bool Bernoulli(double p);

 private:
  uint64_t state_;
};

}  // namespace ldm::shapes
