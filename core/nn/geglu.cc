#include "core/nn/geglu.h"

#include <torch/torch.h>

#include "core/nn/functional.h"

namespace ldm::nn {

GEGLUImpl::GEGLUImpl(int64_t dim_in, int64_t dim_out, bool bias) {
  proj_ = register_module(
      "proj", torch::nn::Linear(torch::nn::LinearOptions(dim_in, 2 * dim_out).bias(bias)));
}

torch::Tensor GEGLUImpl::forward(const torch::Tensor& x) {
  torch::Tensor projected = proj_(x);
  const int64_t half = projected.size(-1) / 2;
  torch::Tensor hidden = projected.narrow(-1, 0, half);
  torch::Tensor gate = torch::gelu(projected.narrow(-1, half, half));
  // gate is a fresh tensor: multiply into it instead of allocating another [.., dim_out] buffer.
  if (CanModifyInPlace(gate) && CanModifyInPlace(hidden)) return gate.mul_(hidden);
  return hidden * gate;
}

}  // namespace ldm::nn
