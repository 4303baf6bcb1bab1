#include "core/nn/timesteps.h"

#include <torch/torch.h>

#include <cmath>

namespace ldm::nn {

torch::Tensor TimestepEmbeddingSinusoidal(const torch::Tensor& timesteps, int64_t dim,
                                          bool flip_sin_to_cos, double downscale_freq_shift) {
  TORCH_CHECK(timesteps.dim() == 1, "timesteps must be a 1-D tensor, got shape ",
              timesteps.sizes());
  TORCH_CHECK(dim >= 2, "timestep embedding dim must be >= 2, got ", dim);
  const int64_t half = dim / 2;
  const auto opts = torch::TensorOptions().dtype(torch::kFloat).device(timesteps.device());
  // Same operation order as the reference, in float32, so the frequencies round identically.
  torch::Tensor exponent = torch::arange(0, half, opts) * (-std::log(10000.0));
  exponent = exponent / (static_cast<double>(half) - downscale_freq_shift);
  torch::Tensor freqs = torch::exp(exponent);
  torch::Tensor args = timesteps.to(torch::kFloat).unsqueeze(1) * freqs.unsqueeze(0);
  torch::Tensor emb = flip_sin_to_cos ? torch::cat({torch::cos(args), torch::sin(args)}, -1)
                                      : torch::cat({torch::sin(args), torch::cos(args)}, -1);
  if (dim % 2 == 1) emb = torch::constant_pad_nd(emb, {0, 1}, 0);
  return emb;
}

torch::Tensor TimestepsImpl::forward(const torch::Tensor& timesteps) {
  return TimestepEmbeddingSinusoidal(timesteps, options_.dim, options_.flip_sin_to_cos,
                                     options_.downscale_freq_shift);
}

}  // namespace ldm::nn
