#include "core/nn/unet_mid_block_2d_cross_attn.h"

#include <torch/torch.h>

namespace ldm::nn {

UNetMidBlock2DCrossAttnImpl::UNetMidBlock2DCrossAttnImpl(const UNetBlockOptions& o) {
  const int64_t c = o.in_channels;
  TORCH_CHECK(o.heads > 0 && c / o.heads > 0, "UNetMidBlock2DCrossAttn: ", c,
              " channels cannot be split into ", o.heads, " heads");
  auto resnets = register_module("resnets", torch::nn::ModuleList());
  auto attentions = register_module("attentions", torch::nn::ModuleList());
  auto make_resnet = [&]() {
    return ResnetBlock2D(ResnetBlock2DOptions{.in_channels = c,
                                              .out_channels = c,
                                              .temb_channels = o.temb_channels,
                                              .groups = o.groups,
                                              .eps = o.eps,
                                              .dropout = o.dropout,
                                              .output_scale_factor = o.output_scale_factor});
  };
  resnets_.push_back(make_resnet());
  resnets->push_back(resnets_.back());
  for (int64_t i = 0; i < o.num_layers; ++i) {
    attentions_.push_back(Transformer2DModel(
        Transformer2DModelOptions{.in_channels = c,
                                  .heads = o.heads,
                                  .dim_head = c / o.heads,
                                  .num_layers = o.transformer_layers,
                                  .cross_attention_dim = o.cross_attention_dim,
                                  .groups = o.groups,
                                  .use_linear_projection = o.use_linear_projection,
                                  .upcast_attention = o.upcast_attention}));
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
