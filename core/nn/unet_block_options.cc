#include "core/nn/unet_block_options.h"

#include "core/nn/resnet_block_2d.h"
#include "core/nn/transformer_2d_model.h"

namespace ldm::nn {

ResnetBlock2DOptions UNetBlockOptions::Resnet(int64_t in, int64_t out) const {
  return ResnetBlock2DOptions{.in_channels = in,
                              .out_channels = out,
                              .temb_channels = temb_channels,
                              .groups = groups,
                              .eps = eps,
                              .dropout = dropout,
                              .output_scale_factor = output_scale_factor};
}

Transformer2DModelOptions UNetBlockOptions::Transformer(int64_t channels) const {
  return Transformer2DModelOptions{.in_channels = channels,
                                   .heads = heads,
                                   .dim_head = channels / heads,
                                   .num_layers = transformer_layers,
                                   .cross_attention_dim = cross_attention_dim,
                                   .groups = groups,
                                   .use_linear_projection = use_linear_projection,
                                   .upcast_attention = upcast_attention};
}

}  // namespace ldm::nn
