// Transformer2DModel: the spatial transformer of the UNet. GroupNorm, project channels to
// heads * dim_head (1x1 conv, or a Linear on tokens with use_linear_projection), run
// `num_layers` BasicTransformerBlocks over the H*W tokens, project back and add the input.
// Reference: diffusers.models.transformers.transformer_2d.Transformer2DModel for continuous
// inputs (Rombach et al. 2022, "SpatialTransformer").
//
// Submodules: norm, proj_in, transformer_blocks.<i>, proj_out.
#pragma once

#include <torch/nn/module.h>
#include <torch/nn/modules/container/modulelist.h>
#include <torch/nn/modules/conv.h>
#include <torch/nn/modules/linear.h>
#include <torch/nn/modules/normalization.h>
#include <torch/nn/pimpl.h>

#include <cstdint>
#include <vector>

#include "core/nn/basic_transformer_block.h"

namespace ldm::nn {

struct Transformer2DModelOptions {
  int64_t in_channels = 0;
  int64_t heads = 8;
  int64_t dim_head = 64;
  int64_t num_layers = 1;
  int64_t cross_attention_dim = 0;
  int64_t groups = 32;
  double dropout = 0.0;
  bool use_linear_projection = false;
  bool upcast_attention = false;
};

class Transformer2DModelImpl : public torch::nn::Module {
 public:
  explicit Transformer2DModelImpl(const Transformer2DModelOptions& options);

  // x: [B, in_channels, H, W]; context: [B, Lc, cross_attention_dim]. Returns x's shape.
  torch::Tensor forward(const torch::Tensor& x, const torch::Tensor& context);

 private:
  Transformer2DModelOptions options_;
  torch::nn::GroupNorm norm_{nullptr};
  torch::nn::Conv2d proj_in_conv_{nullptr};
  torch::nn::Linear proj_in_linear_{nullptr};
  torch::nn::ModuleList transformer_blocks_{nullptr};
  std::vector<BasicTransformerBlock> blocks_;  // typed view of transformer_blocks_
  torch::nn::Conv2d proj_out_conv_{nullptr};
  torch::nn::Linear proj_out_linear_{nullptr};
};
TORCH_MODULE(Transformer2DModel);

}  // namespace ldm::nn
