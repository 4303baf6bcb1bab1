// Downsample2D: a stride-2 3x3 convolution that halves H and W.
// Reference: diffusers.models.downsampling.Downsample2D with use_conv=True (the only variant used
// by UNet2DConditionModel and AutoencoderKL). With padding 0 (the VAE encoder) the input is first
// zero-padded on the right and bottom only, as in the original LDM code.
//
// Submodule: conv (state_dict key "conv.weight"/"conv.bias"). forward() throws on bad shapes.
#pragma once

#include <torch/nn/module.h>
#include <torch/nn/modules/conv.h>
#include <torch/nn/pimpl.h>

#include <cstdint>

namespace ldm::nn {

struct Downsample2DOptions {
  int64_t channels = 0;
  int64_t out_channels = 0;  // 0: same as channels
  int64_t padding = 1;       // symmetric conv padding; 0 selects the asymmetric (0,1,0,1) pad
};

class Downsample2DImpl : public torch::nn::Module {
 public:
  explicit Downsample2DImpl(const Downsample2DOptions& options);

  // x: [B, channels, H, W] -> [B, out_channels, ceil-ish(H/2), ceil-ish(W/2)].
  torch::Tensor forward(const torch::Tensor& x);

 private:
  Downsample2DOptions options_;
  torch::nn::Conv2d conv_{nullptr};
};
TORCH_MODULE(Downsample2D);

}  // namespace ldm::nn
