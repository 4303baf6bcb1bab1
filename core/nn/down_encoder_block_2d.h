// DownEncoderBlock2D (VAE encoder): num_layers ResnetBlock2Ds without time embedding, then an
// optional Downsample2D (padding 0, i.e. the asymmetric pad).
// Reference: diffusers.models.unets.unet_2d_blocks.DownEncoderBlock2D.
//
// Submodules: resnets.<i>, downsamplers.0.
#pragma once

#include <torch/nn/module.h>
#include <torch/nn/modules/container/modulelist.h>
#include <torch/nn/pimpl.h>

#include <vector>

#include "core/nn/downsample_2d.h"
#include "core/nn/resnet_block_2d.h"
#include "core/nn/unet_block_options.h"

namespace ldm::nn {

class DownEncoderBlock2DImpl : public torch::nn::Module {
 public:
  // Uses in/out_channels, num_layers, groups, eps, dropout, output_scale_factor, add_sampler,
  // downsample_padding.
  explicit DownEncoderBlock2DImpl(const UNetBlockOptions& options);

  torch::Tensor forward(const torch::Tensor& x);

 private:
  std::vector<ResnetBlock2D> resnets_;
  Downsample2D downsampler_{nullptr};
};
TORCH_MODULE(DownEncoderBlock2D);

}  // namespace ldm::nn
