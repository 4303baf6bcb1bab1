#include "core/nn/up_decoder_block_2d.h"

#include <torch/torch.h>

namespace ldm::nn {

UpDecoderBlock2DImpl::UpDecoderBlock2DImpl(const UNetBlockOptions& o) {
  auto resnets = register_module("resnets", torch::nn::ModuleList());
  for (int64_t i = 0; i < o.num_layers; ++i) {
    resnets_.push_back(
        ResnetBlock2D(o.Resnet(i == 0 ? o.in_channels : o.out_channels, o.out_channels)));
    resnets->push_back(resnets_.back());
  }
  if (o.add_sampler) {
    upsampler_ = Upsample2D(Upsample2DOptions{.channels = o.out_channels});
    register_module("upsamplers", torch::nn::ModuleList(upsampler_));
  }
}

torch::Tensor UpDecoderBlock2DImpl::forward(const torch::Tensor& x) {
  torch::Tensor h = x;
  for (auto& resnet : resnets_) h = resnet(h);
  if (upsampler_) h = upsampler_(h);
  return h;
}

}  // namespace ldm::nn
