#include "core/nn/cross_attn_up_block_2d.h"

#include <torch/torch.h>

namespace ldm::nn {

CrossAttnUpBlock2DImpl::CrossAttnUpBlock2DImpl(const UNetBlockOptions& o) {
  TORCH_CHECK(o.heads > 0 && o.out_channels / o.heads > 0, "CrossAttnUpBlock2D: ", o.out_channels,
              " channels cannot be split into ", o.heads, " heads");
  auto resnets = register_module("resnets", torch::nn::ModuleList());
  auto attentions = register_module("attentions", torch::nn::ModuleList());
  for (int64_t i = 0; i < o.num_layers; ++i) {
    const int64_t skip_channels = i == o.num_layers - 1 ? o.in_channels : o.out_channels;
    const int64_t resnet_in = i == 0 ? o.prev_output_channels : o.out_channels;
    resnets_.push_back(ResnetBlock2D(o.Resnet(resnet_in + skip_channels, o.out_channels)));
    resnets->push_back(resnets_.back());
    attentions_.push_back(Transformer2DModel(o.Transformer(o.out_channels)));
    attentions->push_back(attentions_.back());
  }
  if (o.add_sampler) {
    upsampler_ = Upsample2D(Upsample2DOptions{.channels = o.out_channels});
    register_module("upsamplers", torch::nn::ModuleList(upsampler_));
  }
}

torch::Tensor CrossAttnUpBlock2DImpl::forward(const torch::Tensor& x,
                                              std::vector<torch::Tensor>* skips,
                                              const torch::Tensor& temb,
                                              const torch::Tensor& context,
                                              const std::vector<int64_t>& upsample_size) {
  TORCH_CHECK(skips->size() >= resnets_.size(), "CrossAttnUpBlock2D: not enough skip tensors");
  torch::Tensor h = x;
  for (size_t i = 0; i < resnets_.size(); ++i) {
    torch::Tensor skip = std::move(skips->back());
    skips->pop_back();
    h = resnets_[i](torch::cat({h, skip}, 1), temb);
    h = attentions_[i](h, context);
  }
  if (upsampler_) h = upsampler_(h, upsample_size);
  return h;
}

}  // namespace ldm::nn
