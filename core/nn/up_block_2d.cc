#include "core/nn/up_block_2d.h"

#include <torch/torch.h>

namespace ldm::nn {

UpBlock2DImpl::UpBlock2DImpl(const UNetBlockOptions& o) {
  auto resnets = register_module("resnets", torch::nn::ModuleList());
  for (int64_t i = 0; i < o.num_layers; ++i) {
    const int64_t skip_channels = i == o.num_layers - 1 ? o.in_channels : o.out_channels;
    const int64_t resnet_in = i == 0 ? o.prev_output_channels : o.out_channels;
    resnets_.push_back(ResnetBlock2D(o.Resnet(resnet_in + skip_channels, o.out_channels)));
    resnets->push_back(resnets_.back());
  }
  if (o.add_sampler) {
    upsampler_ = Upsample2D(Upsample2DOptions{.channels = o.out_channels});
    register_module("upsamplers", torch::nn::ModuleList(upsampler_));
  }
}

torch::Tensor UpBlock2DImpl::forward(const torch::Tensor& x, std::vector<torch::Tensor>* skips,
                                     const torch::Tensor& temb,
                                     const std::vector<int64_t>& upsample_size) {
  TORCH_CHECK(skips->size() >= resnets_.size(), "UpBlock2D: not enough skip tensors");
  torch::Tensor h = x;
  for (auto& resnet : resnets_) {
    torch::Tensor skip = std::move(skips->back());
    skips->pop_back();
    h = resnet(torch::cat({h, skip}, 1), temb);
  }
  if (upsampler_) h = upsampler_(h, upsample_size);
  return h;
}

}  // namespace ldm::nn
