// CrossAttnDownBlock2D: num_layers x (ResnetBlock2D -> Transformer2DModel), then an optional
// Downsample2D. Every layer's output (and the downsampled one) is kept as a skip connection.
// Reference: diffusers.models.unets.unet_2d_blocks.CrossAttnDownBlock2D.
//
// Submodules: resnets.<i>, attentions.<i>, downsamplers.0.
#pragma once

#include <torch/nn/module.h>
#include <torch/nn/modules/container/modulelist.h>
#include <torch/nn/pimpl.h>

#include <vector>

#include "core/nn/downsample_2d.h"
#include "core/nn/resnet_block_2d.h"
#include "core/nn/transformer_2d_model.h"
#include "core/nn/unet_block_options.h"

namespace ldm::nn {

class CrossAttnDownBlock2DImpl : public torch::nn::Module {
 public:
  explicit CrossAttnDownBlock2DImpl(const UNetBlockOptions& options);

  // x: [B, in, H, W]; temb: [B, temb]; context: [B, L, cross_dim]. Appends num_layers (+1 with a
  // downsampler) skip tensors to `skips` (non-null) and returns the block output.
  torch::Tensor forward(const torch::Tensor& x, const torch::Tensor& temb,
                        const torch::Tensor& context, std::vector<torch::Tensor>* skips);

 private:
  std::vector<ResnetBlock2D> resnets_;
  std::vector<Transformer2DModel> attentions_;
  Downsample2D downsampler_{nullptr};
};
TORCH_MODULE(CrossAttnDownBlock2D);

}  // namespace ldm::nn
