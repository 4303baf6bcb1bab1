#include "tools/shapes/shapes_rng.h"

namespace ldm::shapes {
namespace {

uint64_t Mix(uint64_t z) {
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

}  // namespace

ShapesRng ShapesRng::ForItem(uint64_t seed, uint64_t stream, uint64_t index) {
  // Chained mixing (rather than xor of the inputs) keeps (seed, stream, index) triples that differ
  // in several fields from colliding.
  uint64_t h = Mix(seed + 0x9e3779b97f4a7c15ULL);
  h = Mix(h ^ (stream + 0x632be59bd9b4e019ULL));
  h = Mix(h ^ (index + 0x85ebca6b27d4eb4fULL));
  return ShapesRng(h);
}

uint64_t ShapesRng::NextU64() {
  state_ += 0x9e3779b97f4a7c15ULL;
  return Mix(state_);
}

double ShapesRng::Uniform() { return static_cast<double>(NextU64() >> 11) * 0x1.0p-53; }

double ShapesRng::Uniform(double lo, double hi) { return lo + (hi - lo) * Uniform(); }

int ShapesRng::UniformInt(int n) {
  // Multiply-shift is unbiased enough for n far below 2^32 and identical on every platform.
  return static_cast<int>(((NextU64() >> 32) * static_cast<uint64_t>(n)) >> 32);
}

bool ShapesRng::Bernoulli(double p) { return Uniform() < p; }

}  // namespace ldm::shapes
