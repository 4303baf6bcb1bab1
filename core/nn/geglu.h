// GEGLU: a gated linear unit with a GELU gate, proj(x) = [h, g] -> h * gelu(g).
// Reference: diffusers.models.activations.GEGLU (Shazeer 2020, "GLU Variants Improve
// Transformer"); GELU is the exact erf form.
//
// Submodule: proj (Linear dim_in -> 2 * dim_out). forward() throws on bad shapes.
#pragma once

#include <torch/nn/module.h>
#include <torch/nn/modules/linear.h>
#include <torch/nn/pimpl.h>

#include <cstdint>

namespace ldm::nn {

class GEGLUImpl : public torch::nn::Module {
 public:
  GEGLUImpl(int64_t dim_in, int64_t dim_out, bool bias = true);

  // x: [..., dim_in] -> [..., dim_out].
  torch::Tensor forward(const torch::Tensor& x);

 private:
  torch::nn::Linear proj_{nullptr};
};
TORCH_MODULE(GEGLU);

}  // namespace ldm::nn
