// Timesteps: the sinusoidal timestep projection (no parameters).
// Reference: diffusers.models.embeddings.Timesteps / get_timestep_embedding, after the positional
// encoding of Vaswani et al. 2017 as used by DDPM (Ho et al. 2020).
//
//   half = dim / 2, freq_j = exp(-ln(10000) * j / (half - downscale_freq_shift)), j < half
//   emb  = [sin(t * freq), cos(t * freq)]  (or [cos, sin] with flip_sin_to_cos), zero-padded
//          to `dim` when dim is odd.
// The projection is computed in float32 whatever the timesteps' dtype (fractional timesteps keep
// their fraction); the result is float32 on the timesteps' device. Thread-safe.
#pragma once

#include <torch/nn/module.h>
#include <torch/nn/pimpl.h>
#include <torch/types.h>

#include <cstdint>

namespace ldm::nn {

struct TimestepsOptions {
  int64_t dim = 0;
  bool flip_sin_to_cos = true;
  double downscale_freq_shift = 0.0;  // diffusers' freq_shift
};

// The free function behind TimestepsImpl. `timesteps`: [N] of any real or integer dtype.
// Returns [N, dim] float32. Throws c10::Error for other ranks.
torch::Tensor TimestepEmbeddingSinusoidal(const torch::Tensor& timesteps, int64_t dim,
                                          bool flip_sin_to_cos, double downscale_freq_shift);

class TimestepsImpl : public torch::nn::Module {
 public:
  explicit TimestepsImpl(const TimestepsOptions& options) : options_(options) {}

  // timesteps: [N] -> [N, dim] float32.
  torch::Tensor forward(const torch::Tensor& timesteps);

  const TimestepsOptions& options() const { return options_; }

 private:
  TimestepsOptions options_;
};
TORCH_MODULE(Timesteps);

}  // namespace ldm::nn
