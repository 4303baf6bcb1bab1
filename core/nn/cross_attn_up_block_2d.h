// CrossAttnUpBlock2D: num_layers x (concat skip -> ResnetBlock2D -> Transformer2DModel), then an
// optional Upsample2D. Skips are consumed from the back of the list (the mirror of the down path).
// Reference: diffusers.models.unets.unet_2d_blocks.CrossAttnUpBlock2D.
//
// Submodules: resnets.<i>, attentions.<i>, upsamplers.0.
#pragma once

#include <torch/nn/module.h>
#include <torch/nn/modules/container/modulelist.h>
#include <torch/nn/pimpl.h>

#include <cstdint>
#include <vector>

#include "core/nn/resnet_block_2d.h"
#include "core/nn/transformer_2d_model.h"
#include "core/nn/unet_block_options.h"
#include "core/nn/upsample_2d.h"

namespace ldm::nn {

class CrossAttnUpBlock2DImpl : public torch::nn::Module {
 public:
  // in_channels: width of the skip consumed by the last layer; prev_output_channels: width of
  // the incoming hidden state; out_channels: the block's width.
  explicit CrossAttnUpBlock2DImpl(const UNetBlockOptions& options);

  // Pops num_layers tensors from the back of `skips` (non-null). `upsample_size` ({H, W}) sets
  // the upsampler's output size; empty doubles H and W.
  torch::Tensor forward(const torch::Tensor& x, std::vector<torch::Tensor>* skips,
                        const torch::Tensor& temb, const torch::Tensor& context,
                        const std::vector<int64_t>& upsample_size = {});

  int64_t num_layers() const { return static_cast<int64_t>(resnets_.size()); }

 private:
  std::vector<ResnetBlock2D> resnets_;
  std::vector<Transformer2DModel> attentions_;
  Upsample2D upsampler_{nullptr};
};
TORCH_MODULE(CrossAttnUpBlock2D);

}  // namespace ldm::nn
