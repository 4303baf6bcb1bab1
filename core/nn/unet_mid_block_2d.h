// UNetMidBlock2D (VAE): ResnetBlock2D -> SpatialSelfAttention -> ResnetBlock2D, without a time
// embedding. Reference: diffusers.models.unets.unet_2d_blocks.UNetMidBlock2D as built by the
// AutoencoderKL Encoder/Decoder (temb_channels=None, add_attention=True,
// attention_head_dim = channels, i.e. one head).
//
// Submodules: resnets.0, attentions.0, resnets.1.
#pragma once

#include <torch/nn/module.h>
#include <torch/nn/modules/container/modulelist.h>
#include <torch/nn/pimpl.h>

#include <vector>

#include "core/nn/resnet_block_2d.h"
#include "core/nn/spatial_self_attention.h"
#include "core/nn/unet_block_options.h"

namespace ldm::nn {

class UNetMidBlock2DImpl : public torch::nn::Module {
 public:
  // Uses in_channels, groups, eps, dropout, output_scale_factor, num_layers (attention+resnet
  // pairs after the first resnet; 1 in AutoencoderKL). temb_channels must be 0.
  explicit UNetMidBlock2DImpl(const UNetBlockOptions& options);

  torch::Tensor forward(const torch::Tensor& x);

 private:
  std::vector<ResnetBlock2D> resnets_;
  std::vector<SpatialSelfAttention> attentions_;
};
TORCH_MODULE(UNetMidBlock2D);

}  // namespace ldm::nn
