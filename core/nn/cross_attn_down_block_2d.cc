#include "core/nn/cross_attn_down_block_2d.h"

#include <torch/torch.h>

namespace ldm::nn {

CrossAttnDownBlock2DImpl::CrossAttnDownBlock2DImpl(const UNetBlockOptions& o) {
  auto resnets = register_module("resnets", torch::nn::ModuleList());
  auto attentions = register_module("attentions", torch::nn::ModuleList());
  TORCH_CHECK(o.heads > 0 && o.out_channels / o.heads > 0, "CrossAttnDownBlock2D: ", o.out_channels,
              " channels cannot be split into ", o.heads, " heads");
  for (int64_t i = 0; i < o.num_layers; ++i) {
    resnets_.push_back(
        ResnetBlock2D(o.Resnet(i == 0 ? o.in_channels : o.out_channels, o.out_channels)));
    resnets->push_back(resnets_.back());
    attentions_.push_back(Transformer2DModel(o.Transformer(o.out_channels)));
    attentions->push_back(attentions_.back());
  }
  if (o.add_sampler) {
    downsampler_ = Downsample2D(
        Downsample2DOptions{.channels = o.out_channels, .padding = o.downsample_padding});
    register_module("downsamplers", torch::nn::ModuleList(downsampler_));
  }
}

torch::Tensor CrossAttnDownBlock2DImpl::forward(const torch::Tensor& x, const torch::Tensor& temb,
                                                const torch::Tensor& context,
                                                std::vector<torch::Tensor>* skips) {
  torch::Tensor h = x;
  for (size_t i = 0; i < resnets_.size(); ++i) {
    h = resnets_[i](h, temb);
    h = attentions_[i](h, context);
    skips->push_back(h);
  }
  if (downsampler_) {
    h = downsampler_(h);
    skips->push_back(h);
  }
  return h;
}

}  // namespace ldm::nn
