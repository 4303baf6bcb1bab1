// Upsample2D: nearest-neighbour 2x (or to an explicit size) followed by a 3x3 convolution.
// Reference: diffusers.models.upsampling.Upsample2D with use_conv=True, use_conv_transpose=False.
//
// Submodule: conv. forward() throws on bad shapes.
#pragma once

#include <torch/nn/module.h>
#include <torch/nn/modules/conv.h>
#include <torch/nn/pimpl.h>

#include <cstdint>
#include <vector>

namespace ldm::nn {

struct Upsample2DOptions {
  int64_t channels = 0;
  int64_t out_channels = 0;  // 0: same as channels
};

class Upsample2DImpl : public torch::nn::Module {
 public:
  explicit Upsample2DImpl(const Upsample2DOptions& options);

  // x: [B, channels, H, W]. `output_size` = {H', W'} selects the target size (the UNet passes the
  // size of the matching skip connection so odd latent sizes work); empty means {2H, 2W}.
  torch::Tensor forward(const torch::Tensor& x, std::vector<int64_t> output_size = {});

 private:
  Upsample2DOptions options_;
  torch::nn::Conv2d conv_{nullptr};
};
TORCH_MODULE(Upsample2D);

}  // namespace ldm::nn
