// UNetMidBlock2DCrossAttn: ResnetBlock2D, then num_layers x (Transformer2DModel ->
// ResnetBlock2D), all at the deepest resolution and width (in_channels).
// Reference: diffusers.models.unets.unet_2d_blocks.UNetMidBlock2DCrossAttn.
//
// Submodules: resnets.<i> (num_layers + 1), attentions.<i>.
#pragma once

#include <torch/nn/module.h>
#include <torch/nn/modules/container/modulelist.h>
#include <torch/nn/pimpl.h>

#include <vector>

#include "core/nn/resnet_block_2d.h"
#include "core/nn/transformer_2d_model.h"
#include "core/nn/unet_block_options.h"

namespace ldm::nn {

class UNetMidBlock2DCrossAttnImpl : public torch::nn::Module {
 public:
  // Uses options.in_channels (out_channels is ignored), num_layers (1 in diffusers' UNet).
  explicit UNetMidBlock2DCrossAttnImpl(const UNetBlockOptions& options);

  torch::Tensor forward(const torch::Tensor& x, const torch::Tensor& temb,
                        const torch::Tensor& context);

 private:
  std::vector<ResnetBlock2D> resnets_;
  std::vector<Transformer2DModel> attentions_;
};
TORCH_MODULE(UNetMidBlock2DCrossAttn);

}  // namespace ldm::nn
