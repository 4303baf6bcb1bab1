// MapChannels: the trainer's side of the semantic-map conditioning.
//
// The map channels themselves (area fractions per latent cell or sub-cell, pixel-unshuffled for
// semantic_map_subcells > 1) come from core's SemanticMapChannels, which the pipeline calls too.
// The trainer stores them compactly: the latent cache keeps each example's pixel counts per
// sub-cell (SubcellCounts, exact in uint8) and a batch turns them back into the UNet's input
// (FromCounts); CellCounts gives the counts per latent cell that TokenGrounding's object masks
// are built from. tests/tools/train/map_channels_test.cc checks that SubcellCounts -> FromCounts
// gives, bit for bit, the channels the pipeline feeds the UNet.
// Thread safety: stateless. Errors: shape mismatches throw c10::Error.
#pragma once

#include <torch/types.h>

#include <cstdint>

namespace ldm::train {

class MapChannels {
 public:
  // labels [B, H, W] (values in [0, num_labels)) -> uint8 [B, num_labels, H / c, W / c]: the
  // pixels of each label in each sub-cell of side c = vae_factor / subcells (H, W multiples of c;
  // c^2 <= 255).
  static torch::Tensor SubcellCounts(const torch::Tensor& labels, int64_t num_labels,
                                     int64_t vae_factor, int64_t subcells);

  // SubcellCounts' output (any integer type) -> the UNet's map input, float32
  // [B, K * subcells^2, h, w]: the counts divided by the sub-cell area pixels_per_subcell
  // ((vae_factor / subcells)^2, LatentCache::pixels_per_cell), then
  // SemanticMapChannels::ToUNetInput.
  static torch::Tensor FromCounts(const torch::Tensor& subcell_counts, int64_t pixels_per_subcell,
                                  int64_t subcells);

  // Per-sub-cell pixel counts [B, K, h * subcells, w * subcells] -> per-latent-cell counts
  // [B, K, h, w] (int64), e.g. for TokenGrounding's object masks.
  static torch::Tensor CellCounts(const torch::Tensor& subcell_counts, int64_t subcells);
};

}  // namespace ldm::train
