#include "tools/train/train_rng.h"

#include <ATen/CPUGeneratorImpl.h>

namespace ldm::train {

uint64_t TrainRng::Mix(uint64_t x) {
  // SplitMix64 (Steele, Lea, Flood 2014): a bijective avalanche mix, good enough to turn
  // consecutive counters into independent-looking 64-bit values.
  x += 0x9e3779b97f4a7c15ULL;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

uint64_t TrainRng::Hash(uint64_t seed, RngStream stream, uint64_t step, uint64_t item) {
  uint64_t h = Mix(seed);
  h = Mix(h ^ static_cast<uint64_t>(stream));
  h = Mix(h ^ step);
  return Mix(h ^ item);
}

double TrainRng::Uniform(uint64_t seed, RngStream stream, uint64_t step, uint64_t item) {
  // The top 53 bits give every double in [0, 1) with spacing 2^-53.
  return static_cast<double>(Hash(seed, stream, step, item) >> 11) * 0x1.0p-53;
}

torch::Generator TrainRng::Generator(uint64_t seed, RngStream stream, uint64_t step) {
  return at::make_generator<at::CPUGeneratorImpl>(Hash(seed, stream, step));
}

}  // namespace ldm::train
