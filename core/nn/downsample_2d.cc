#include "core/nn/downsample_2d.h"

#include <torch/torch.h>

namespace ldm::nn {

Downsample2DImpl::Downsample2DImpl(const Downsample2DOptions& options) : options_(options) {
  if (options_.out_channels == 0) options_.out_channels = options_.channels;
  conv_ = register_module("conv", torch::nn::Conv2d(torch::nn::Conv2dOptions(
                                                        options_.channels, options_.out_channels, 3)
                                                        .stride(2)
                                                        .padding(options_.padding)));
}

torch::Tensor Downsample2DImpl::forward(const torch::Tensor& x) {
  TORCH_CHECK(x.dim() == 4 && x.size(1) == options_.channels, "Downsample2D: expected [B, ",
              options_.channels, ", H, W], got ", x.sizes());
  if (options_.padding == 0) {
    // Pad (left 0, right 1, top 0, bottom 1): the convolution then sees the same windows as the
    // original taming-transformers / LDM encoder.
    return conv_(torch::constant_pad_nd(x, {0, 1, 0, 1}, 0));
  }
  return conv_(x);
}

}  // namespace ldm::nn
