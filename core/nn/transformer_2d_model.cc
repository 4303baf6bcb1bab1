#include "core/nn/transformer_2d_model.h"

#include <torch/torch.h>

#include "core/nn/functional.h"

namespace ldm::nn {

Transformer2DModelImpl::Transformer2DModelImpl(const Transformer2DModelOptions& options)
    : options_(options) {
  const int64_t c = options_.in_channels;
  const int64_t inner = options_.heads * options_.dim_head;
  // eps 1e-6 is fixed in the reference, independent of the UNet's norm_eps.
  norm_ = register_module(
      "norm", torch::nn::GroupNorm(torch::nn::GroupNormOptions(options_.groups, c).eps(1e-6)));
  if (options_.use_linear_projection) {
    proj_in_linear_ = register_module("proj_in", torch::nn::Linear(c, inner));
  } else {
    proj_in_conv_ =
        register_module("proj_in", torch::nn::Conv2d(torch::nn::Conv2dOptions(c, inner, 1)));
  }
  transformer_blocks_ = register_module("transformer_blocks", torch::nn::ModuleList());
  for (int64_t i = 0; i < options_.num_layers; ++i) {
    blocks_.push_back(BasicTransformerBlock(
        BasicTransformerBlockOptions{.dim = inner,
                                     .heads = options_.heads,
                                     .dim_head = options_.dim_head,
                                     .cross_attention_dim = options_.cross_attention_dim,
                                     .dropout = options_.dropout,
                                     .upcast_attention = options_.upcast_attention}));
    transformer_blocks_->push_back(blocks_.back());
  }
  if (options_.use_linear_projection) {
    proj_out_linear_ = register_module("proj_out", torch::nn::Linear(inner, c));
  } else {
    proj_out_conv_ =
        register_module("proj_out", torch::nn::Conv2d(torch::nn::Conv2dOptions(inner, c, 1)));
  }
}

torch::Tensor Transformer2DModelImpl::forward(const torch::Tensor& x,
                                              const torch::Tensor& context) {
  TORCH_CHECK(x.dim() == 4 && x.size(1) == options_.in_channels,
              "Transformer2DModel: expected [B, ", options_.in_channels, ", H, W], got ",
              x.sizes());
  const int64_t b = x.size(0), h = x.size(2), w = x.size(3);
  torch::Tensor t = norm_(NormInput(x, norm_->weight));
  // NCHW -> tokens [B, HW, C]. The reshape of the permuted tensor is the one copy per direction.
  if (options_.use_linear_projection) {
    t = t.permute({0, 2, 3, 1}).reshape({b, h * w, options_.in_channels});
    t = proj_in_linear_(t);
  } else {
    t = proj_in_conv_(t);
    t = t.permute({0, 2, 3, 1}).reshape({b, h * w, t.size(1)});
  }
  for (auto& block : blocks_) t = block(t, context);
  const int64_t inner = t.size(2);
  if (options_.use_linear_projection) {
    t = proj_out_linear_(t);
    t = t.reshape({b, h, w, options_.in_channels}).permute({0, 3, 1, 2}).contiguous();
  } else {
    t = t.reshape({b, h, w, inner}).permute({0, 3, 1, 2}).contiguous();
    t = proj_out_conv_(t);
  }
  return AddFresh(t, x);
}

}  // namespace ldm::nn
