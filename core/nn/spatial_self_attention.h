// SpatialSelfAttention: the single-head self-attention over all pixels used in the VAE mid block,
// with its own GroupNorm and a residual connection: x + to_out.0(MHA(to_q/k/v(norm(x)))).
// Reference: diffusers.models.attention_processor.Attention as built by UNetMidBlock2D
// (group_norm, residual_connection=True, bias=True, upcast_softmax=True, heads = C / dim_head),
// i.e. the LDM "AttnBlock" under the current diffusers key names.
//
// Submodules: group_norm, to_q, to_k, to_v, to_out.0 (Linear), to_out.1 (Dropout).
// forward() throws c10::Error on bad shapes.
#pragma once

#include <torch/nn/module.h>
#include <torch/nn/modules/container/modulelist.h>
#include <torch/nn/modules/dropout.h>
#include <torch/nn/modules/linear.h>
#include <torch/nn/modules/normalization.h>
#include <torch/nn/pimpl.h>

#include <cstdint>

namespace ldm::nn {

struct SpatialSelfAttentionOptions {
  int64_t channels = 0;
  int64_t dim_head = 0;  // 0: one head over all channels (what AutoencoderKL uses)
  int64_t groups = 32;
  double eps = 1e-6;
  double rescale_output_factor = 1.0;
};

class SpatialSelfAttentionImpl : public torch::nn::Module {
 public:
  explicit SpatialSelfAttentionImpl(const SpatialSelfAttentionOptions& options);

  // x: [B, C, H, W] -> [B, C, H, W].
  torch::Tensor forward(const torch::Tensor& x);

 private:
  SpatialSelfAttentionOptions options_;
  int64_t heads_ = 1;
  torch::nn::GroupNorm group_norm_{nullptr};
  torch::nn::Linear to_q_{nullptr};
  torch::nn::Linear to_k_{nullptr};
  torch::nn::Linear to_v_{nullptr};
  torch::nn::ModuleList to_out_{nullptr};
  torch::nn::Linear out_proj_{nullptr};
};
TORCH_MODULE(SpatialSelfAttention);

}  // namespace ldm::nn
