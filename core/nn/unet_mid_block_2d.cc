#include "core/nn/unet_mid_block_2d.h"

#include <torch/torch.h>

namespace ldm::nn {

UNetMidBlock2DImpl::UNetMidBlock2DImpl(const UNetBlockOptions& o) {
  TORCH_CHECK(o.temb_channels == 0, "UNetMidBlock2D: time embeddings are not supported");
  const int64_t c = o.in_channels;
  auto resnets = register_module("resnets", torch::nn::ModuleList());
  auto attentions = register_module("attentions", torch::nn::ModuleList());
  auto make_resnet = [&]() { return ResnetBlock2D(o.Resnet(c, c)); };
  resnets_.push_back(make_resnet());
  resnets->push_back(resnets_.back());
  for (int64_t i = 0; i < o.num_layers; ++i) {
    attentions_.push_back(SpatialSelfAttention(
        SpatialSelfAttentionOptions{.channels = c,
                                    .dim_head = c,
                                    .groups = o.groups,
                                    .eps = o.eps,
                                    .rescale_output_factor = o.output_scale_factor}));
    attentions->push_back(attentions_.back());
    resnets_.push_back(make_resnet());
    resnets->push_back(resnets_.back());
  }
}

torch::Tensor UNetMidBlock2DImpl::forward(const torch::Tensor& x) {
  torch::Tensor h = resnets_[0](x);
  for (size_t i = 0; i < attentions_.size(); ++i) {
    h = attentions_[i](h);
    h = resnets_[i + 1](h);
  }
  return h;
}

}  // namespace ldm::nn
