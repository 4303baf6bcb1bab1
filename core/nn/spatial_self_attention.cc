#include "core/nn/spatial_self_attention.h"

#include <torch/torch.h>

#include "core/nn/functional.h"

namespace ldm::nn {

SpatialSelfAttentionImpl::SpatialSelfAttentionImpl(const SpatialSelfAttentionOptions& options)
    : options_(options) {
  const int64_t c = options_.channels;
  if (options_.dim_head == 0) options_.dim_head = c;
  TORCH_CHECK(options_.dim_head > 0 && c % options_.dim_head == 0, "SpatialSelfAttention: ", c,
              " channels are not divisible by dim_head ", options_.dim_head);
  heads_ = c / options_.dim_head;
  group_norm_ = register_module(
      "group_norm",
      torch::nn::GroupNorm(torch::nn::GroupNormOptions(options_.groups, c).eps(options_.eps)));
  to_q_ = register_module("to_q", torch::nn::Linear(c, c));
  to_k_ = register_module("to_k", torch::nn::Linear(c, c));
  to_v_ = register_module("to_v", torch::nn::Linear(c, c));
  out_proj_ = torch::nn::Linear(c, c);
  to_out_ = register_module("to_out", torch::nn::ModuleList(out_proj_, torch::nn::Dropout(0.0)));
}

torch::Tensor SpatialSelfAttentionImpl::forward(const torch::Tensor& x) {
  TORCH_CHECK(x.dim() == 4 && x.size(1) == options_.channels, "SpatialSelfAttention: expected [B, ",
              options_.channels, ", H, W], got ", x.sizes());
  const int64_t b = x.size(0), c = x.size(1), h = x.size(2), w = x.size(3);
  // GroupNorm on NCHW equals the reference's norm on [B, C, HW]; tokens are pixels.
  torch::Tensor tokens =
      group_norm_(NormInput(x, group_norm_->weight)).view({b, c, h * w}).transpose(1, 2);
  torch::Tensor q = to_q_(tokens);
  torch::Tensor k = to_k_(tokens);
  torch::Tensor v = to_v_(tokens);
  // upcast_softmax=True as in the reference block (matters only for half precision).
  torch::Tensor out = MultiHeadAttention(q, k, v, heads_, /*upcast_attention=*/false,
                                         /*upcast_softmax=*/true);
  out = out_proj_(out).transpose(1, 2).reshape({b, c, h, w});
  out = AddFresh(out, x);
  if (options_.rescale_output_factor != 1.0) out = out / options_.rescale_output_factor;
  return out;
}

}  // namespace ldm::nn
