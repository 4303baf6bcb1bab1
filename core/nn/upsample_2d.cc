#include "core/nn/upsample_2d.h"

#include <torch/torch.h>

namespace ldm::nn {

Upsample2DImpl::Upsample2DImpl(const Upsample2DOptions& options) : options_(options) {
  if (options_.out_channels == 0) options_.out_channels = options_.channels;
  conv_ = register_module(
      "conv",
      torch::nn::Conv2d(
          torch::nn::Conv2dOptions(options_.channels, options_.out_channels, 3).padding(1)));
}

torch::Tensor Upsample2DImpl::forward(const torch::Tensor& x, std::vector<int64_t> output_size) {
  TORCH_CHECK(x.dim() == 4 && x.size(1) == options_.channels, "Upsample2D: expected [B, ",
              options_.channels, ", H, W], got ", x.sizes());
  if (output_size.empty()) output_size = {2 * x.size(2), 2 * x.size(3)};
  TORCH_CHECK(output_size.size() == 2, "Upsample2D: output_size must be {H, W}");
  // Nearest with an explicit size picks source index floor(dst * in / out), identical to
  // scale_factor=2 when out == 2 * in. bfloat16 goes through float32 like the reference, because
  // older kernels lack a bfloat16 nearest-upsample.
  torch::Tensor h = x.scalar_type() == torch::kBFloat16 ? x.to(torch::kFloat) : x;
  h = at::upsample_nearest2d(h, c10::IntArrayRef(output_size));
  if (h.scalar_type() != x.scalar_type()) h = h.to(x.scalar_type());
  return conv_(h);
}

}  // namespace ldm::nn
