#include "core/nn/functional.h"

#include <torch/torch.h>
#include <torch/version.h>

#include <algorithm>
#include <cmath>
#include <vector>

namespace ldm::nn {
namespace {

bool IsReducedPrecision(torch::ScalarType t) { return t == torch::kHalf || t == torch::kBFloat16; }

// [B, L, H*D] -> [B, H, L, D] in float32 (a view when t is float32 already).
torch::Tensor SplitHeadsFloat(const torch::Tensor& t, int64_t heads) {
  return t.to(torch::kFloat).view({t.size(0), t.size(1), heads, t.size(2) / heads}).transpose(1, 2);
}

}  // namespace

bool CanModifyInPlace(const torch::Tensor& x) {
  return !(torch::GradMode::is_enabled() && x.requires_grad());
}

torch::Tensor SiluFresh(torch::Tensor x) {
  if (CanModifyInPlace(x)) return torch::silu_(x);
  return torch::silu(x);
}

torch::Tensor AddFresh(torch::Tensor x, const torch::Tensor& y) {
  const bool no_graph =
      !torch::GradMode::is_enabled() || (!x.requires_grad() && !y.requires_grad());
  if (no_graph && x.scalar_type() == y.scalar_type() && x.dim() >= y.dim() &&
      c10::IntArrayRef(torch::infer_size(x.sizes(), y.sizes())) == x.sizes()) {
    // Also covers broadcasting y into x, e.g. a [B, C, 1, 1] time embedding.
    return x.add_(y);
  }
  return x + y;
}

torch::Tensor NormInput(const torch::Tensor& x, const torch::Tensor& weight) {
  if (!weight.defined() || x.scalar_type() == weight.scalar_type()) return x;
  return x.to(weight.scalar_type());
}

torch::Tensor AttentionProbabilities(const torch::Tensor& q, const torch::Tensor& k,
                                     int64_t heads) {
  TORCH_CHECK(q.dim() == 3 && k.dim() == 3 && q.size(0) == k.size(0) && q.size(2) == k.size(2),
              "AttentionProbabilities: q and k must be [B, L, H*D] of one width, got ", q.sizes(),
              " and ", k.sizes());
  const int64_t inner = q.size(2);
  TORCH_CHECK(heads > 0 && inner % heads == 0, "attention width ", inner,
              " is not divisible by the number of heads ", heads);
  const double d = static_cast<double>(inner / heads);
  return torch::softmax(
      torch::matmul(SplitHeadsFloat(q, heads), SplitHeadsFloat(k, heads).transpose(2, 3)) /
          std::sqrt(d),
      -1);
}

ExplicitAttention MultiHeadAttentionWithProbabilities(const torch::Tensor& q,
                                                      const torch::Tensor& k,
                                                      const torch::Tensor& v, int64_t heads) {
  TORCH_CHECK(v.dim() == 3 && v.sizes() == k.sizes(),
              "MultiHeadAttentionWithProbabilities: v must have k's shape, got ", v.sizes(),
              " and ", k.sizes());
  ExplicitAttention out;
  out.probabilities = AttentionProbabilities(q, k, heads);
  const int64_t b = q.size(0), lq = q.size(1), inner = q.size(2);
  out.output = torch::matmul(out.probabilities, SplitHeadsFloat(v, heads))
                   .transpose(1, 2)
                   .reshape({b, lq, inner})
                   .to(q.scalar_type());
  return out;
}

torch::Tensor MultiHeadAttention(const torch::Tensor& q, const torch::Tensor& k,
                                 const torch::Tensor& v, int64_t heads, bool upcast_attention,
                                 bool upcast_softmax) {
  TORCH_CHECK(q.dim() == 3 && k.dim() == 3 && v.dim() == 3,
              "MultiHeadAttention expects [B, L, H*D] tensors");
  const int64_t b = q.size(0);
  const int64_t lq = q.size(1);
  const int64_t inner = q.size(2);
  const int64_t lk = k.size(1);
  TORCH_CHECK(heads > 0 && inner % heads == 0, "attention width ", inner,
              " is not divisible by the number of heads ", heads);
  TORCH_CHECK(k.size(0) == b && v.size(0) == b && k.size(2) == inner && v.size(2) == inner &&
                  v.size(1) == lk,
              "attention q/k/v shapes do not match: ", q.sizes(), " ", k.sizes(), " ", v.sizes());
  const int64_t d = inner / heads;
  const torch::ScalarType dtype = q.scalar_type();
  const bool reduced = IsReducedPrecision(dtype);

#if TORCH_VERSION_MAJOR >= 2
  // [B, L, H*D] -> [B, H, L, D] as a strided view; SDPA handles the strides without copying.
  auto split = [&](const torch::Tensor& t, int64_t len) {
    return t.view({b, len, heads, d}).transpose(1, 2);
  };
  torch::Tensor qh = split(q, lq);
  torch::Tensor kh = split(k, lk);
  torch::Tensor vh = split(v, lk);
  if (reduced && upcast_attention) {
    qh = qh.to(torch::kFloat);
    kh = kh.to(torch::kFloat);
    vh = vh.to(torch::kFloat);
  }
  // The default scale 1/sqrt(D) is the one diffusers' Attention uses (dim_head ** -0.5).
  torch::Tensor out = at::scaled_dot_product_attention(qh, kh, vh);
  return out.transpose(1, 2).reshape({b, lq, inner}).to(dtype);
#else
  // Folding heads into the batch needs one copy of q, k and v (small next to the L x L scores).
  auto split = [&](const torch::Tensor& t, int64_t len) {
    return t.view({b, len, heads, d}).transpose(1, 2).reshape({b * heads, len, d});
  };
  torch::Tensor qh = split(q, lq);
  torch::Tensor kt = split(k, lk).transpose(1, 2);  // [BH, D, Lk], a view
  torch::Tensor vh = split(v, lk);
  if (reduced && upcast_attention) {
    qh = qh.to(torch::kFloat);
    kt = kt.to(torch::kFloat);
  }
  const double scale = 1.0 / std::sqrt(static_cast<double>(d));
  // Bound the score matrix of one chunk (~64M elements). Chunks run over whole (batch, head)
  // slices, which stay contiguous: splitting the query rows instead makes the batched GEMMs
  // strided and measured ~2x slower on CPU. Rows are split only when a single head's scores are
  // larger than the bound (very long sequences).
  constexpr int64_t kMaxScoreElements = int64_t{1} << 26;
  const int64_t bh = b * heads;
  const int64_t per_head = std::max<int64_t>(1, lq * lk);
  const int64_t heads_per_chunk = std::max<int64_t>(1, kMaxScoreElements / per_head);
  const int64_t rows = per_head > kMaxScoreElements
                           ? std::max<int64_t>(1, kMaxScoreElements / std::max<int64_t>(1, lk))
                           : lq;
  std::vector<torch::Tensor> outs;
  for (int64_t s0 = 0; s0 < bh; s0 += heads_per_chunk) {
    const int64_t nb = std::min(heads_per_chunk, bh - s0);
    torch::Tensor q_b = nb == bh ? qh : qh.narrow(0, s0, nb);
    torch::Tensor kt_b = nb == bh ? kt : kt.narrow(0, s0, nb);
    torch::Tensor v_b = nb == bh ? vh : vh.narrow(0, s0, nb);
    std::vector<torch::Tensor> row_outs;
    for (int64_t r0 = 0; r0 < lq; r0 += rows) {
      const int64_t nr = std::min(rows, lq - r0);
      torch::Tensor q_chunk = nr == lq ? q_b : q_b.narrow(1, r0, nr);
      // Scale after the product, as diffusers' baddbmm(alpha=scale) rounds. (An uninitialised
      // baddbmm_ buffer with beta = 0 is not safe here: libtorch 1.13's small-matrix CPU kernel
      // still reads it, so NaNs in the garbage leaked into the scores.)
      torch::Tensor scores = torch::bmm(q_chunk, kt_b).mul_(scale);
      if (reduced && upcast_softmax && scores.scalar_type() != torch::kFloat) {
        scores = scores.to(torch::kFloat);
      }
      torch::Tensor probs = torch::softmax(scores, -1);
      if (probs.scalar_type() != v_b.scalar_type()) probs = probs.to(v_b.scalar_type());
      row_outs.push_back(torch::bmm(probs, v_b));
    }
    outs.push_back(row_outs.size() == 1 ? row_outs[0] : torch::cat(row_outs, 1));
  }
  torch::Tensor out = outs.size() == 1 ? outs[0] : torch::cat(outs, 0);
  return out.view({b, heads, lq, d}).transpose(1, 2).reshape({b, lq, inner}).to(dtype);
#endif
}

}  // namespace ldm::nn
