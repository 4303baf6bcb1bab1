#include "core/nn/vae_decoder.h"

#include <torch/torch.h>

#include "absl/strings/str_cat.h"
#include "core/nn/functional.h"

namespace ldm::nn {
VaeDecoderImpl::VaeDecoderImpl(const VaeCoderOptions& options) : options_(options) {
  const auto& ch = options_.block_out_channels;
  TORCH_CHECK(!ch.empty(), "VaeDecoder: block_out_channels is empty");
  conv_in_ = register_module(
      "conv_in",
      torch::nn::Conv2d(torch::nn::Conv2dOptions(options_.in_channels, ch.back(), 3).padding(1)));
  mid_block_ = register_module(
      "mid_block", UNetMidBlock2D(UNetBlockOptions{
                       .in_channels = ch.back(), .groups = options_.groups, .eps = kVaeEps}));
  auto blocks = register_module("up_blocks", torch::nn::ModuleList());
  int64_t out = ch.back();
  for (size_t i = 0; i < ch.size(); ++i) {
    const int64_t in = out;
    out = ch[ch.size() - 1 - i];
    up_blocks_.push_back(
        UpDecoderBlock2D(UNetBlockOptions{.in_channels = in,
                                          .out_channels = out,
                                          .num_layers = options_.layers_per_block + 1,
                                          .groups = options_.groups,
                                          .eps = kVaeEps,
                                          .add_sampler = i + 1 < ch.size()}));
    blocks->push_back(up_blocks_.back());
  }
  conv_norm_out_ = register_module(
      "conv_norm_out",
      torch::nn::GroupNorm(torch::nn::GroupNormOptions(options_.groups, ch[0]).eps(kVaeEps)));
  conv_out_ = register_module(
      "conv_out",
      torch::nn::Conv2d(torch::nn::Conv2dOptions(ch[0], options_.out_channels, 3).padding(1)));
}

torch::Tensor VaeDecoderImpl::forward(const torch::Tensor& z,
                                      std::map<std::string, torch::Tensor>* intermediates) {
  TORCH_CHECK(z.dim() == 4 && z.size(1) == options_.in_channels, "VAE decoder: expected [B, ",
              options_.in_channels, ", h, w], got ", z.sizes());
  auto record = [&](const std::string& name, const torch::Tensor& t) {
    if (intermediates != nullptr) (*intermediates)[name] = t;
  };
  torch::Tensor h = conv_in_(z);
  record("conv_in", h);
  h = mid_block_(h);
  record("mid_block", h);
  for (size_t i = 0; i < up_blocks_.size(); ++i) {
    h = up_blocks_[i](h);
    record(absl::StrCat("up_blocks.", i), h);
  }
  h = SiluFresh(conv_norm_out_(NormInput(h, conv_norm_out_->weight)));
  return conv_out_(h);
}

}  // namespace ldm::nn
