#include "core/nn/basic_transformer_block.h"

#include <torch/torch.h>

#include "core/nn/functional.h"

namespace ldm::nn {

BasicTransformerBlockImpl::BasicTransformerBlockImpl(const BasicTransformerBlockOptions& options) {
  TORCH_CHECK(options.cross_attention_dim > 0,
              "BasicTransformerBlock: cross_attention_dim must be positive");
  auto layer_norm = [&]() {
    return torch::nn::LayerNorm(
        torch::nn::LayerNormOptions({options.dim}).eps(1e-5).elementwise_affine(true));
  };
  AttentionOptions attn;
  attn.query_dim = options.dim;
  attn.heads = options.heads;
  attn.dim_head = options.dim_head;
  attn.dropout = options.dropout;
  attn.upcast_attention = options.upcast_attention;
  norm1_ = register_module("norm1", layer_norm());
  attn1_ = register_module("attn1", Attention(attn));
  norm2_ = register_module("norm2", layer_norm());
  attn.cross_attention_dim = options.cross_attention_dim;
  attn2_ = register_module("attn2", Attention(attn));
  norm3_ = register_module("norm3", layer_norm());
  ff_ = register_module(
      "ff", FeedForward(FeedForwardOptions{.dim = options.dim, .dropout = options.dropout}));
}

torch::Tensor BasicTransformerBlockImpl::forward(const torch::Tensor& x,
                                                 const torch::Tensor& context) {
  // Each sub-layer output is a fresh tensor, so the residual is accumulated into it.
  torch::Tensor h = AddFresh(attn1_(norm1_(NormInput(x, norm1_->weight))), x);
  h = AddFresh(attn2_(norm2_(NormInput(h, norm2_->weight)), context), h);
  return AddFresh(ff_(norm3_(NormInput(h, norm3_->weight))), h);
}

}  // namespace ldm::nn
