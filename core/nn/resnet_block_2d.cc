#include "core/nn/resnet_block_2d.h"

#include <torch/torch.h>

#include "core/nn/functional.h"

namespace ldm::nn {

ResnetBlock2DImpl::ResnetBlock2DImpl(const ResnetBlock2DOptions& options) : options_(options) {
  if (options_.out_channels == 0) options_.out_channels = options_.in_channels;
  const int64_t in = options_.in_channels;
  const int64_t out = options_.out_channels;
  norm1_ = register_module(
      "norm1",
      torch::nn::GroupNorm(torch::nn::GroupNormOptions(options_.groups, in).eps(options_.eps)));
  conv1_ = register_module(
      "conv1", torch::nn::Conv2d(torch::nn::Conv2dOptions(in, out, 3).stride(1).padding(1)));
  if (options_.temb_channels > 0) {
    time_emb_proj_ =
        register_module("time_emb_proj", torch::nn::Linear(options_.temb_channels, out));
  }
  norm2_ = register_module(
      "norm2",
      torch::nn::GroupNorm(torch::nn::GroupNormOptions(options_.groups, out).eps(options_.eps)));
  dropout_ = register_module("dropout", torch::nn::Dropout(options_.dropout));
  conv2_ = register_module(
      "conv2", torch::nn::Conv2d(torch::nn::Conv2dOptions(out, out, 3).stride(1).padding(1)));
  if (in != out) {
    conv_shortcut_ =
        register_module("conv_shortcut", torch::nn::Conv2d(torch::nn::Conv2dOptions(in, out, 1)));
  }
}

torch::Tensor ResnetBlock2DImpl::forward(const torch::Tensor& x, const torch::Tensor& temb) {
  torch::Tensor h = SiluFresh(norm1_(NormInput(x, norm1_->weight)));
  h = conv1_(h);
  if (time_emb_proj_) {
    TORCH_CHECK(temb.defined(), "ResnetBlock2D: this block needs a time embedding");
    // The embedding is activated per block (not once in the UNet) as in the reference.
    torch::Tensor t = time_emb_proj_(torch::silu(temb));
    h = AddFresh(h, t.unsqueeze(-1).unsqueeze(-1));
  }
  h = SiluFresh(norm2_(NormInput(h, norm2_->weight)));
  if (options_.dropout > 0.0) h = dropout_(h);
  h = conv2_(h);
  torch::Tensor skip = conv_shortcut_ ? conv_shortcut_(x) : x;
  // h is fresh, skip may be the caller's input: accumulate into h.
  h = AddFresh(h, skip);
  if (options_.output_scale_factor != 1.0) h = h / options_.output_scale_factor;
  return h;
}

}  // namespace ldm::nn
