#include "core/nn/vae_encoder.h"

#include <torch/torch.h>

#include "absl/strings/str_cat.h"
#include "core/nn/functional.h"

namespace ldm::nn {
VaeEncoderImpl::VaeEncoderImpl(const VaeCoderOptions& options) : options_(options) {
  const auto& ch = options_.block_out_channels;
  TORCH_CHECK(!ch.empty(), "VaeEncoder: block_out_channels is empty");
  conv_in_ = register_module(
      "conv_in",
      torch::nn::Conv2d(torch::nn::Conv2dOptions(options_.in_channels, ch[0], 3).padding(1)));
  auto blocks = register_module("down_blocks", torch::nn::ModuleList());
  int64_t out = ch[0];
  for (size_t i = 0; i < ch.size(); ++i) {
    const int64_t in = out;
    out = ch[i];
    down_blocks_.push_back(
        DownEncoderBlock2D(UNetBlockOptions{.in_channels = in,
                                            .out_channels = out,
                                            .num_layers = options_.layers_per_block,
                                            .groups = options_.groups,
                                            .eps = kVaeEps,
                                            .add_sampler = i + 1 < ch.size(),
                                            .downsample_padding = 0}));
    blocks->push_back(down_blocks_.back());
  }
  mid_block_ = register_module(
      "mid_block", UNetMidBlock2D(UNetBlockOptions{
                       .in_channels = ch.back(), .groups = options_.groups, .eps = kVaeEps}));
  conv_norm_out_ = register_module(
      "conv_norm_out",
      torch::nn::GroupNorm(torch::nn::GroupNormOptions(options_.groups, ch.back()).eps(kVaeEps)));
  conv_out_ = register_module(
      "conv_out",
      torch::nn::Conv2d(
          torch::nn::Conv2dOptions(ch.back(), 2 * options_.out_channels, 3).padding(1)));
}

torch::Tensor VaeEncoderImpl::forward(const torch::Tensor& x,
                                      std::map<std::string, torch::Tensor>* intermediates) {
  TORCH_CHECK(x.dim() == 4 && x.size(1) == options_.in_channels, "VAE encoder: expected [B, ",
              options_.in_channels, ", H, W], got ", x.sizes());
  auto record = [&](const std::string& name, const torch::Tensor& t) {
    if (intermediates != nullptr) (*intermediates)[name] = t;
  };
  torch::Tensor h = conv_in_(x);
  record("conv_in", h);
  for (size_t i = 0; i < down_blocks_.size(); ++i) {
    h = down_blocks_[i](h);
    record(absl::StrCat("down_blocks.", i), h);
  }
  h = mid_block_(h);
  record("mid_block", h);
  h = SiluFresh(conv_norm_out_(NormInput(h, conv_norm_out_->weight)));
  return conv_out_(h);
}

}  // namespace ldm::nn
