// TimestepEmbedding: Linear -> SiLU -> Linear, mapping the sinusoidal projection to the time
// embedding that every ResnetBlock2D receives.
// Reference: diffusers.models.embeddings.TimestepEmbedding (act_fn "silu", no cond projection,
// no post activation).
//
// Submodules: linear_1, linear_2. forward() throws on bad shapes.
#pragma once

#include <torch/nn/module.h>
#include <torch/nn/modules/linear.h>
#include <torch/nn/pimpl.h>

#include <cstdint>

namespace ldm::nn {

class TimestepEmbeddingImpl : public torch::nn::Module {
 public:
  TimestepEmbeddingImpl(int64_t in_channels, int64_t time_embed_dim);

  // x: [N, in_channels] -> [N, time_embed_dim].
  torch::Tensor forward(const torch::Tensor& x);

 private:
  torch::nn::Linear linear_1_{nullptr};
  torch::nn::Linear linear_2_{nullptr};
};
TORCH_MODULE(TimestepEmbedding);

}  // namespace ldm::nn
