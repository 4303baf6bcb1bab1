#include "core/nn/down_encoder_block_2d.h"

#include <torch/torch.h>

namespace ldm::nn {

DownEncoderBlock2DImpl::DownEncoderBlock2DImpl(const UNetBlockOptions& o) {
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

torch::Tensor DownEncoderBlock2DImpl::forward(const torch::Tensor& x) {
  torch::Tensor h = x;
  for (auto& resnet : resnets_) h = resnet(h);
  if (downsampler_) h = downsampler_(h);
  return h;
}

}  // namespace ldm::nn
