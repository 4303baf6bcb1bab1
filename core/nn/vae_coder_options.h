// Options shared by VaeEncoder and VaeDecoder (plain data, header only).
#pragma once

#include <cstdint>
#include <vector>

namespace ldm::nn {

// The AutoencoderKL blocks use a fixed GroupNorm eps, independent of any config field.
inline constexpr double kVaeEps = 1e-6;

struct VaeCoderOptions {
  int64_t in_channels = 3;   // encoder: image channels; decoder: latent channels
  int64_t out_channels = 3;  // encoder: latent channels (doubled for the moments); decoder: image
  std::vector<int64_t> block_out_channels = {64};
  int64_t layers_per_block = 1;
  int64_t groups = 32;
};

}  // namespace ldm::nn
