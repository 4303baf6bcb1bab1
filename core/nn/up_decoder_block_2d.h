// UpDecoderBlock2D (VAE decoder): num_layers ResnetBlock2Ds without time embedding or skips, then
// an optional Upsample2D. Reference: diffusers.models.unets.unet_2d_blocks.UpDecoderBlock2D.
//
// Submodules: resnets.<i>, upsamplers.0.
#pragma once

#include <torch/nn/module.h>
#include <torch/nn/modules/container/modulelist.h>
#include <torch/nn/pimpl.h>

#include <vector>

#include "core/nn/resnet_block_2d.h"
#include "core/nn/unet_block_options.h"
#include "core/nn/upsample_2d.h"

namespace ldm::nn {

class UpDecoderBlock2DImpl : public torch::nn::Module {
 public:
  // Uses in/out_channels, num_layers, groups, eps, dropout, output_scale_factor, add_sampler.
  explicit UpDecoderBlock2DImpl(const UNetBlockOptions& options);

  torch::Tensor forward(const torch::Tensor& x);

 private:
  std::vector<ResnetBlock2D> resnets_;
  Upsample2D upsampler_{nullptr};
};
TORCH_MODULE(UpDecoderBlock2D);

}  // namespace ldm::nn
