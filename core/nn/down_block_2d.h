// DownBlock2D: num_layers ResnetBlock2Ds and an optional Downsample2D, keeping every output as a
// skip connection. Reference: diffusers.models.unets.unet_2d_blocks.DownBlock2D.
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

class DownBlock2DImpl : public torch::nn::Module {
 public:
  explicit DownBlock2DImpl(const UNetBlockOptions& options);

  // As CrossAttnDownBlock2D::forward without the context.
  torch::Tensor forward(const torch::Tensor& x, const torch::Tensor& temb,
                        std::vector<torch::Tensor>* skips);

 private:
  std::vector<ResnetBlock2D> resnets_;
  Downsample2D downsampler_{nullptr};
};
TORCH_MODULE(DownBlock2D);

}  // namespace ldm::nn
