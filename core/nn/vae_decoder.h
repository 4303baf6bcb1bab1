// VaeDecoder: the AutoencoderKL decoder, latents -> image.
// conv_in -> UNetMidBlock2D -> UpDecoderBlock2D per level (reversed widths, layers_per_block + 1
// resnets, upsampling on all but the last) -> GroupNorm -> SiLU -> conv_out.
// Reference: diffusers.models.autoencoders.vae.Decoder (norm_type "group", eps 1e-6).
//
// Submodules: conv_in, mid_block, up_blocks.<i>, conv_norm_out, conv_out.
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

#include "core/nn/unet_mid_block_2d.h"
#include "core/nn/up_decoder_block_2d.h"
#include "core/nn/vae_coder_options.h"

namespace ldm::nn {

class VaeDecoderImpl : public torch::nn::Module {
 public:
  explicit VaeDecoderImpl(const VaeCoderOptions& options);

  // z: [B, in_channels, h, w] -> [B, out_channels, h * 2^(levels-1), ...]. When `intermediates`
  // is non-null, records conv_in, mid_block and up_blocks.<i> outputs.
  torch::Tensor forward(const torch::Tensor& z,
                        std::map<std::string, torch::Tensor>* intermediates = nullptr);

 private:
  VaeCoderOptions options_;
  torch::nn::Conv2d conv_in_{nullptr};
  UNetMidBlock2D mid_block_{nullptr};
  std::vector<UpDecoderBlock2D> up_blocks_;
  torch::nn::GroupNorm conv_norm_out_{nullptr};
  torch::nn::Conv2d conv_out_{nullptr};
};
TORCH_MODULE(VaeDecoder);

}  // namespace ldm::nn
