// Stateless tensor helpers shared by the core/nn building blocks.
//
// All functions are pure (no global state) and thread-safe. They throw c10::Error on bad shapes;
// callers at public boundaries wrap them in ldm::TorchGuard.
#pragma once

#include <torch/types.h>

#include <cstdint>

namespace ldm::nn {

// True when `x` may be overwritten in place without breaking autograd: grad mode is off or `x`
// does not require grad. Only call the *Fresh helpers on temporaries the caller owns exclusively.
bool CanModifyInPlace(const torch::Tensor& x);

// silu(x); reuses `x`'s storage when CanModifyInPlace(x). `x` must be a fresh temporary.
torch::Tensor SiluFresh(torch::Tensor x);

// x + y; accumulates into `x` when CanModifyInPlace(x) and the result has x's shape and dtype.
// `x` must be a fresh temporary.
torch::Tensor AddFresh(torch::Tensor x, const torch::Tensor& y);

// The input of a normalisation layer with weight `weight`: `x` itself when the dtypes match (or
// `weight` is undefined), else `x` cast to the weight's dtype. Under mixed precision (autocast)
// convolutions and linears return bfloat16/float16 while the norms' weights stay float32, and
// libtorch 1.13's CPU group_norm and layer_norm refuse mixed dtypes; the statistics are then
// computed in float32. A no-op at inference, where activations and weights share a dtype.
torch::Tensor NormInput(const torch::Tensor& x, const torch::Tensor& weight);

// The attention probabilities softmax(q k^T / sqrt(d)) per head, computed explicitly in float32
// (differentiable): q [B, Lq, H*D], k [B, Lk, H*D] -> [B, H, Lq, Lk]. For training-time
// instrumentation (e.g. losses on cross-attention maps); inference uses MultiHeadAttention.
torch::Tensor AttentionProbabilities(const torch::Tensor& q, const torch::Tensor& k, int64_t heads);

// Multi-head attention computed explicitly from AttentionProbabilities (float32, differentiable):
// the output [B, Lq, H*D] in q's dtype and the probabilities [B, H, Lq, Lk] it was made from.
// v must have k's shape. For training-time instrumentation; inference uses MultiHeadAttention.
struct ExplicitAttention {
  torch::Tensor output;
  torch::Tensor probabilities;
};
ExplicitAttention MultiHeadAttentionWithProbabilities(const torch::Tensor& q,
                                                      const torch::Tensor& k,
                                                      const torch::Tensor& v, int64_t heads);

// Multi-head scaled dot-product attention, softmax(q k^T / sqrt(d)) v, per head.
//   q: [B, Lq, H*D]; k, v: [B, Lk, H*D] -> [B, Lq, H*D] in q's dtype.
// `upcast_attention`: for half/bfloat16 inputs the scores (and softmax) are computed in float32
// (diffusers' upcast_attention). `upcast_softmax`: only the softmax runs in float32.
// Uses at::scaled_dot_product_attention with libtorch >= 2, else batched matmuls over chunks of
// (batch, head) slices (and of query rows for very long sequences) so that the score matrix of
// one chunk stays below ~64M elements.
torch::Tensor MultiHeadAttention(const torch::Tensor& q, const torch::Tensor& k,
                                 const torch::Tensor& v, int64_t heads, bool upcast_attention,
                                 bool upcast_softmax);

}  // namespace ldm::nn
