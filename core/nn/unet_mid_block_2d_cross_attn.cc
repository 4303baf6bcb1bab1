#include "core/nn/unet_mid_block_2d_cross_attn.h"

#include <torch/torch.h>

namespace ldm::nn {

UNetMidBlock2DCrossAttnImpl::UNetMidBlock2DCrossAttnImpl(const UNetBlockOptions& o) {
  const int64_t c = o.in_channels;
  TORCH_CHECK(o.heads > 0 && c / o.heads > 0, "UNetMidBlock2DCrossAttn: ", c,
              " channels cannot be split into ", o.heads, " heads");
  auto resnets = register_module("resnets", torch::nn::ModuleList());
  auto attentions = register_module("attentions", torch::nn::ModuleList());
  auto make_resnet = [&]() { return ResnetBlock2D(o.Resnet(c, c)); };
  resnets_.push_back(make_resnet());
  resnets->push_back(resnets_.back());
  for (int64_t i = 0; i < o.num_layers; ++i) {
    attentions_.push_back(Transformer2DModel(o.Transformer(c)));
    attentions->push_back(attentions_.back());
    resnets_.push_back(make_resnet());
    resnets->push_back(resnets_.back());
  }
}

torch::Tensor UNetMidBlock2DCrossAttnImpl::forward(const torch::Tensor& x,
                                                   const torch::Tensor& temb,
                                                   const torch::Tensor& context) {
  torch::Tensor h = resnets_[0](x, temb);
  for (size_t i = 0; i < attentions_.size(); ++i) {
    h = attentions_[i](h, context);
    h = resnets_[i + 1](h, temb);
  }
  return h;
}

}  // namespace ldm::nn
