// FeedForward: GEGLU(dim -> mult * dim) -> Dropout -> Linear(mult * dim -> dim).
// Reference: diffusers.models.attention.FeedForward with activation_fn="geglu" (the only one
// BasicTransformerBlock uses in UNet2DConditionModel).
//
// Submodules: net.0 (GEGLU, key net.0.proj), net.1 (Dropout), net.2 (Linear).
#pragma once

#include <torch/nn/module.h>
#include <torch/nn/modules/container/modulelist.h>
#include <torch/nn/modules/dropout.h>
#include <torch/nn/modules/linear.h>
#include <torch/nn/pimpl.h>

#include <cstdint>

#include "core/nn/geglu.h"

namespace ldm::nn {

struct FeedForwardOptions {
  int64_t dim = 0;
  int64_t dim_out = 0;  // 0: same as dim
  int64_t mult = 4;
  double dropout = 0.0;
};

class FeedForwardImpl : public torch::nn::Module {
 public:
  explicit FeedForwardImpl(const FeedForwardOptions& options);

  // x: [..., dim] -> [..., dim_out].
  torch::Tensor forward(const torch::Tensor& x);

 private:
  FeedForwardOptions options_;
  torch::nn::ModuleList net_{nullptr};
  GEGLU geglu_{nullptr};
  torch::nn::Dropout dropout_{nullptr};
  torch::nn::Linear out_{nullptr};
};
TORCH_MODULE(FeedForward);

}  // namespace ldm::nn
