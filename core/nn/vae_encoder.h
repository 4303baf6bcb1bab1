// VaeEncoder: the AutoencoderKL encoder, image -> 2 * latent_channels moments (mean, logvar).
// conv_in -> DownEncoderBlock2D per level (downsampling on all but the last) -> UNetMidBlock2D
// -> GroupNorm -> SiLU -> conv_out.
// Reference: diffusers.models.autoencoders.vae.Encoder (double_z=True, eps 1e-6, mid-block
// attention on); Esser et al. 2021 / Rombach et al. 2022.
//
// Submodules: conv_in, down_blocks.<i>, mid_block, conv_norm_out, conv_out.
#pragma once

#include <torch/nn/module.h>
#include <torch/nn/modules/container/modulelist.h>
#include <torch/nn/modules/conv.h>
#include <torch/nn/modules/normalization.h>
#include <torch/nn/pimpl.h>

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "core/nn/down_encoder_block_2d.h"
#include "core/nn/unet_mid_block_2d.h"
#include "core/nn/vae_coder_options.h"

namespace ldm::nn {

class VaeEncoderImpl : public torch::nn::Module {
 public:
  explicit VaeEncoderImpl(const VaeCoderOptions& options);

  // x: [B, in_channels, H, W] -> [B, 2 * out_channels, H / 2^(levels-1), ...]. When
  // `intermediates` is non-null, records conv_in, down_blocks.<i> and mid_block outputs.
  torch::Tensor forward(const torch::Tensor& x,
                        std::map<std::string, torch::Tensor>* intermediates = nullptr);

 private:
  VaeCoderOptions options_;
  torch::nn::Conv2d conv_in_{nullptr};
  std::vector<DownEncoderBlock2D> down_blocks_;
  UNetMidBlock2D mid_block_{nullptr};
  torch::nn::GroupNorm conv_norm_out_{nullptr};
  torch::nn::Conv2d conv_out_{nullptr};
};
TORCH_MODULE(VaeEncoder);

}  // namespace ldm::nn
