// BasicTransformerBlock: pre-LayerNorm self-attention, cross-attention and GEGLU feed-forward,
// each with a residual connection.
// Reference: diffusers.models.attention.BasicTransformerBlock with norm_type="layer_norm",
// only_cross_attention=False, double_self_attention=False, attention_bias=False (the SD 1.x/2.x
// setting); Rombach et al. 2022, "High-Resolution Image Synthesis with Latent Diffusion Models".
//
// Submodules: norm1, attn1, norm2, attn2, norm3, ff.
#pragma once

#include <torch/nn/module.h>
#include <torch/nn/modules/normalization.h>
#include <torch/nn/pimpl.h>

#include <cstdint>

#include "core/nn/attention.h"
#include "core/nn/feed_forward.h"

namespace ldm::nn {

struct BasicTransformerBlockOptions {
  int64_t dim = 0;
  int64_t heads = 8;
  int64_t dim_head = 64;
  int64_t cross_attention_dim = 0;  // required (> 0): UNet blocks always cross-attend
  double dropout = 0.0;
  bool upcast_attention = false;
};

class BasicTransformerBlockImpl : public torch::nn::Module {
 public:
  explicit BasicTransformerBlockImpl(const BasicTransformerBlockOptions& options);

  // x: [B, L, dim]; context: [B, Lc, cross_attention_dim]. Returns [B, L, dim].
  torch::Tensor forward(const torch::Tensor& x, const torch::Tensor& context);

 private:
  torch::nn::LayerNorm norm1_{nullptr};
  Attention attn1_{nullptr};
  torch::nn::LayerNorm norm2_{nullptr};
  Attention attn2_{nullptr};
  torch::nn::LayerNorm norm3_{nullptr};
  FeedForward ff_{nullptr};
};
TORCH_MODULE(BasicTransformerBlock);

}  // namespace ldm::nn
