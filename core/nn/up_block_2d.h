// UpBlock2D: num_layers x (concat skip -> ResnetBlock2D), then an optional Upsample2D.
// Reference: diffusers.models.unets.unet_2d_blocks.UpBlock2D.
//
// Submodules: resnets.<i>, upsamplers.0.
#pragma once

#include <torch/nn/module.h>
#include <torch/nn/modules/container/modulelist.h>
#include <torch/nn/pimpl.h>

#include <cstdint>
#include <vector>

#include "core/nn/resnet_block_2d.h"
#include "core/nn/unet_block_options.h"
#include "core/nn/upsample_2d.h"

namespace ldm::nn {

class UpBlock2DImpl : public torch::nn::Module {
 public:
  // Channel conventions as CrossAttnUpBlock2D.
  explicit UpBlock2DImpl(const UNetBlockOptions& options);

  // As CrossAttnUpBlock2D::forward without the context.
  torch::Tensor forward(const torch::Tensor& x, std::vector<torch::Tensor>* skips,
                        const torch::Tensor& temb, const std::vector<int64_t>& upsample_size = {});

  int64_t num_layers() const { return static_cast<int64_t>(resnets_.size()); }

 private:
  std::vector<ResnetBlock2D> resnets_;
  Upsample2D upsampler_{nullptr};
};
TORCH_MODULE(UpBlock2D);

}  // namespace ldm::nn
