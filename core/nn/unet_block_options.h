// Options shared by the UNet2DConditionModel down/mid/up blocks and the VAE's encoder/decoder
// blocks (plain data; no torch in this header).
#pragma once

#include <cstdint>

namespace ldm::nn {

struct ResnetBlock2DOptions;
struct Transformer2DModelOptions;

struct UNetBlockOptions {
  int64_t in_channels = 0;
  int64_t out_channels = 0;
  // Up blocks: channels of the previous (deeper) up block's output.
  int64_t prev_output_channels = 0;
  int64_t temb_channels = 0;
  int64_t num_layers = 1;          // resnets per block (up blocks: layers_per_block + 1)
  int64_t transformer_layers = 1;  // BasicTransformerBlocks per Transformer2DModel
  int64_t groups = 32;
  double eps = 1e-5;
  double dropout = 0.0;
  double output_scale_factor = 1.0;  // resnets (the mid block's mid_block_scale_factor)
  bool add_sampler = true;           // Downsample2D / Upsample2D at the end of the block
  int64_t downsample_padding = 1;
  // Cross-attention blocks only.
  int64_t heads = 8;
  int64_t cross_attention_dim = 0;
  bool use_linear_projection = false;
  bool upcast_attention = false;

  // A resnet of this block from `in` to `out` channels with the block's time embedding (0 in VAE
  // blocks), norms, dropout and output scale.
  ResnetBlock2DOptions Resnet(int64_t in, int64_t out) const;
  // A Transformer2DModel of this block over `channels` channels (heads of channels / heads).
  Transformer2DModelOptions Transformer(int64_t channels) const;
};

}  // namespace ldm::nn
