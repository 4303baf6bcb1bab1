// MapChannels: semantic label maps -> the one-hot channels the UNet sees beside the latents.
//
// This must match ldm::Pipeline exactly (core/pipeline/pipeline.cc, MapToOneHot): labels are
// one-hot encoded into num_labels channels and, when the map is at image resolution, area-
// downsampled to latent resolution with avg_pool2d (kernel = image / latent size), so each latent
// cell holds the fraction of its pixels carrying each label. A dropped map is all zeros.
// tests/tools/train/map_channels_test.cc checks the equality against the pipeline.
#pragma once

#include <torch/types.h>

#include <cstdint>
#include <vector>

namespace ldm::train {

class MapChannels {
 public:
  // labels: [B, H, W] integer tensor with values in [0, num_labels). H and W must be multiples of
  // latent_h and latent_w. Returns float32 [B, num_labels, latent_h, latent_w].
  static torch::Tensor FromLabels(const torch::Tensor& labels, int64_t num_labels, int64_t latent_h,
                                  int64_t latent_w);
};

}  // namespace ldm::train
