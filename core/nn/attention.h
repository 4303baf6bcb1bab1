// Attention: multi-head self- or cross-attention with separate q/k/v projections.
// Reference: diffusers.models.attention_processor.Attention with the default processor
// (AttnProcessor / AttnProcessor2_0), as used by BasicTransformerBlock; Vaswani et al. 2017.
//
//   out = to_out.0( MHA(to_q(x), to_k(ctx), to_v(ctx)) ), ctx = x for self-attention.
// Submodules: to_q, to_k, to_v (bias per `bias`), to_out.0 (Linear, bias per `out_bias`) and
// to_out.1 (Dropout, no parameters).
// forward() throws c10::Error on bad shapes.
//
// Training instrumentation: with a probability sink set, forward() computes the attention
// explicitly (AttentionProbabilities, float32) and appends the probabilities [B, heads, Lq, Lk],
// still attached to autograd, to the sink; the output equals the default path's up to rounding.
// The sink is not owned and must outlive its use; not thread-safe (set it around one forward).
#pragma once

#include <torch/nn/module.h>
#include <torch/nn/modules/container/modulelist.h>
#include <torch/nn/modules/dropout.h>
#include <torch/nn/modules/linear.h>
#include <torch/nn/pimpl.h>

#include <cstdint>
#include <vector>

namespace ldm::nn {

struct AttentionOptions {
  int64_t query_dim = 0;
  int64_t cross_attention_dim = 0;  // 0: self-attention (keys/values from the query input)
  int64_t heads = 8;
  int64_t dim_head = 64;
  double dropout = 0.0;
  bool bias = false;  // q/k/v projections
  bool out_bias = true;
  // For half/bfloat16 weights: compute the attention scores in float32.
  bool upcast_attention = false;
  // For half/bfloat16 weights: run the softmax in float32.
  bool upcast_softmax = false;
};

class AttentionImpl : public torch::nn::Module {
 public:
  explicit AttentionImpl(const AttentionOptions& options);

  // x: [B, L, query_dim]; context: [B, Lc, cross_attention_dim] for cross-attention, ignored
  // (may be undefined) for self-attention. Returns [B, L, query_dim].
  torch::Tensor forward(const torch::Tensor& x, const torch::Tensor& context = {});

  const AttentionOptions& options() const { return options_; }
  bool is_cross_attention() const { return options_.cross_attention_dim > 0; }

  // nullptr (the default) turns recording off.
  void set_probability_sink(std::vector<torch::Tensor>* sink) { probability_sink_ = sink; }

 private:
  AttentionOptions options_;
  std::vector<torch::Tensor>* probability_sink_ = nullptr;
  torch::nn::Linear to_q_{nullptr};
  torch::nn::Linear to_k_{nullptr};
  torch::nn::Linear to_v_{nullptr};
  torch::nn::ModuleList to_out_{nullptr};
  torch::nn::Linear out_proj_{nullptr};  // to_out[0], kept typed for the hot path
  torch::nn::Dropout out_dropout_{nullptr};
};
TORCH_MODULE(Attention);

}  // namespace ldm::nn
