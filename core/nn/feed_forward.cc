#include "core/nn/feed_forward.h"

#include <torch/torch.h>

namespace ldm::nn {

FeedForwardImpl::FeedForwardImpl(const FeedForwardOptions& options) : options_(options) {
  if (options_.dim_out == 0) options_.dim_out = options_.dim;
  const int64_t inner = options_.dim * options_.mult;
  geglu_ = GEGLU(options_.dim, inner);
  dropout_ = torch::nn::Dropout(options_.dropout);
  out_ = torch::nn::Linear(inner, options_.dim_out);
  net_ = register_module("net", torch::nn::ModuleList(geglu_, dropout_, out_));
}

torch::Tensor FeedForwardImpl::forward(const torch::Tensor& x) {
  torch::Tensor h = geglu_(x);
  if (options_.dropout > 0.0) h = dropout_(h);
  return out_(h);
}

}  // namespace ldm::nn
