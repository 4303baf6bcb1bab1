// TrainRng: counter-based randomness for the trainer.
//
// Every random decision of a training step is a pure function of (seed, stream, step, item):
// a SplitMix64 hash of the four values. Nothing carries hidden state from one step to the next, so
// the "RNG state" of a checkpoint is just its step number and a resumed run draws exactly what an
// uninterrupted run would have drawn. Tensor noise comes from a torch CPU generator seeded with
// such a hash (drawn on the CPU, then moved), so CPU and CUDA runs see the same noise.
//
// Thread safety: all functions are pure and thread-safe.
#pragma once

#include <torch/types.h>

#include <cstdint>

namespace ldm::train {

// Independent streams of random draws.
enum class RngStream : uint64_t {
  kAutoencoderData = 1,
  kAutoencoderNoise = 2,
  kDiffusionIndex = 3,
  kDiffusionDropout = 4,
  kDiffusionNoise = 5,
  kSampleKind = 6,
  kInit = 7,
  kHoldout = 8,
  kClassifierIndex = 9,
  kClassifierNoise = 10,
  kTextPretrainIndex = 11,
  // Super-resolution (numbers kept apart from the other stages' so they never collide).
  kSrZoom = 20,
  kSrIndex = 21,
  kSrNoise = 22,
};

class TrainRng {
 public:
  // SplitMix64 finaliser of x.
  static uint64_t Mix(uint64_t x);
  // A 64-bit hash of (seed, stream, step, item).
  static uint64_t Hash(uint64_t seed, RngStream stream, uint64_t step, uint64_t item = 0);
  // Uniform double in [0, 1) from Hash(...).
  static double Uniform(uint64_t seed, RngStream stream, uint64_t step, uint64_t item = 0);
  // A CPU generator seeded with Hash(seed, stream, step).
  static torch::Generator Generator(uint64_t seed, RngStream stream, uint64_t step);
};

}  // namespace ldm::train
