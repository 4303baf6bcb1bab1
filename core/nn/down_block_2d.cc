#include "core/nn/down_block_2d.h"

#include <torch/torch.h>

namespace ldm::nn {

DownBlock2DImpl::DownBlock2DImpl(const UNetBlockOptions& o) {
  auto resnets = register_module("resnets", torch::nn::ModuleList());
  for (int64_t i = 0; i < o.num_layers; ++i) {
    resnets_.push_back(
        ResnetBlock2D(o.Resnet(i == 0 ? o.in_channels : o.out_channels, o.out_channels)));
    resnets->push_back(resnets_.back());
  }
  if (o.add_sampler) {
    downsampler_ = Downsample2D(
        Downsample2DOptions{.channels = o.out_channels, .padding = o.downsample_padding});
    register_module("downsamplers", torch::nn::ModuleList(downsampler_));
  }
}

torch::Tensor DownBlock2DImpl::forward(const torch::Tensor& x, const torch::Tensor& temb,
                                       std::vector<torch::Tensor>* skips) {
  torch::Tensor h = x;
  for (auto& resnet : resnets_) {
    h = resnet(h, temb);
    skips->push_back(h);
  }
  if (downsampler_) {
    h = downsampler_(h);
    skips->push_back(h);
  }
  return h;
}

}  // namespace ldm::nn
