#include "core/nn/timestep_embedding.h"

#include <torch/torch.h>

#include "core/nn/functional.h"

namespace ldm::nn {

TimestepEmbeddingImpl::TimestepEmbeddingImpl(int64_t in_channels, int64_t time_embed_dim) {
  linear_1_ = register_module("linear_1", torch::nn::Linear(in_channels, time_embed_dim));
  linear_2_ = register_module("linear_2", torch::nn::Linear(time_embed_dim, time_embed_dim));
}

torch::Tensor TimestepEmbeddingImpl::forward(const torch::Tensor& x) {
  return linear_2_(SiluFresh(linear_1_(x)));
}

}  // namespace ldm::nn
