// MapChannels: semantic label maps -> the one-hot channels the UNet sees beside the latents.
//
// This must match ldm::Pipeline exactly (core/pipeline/pipeline.cc, MapToOneHot): labels are
// one-hot encoded into num_labels channels and, when the map is at image resolution, area-
// downsampled with avg_pool2d to r x r sub-cells per latent cell (r = the model's
// semantic_map_subcells, 1 by default), so each sub-cell holds the fraction of its pixels
// carrying each label; with r > 1 each label's sub-cells are then pixel-unshuffled into r^2
// channels at latent resolution. A dropped map is all zeros.
// tests/tools/train/map_channels_test.cc checks the equality against the pipeline.
#pragma once

#include <torch/types.h>

#include <cstdint>
#include <vector>

namespace ldm::train {

class MapChannels {
 public:
  // labels: [B, H, W] integer tensor with values in [0, num_labels). H and W must be multiples of
  // latent_h * subcells and latent_w * subcells. Returns the UNet's map input, float32
  // [B, num_labels * subcells^2, latent_h, latent_w].
  static torch::Tensor FromLabels(const torch::Tensor& labels, int64_t num_labels, int64_t latent_h,
                                  int64_t latent_w, int64_t subcells = 1);

  // The area fractions per cell: float32 [B, num_labels, cells_h, cells_w] (H, W multiples of
  // cells_h, cells_w; a map already at that size is plain one-hot).
  static torch::Tensor Fractions(const torch::Tensor& labels, int64_t num_labels, int64_t cells_h,
                                 int64_t cells_w);

  // Sub-cell fractions [B, K, h * subcells, w * subcells] -> the UNet's map input
  // [B, K * subcells^2, h, w] (pixel_unshuffle; the identity for subcells 1).
  static torch::Tensor ToUNetInput(const torch::Tensor& fractions, int64_t subcells);

  // Per-sub-cell pixel counts [B, K, h * subcells, w * subcells] -> per-latent-cell counts
  // [B, K, h, w] (int64), e.g. for TokenGrounding's object masks.
  static torch::Tensor CellCounts(const torch::Tensor& subcell_counts, int64_t subcells);
};

}  // namespace ldm::train
