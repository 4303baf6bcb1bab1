// ResnetBlock2D: GroupNorm -> SiLU -> 3x3 conv (+ projected time embedding) -> GroupNorm -> SiLU ->
// dropout -> 3x3 conv, plus a (1x1-projected when channels change) skip connection.
// Reference: diffusers.models.resnet.ResnetBlock2D with time_embedding_norm="default"
// (Ho et al. 2020, "Denoising Diffusion Probabilistic Models", appendix B).
//
// Submodule names equal the diffusers state_dict keys: norm1, conv1, time_emb_proj (only with a
// time embedding), norm2, conv2, conv_shortcut (only when in != out channels).
// forward() throws c10::Error on shape mismatches. Not thread-safe for concurrent training;
// concurrent forward() calls in inference are fine.
#pragma once

#include <torch/nn/module.h>
#include <torch/nn/modules/conv.h>
#include <torch/nn/modules/dropout.h>
#include <torch/nn/modules/linear.h>
#include <torch/nn/modules/normalization.h>
#include <torch/nn/pimpl.h>

#include <cstdint>

namespace ldm::nn {

struct ResnetBlock2DOptions {
  int64_t in_channels = 0;
  int64_t out_channels = 0;   // 0: same as in_channels
  int64_t temb_channels = 0;  // 0: no time embedding (VAE blocks)
  int64_t groups = 32;        // GroupNorm groups of both norms
  double eps = 1e-6;
  double dropout = 0.0;
  double output_scale_factor = 1.0;  // the sum is divided by this
};

class ResnetBlock2DImpl : public torch::nn::Module {
 public:
  explicit ResnetBlock2DImpl(const ResnetBlock2DOptions& options);

  // x: [B, in, H, W]; temb: [B, temb_channels] or undefined when the block has no time embedding.
  // Returns [B, out, H, W].
  torch::Tensor forward(const torch::Tensor& x, const torch::Tensor& temb = {});

  const ResnetBlock2DOptions& options() const { return options_; }

 private:
  ResnetBlock2DOptions options_;
  torch::nn::GroupNorm norm1_{nullptr};
  torch::nn::Conv2d conv1_{nullptr};
  torch::nn::Linear time_emb_proj_{nullptr};
  torch::nn::GroupNorm norm2_{nullptr};
  torch::nn::Dropout dropout_{nullptr};
  torch::nn::Conv2d conv2_{nullptr};
  torch::nn::Conv2d conv_shortcut_{nullptr};
};
TORCH_MODULE(ResnetBlock2D);

}  // namespace ldm::nn
