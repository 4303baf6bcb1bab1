#include "core/nn/attention.h"

#include <torch/torch.h>

#include "core/nn/functional.h"

namespace ldm::nn {

AttentionImpl::AttentionImpl(const AttentionOptions& options) : options_(options) {
  const int64_t inner = options_.heads * options_.dim_head;
  const int64_t kv_dim =
      options_.cross_attention_dim > 0 ? options_.cross_attention_dim : options_.query_dim;
  to_q_ = register_module(
      "to_q",
      torch::nn::Linear(torch::nn::LinearOptions(options_.query_dim, inner).bias(options_.bias)));
  to_k_ = register_module(
      "to_k", torch::nn::Linear(torch::nn::LinearOptions(kv_dim, inner).bias(options_.bias)));
  to_v_ = register_module(
      "to_v", torch::nn::Linear(torch::nn::LinearOptions(kv_dim, inner).bias(options_.bias)));
  out_proj_ = torch::nn::Linear(
      torch::nn::LinearOptions(inner, options_.query_dim).bias(options_.out_bias));
  out_dropout_ = torch::nn::Dropout(options_.dropout);
  to_out_ = register_module("to_out", torch::nn::ModuleList(out_proj_, out_dropout_));
}

torch::Tensor AttentionImpl::forward(const torch::Tensor& x, const torch::Tensor& context) {
  TORCH_CHECK(x.dim() == 3, "Attention: expected [B, L, C] input, got ", x.sizes());
  const bool cross = options_.cross_attention_dim > 0;
  TORCH_CHECK(!cross || context.defined(), "Attention: cross-attention needs a context");
  const torch::Tensor& kv_source = cross ? context : x;
  torch::Tensor q = to_q_(x);
  torch::Tensor k = to_k_(kv_source);
  torch::Tensor v = to_v_(kv_source);
  torch::Tensor h;
  if (probability_sink_ != nullptr) {
    ExplicitAttention a = MultiHeadAttentionWithProbabilities(q, k, v, options_.heads);
    probability_sink_->push_back(a.probabilities);
    h = a.output;
  } else {
    h = MultiHeadAttention(q, k, v, options_.heads, options_.upcast_attention,
                           options_.upcast_softmax);
  }
  h = out_proj_(h);
  if (options_.dropout > 0.0) h = out_dropout_(h);
  return h;
}

}  // namespace ldm::nn
