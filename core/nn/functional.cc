#include "core/nn/functional.h"

#include <algorithm>
#include <cmath>
#include <vector>

#include <torch/torch.h>
#include <torch/version.h>

namespace ldm::nn {
namespace {

bool IsReducedPrecision(torch::ScalarType t) {
  return t == torch::kHalf || t == torch::kBFloat16;
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
  // Bound the score matrix per chunk (~16M elements): keeps peak memory flat at large
  // resolutions (64x64 latents give 4096^2 scores per head) and the working set cache-friendly.
  constexpr int64_t kMaxScoreElements = int64_t{1} << 24;
  const int64_t bh = b * heads;
  const int64_t rows = std::max<int64_t>(1, kMaxScoreElements / std::max<int64_t>(1, bh * lk));
  std::vector<torch::Tensor> outs;
  for (int64_t start = 0; start < lq; start += rows) {
    const int64_t n = std::min(rows, lq - start);
    torch::Tensor q_chunk = n == lq ? qh : qh.narrow(1, start, n);
    // beta = 0: the uninitialised buffer is ignored; alpha applies the scale inside the GEMM.
    torch::Tensor scores = torch::empty({bh, n, lk}, qh.options());
    scores.baddbmm_(q_chunk, kt, /*beta=*/0, /*alpha=*/scale);
    if (reduced && upcast_softmax && scores.scalar_type() != torch::kFloat) {
      scores = scores.to(torch::kFloat);
    }
    torch::Tensor probs = torch::softmax(scores, -1);
    if (probs.scalar_type() != vh.scalar_type()) probs = probs.to(vh.scalar_type());
    outs.push_back(torch::bmm(probs, vh));
  }
  torch::Tensor out = outs.size() == 1 ? outs[0] : torch::cat(outs, 1);
  return out.view({b, heads, lq, d}).transpose(1, 2).reshape({b, lq, inner}).to(dtype);
#endif
}

}  // namespace ldm::nn
