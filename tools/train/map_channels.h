// MapChannels: the trainer's side of the semantic-map conditioning.
//
// The map channels themselves (area fractions per latent cell or sub-cell, pixel-unshuffled for
// semantic_map_subcells > 1) come from core's SemanticMapChannels, which the pipeline calls too:
// the latent cache stores each example's per-sub-cell pixel counts (SemanticMapChannels::Fractions
// times the sub-cell area, exact in uint8), and a batch divides them by the area and calls
// SemanticMapChannels::ToUNetInput. What is left here is training-only: the counts per latent
// cell that TokenGrounding's object masks are built from.
// tests/tools/train/map_channels_test.cc checks that the cached route gives, bit for bit, the
// channels the pipeline feeds the UNet.
// Thread safety: stateless. Errors: shape mismatches throw c10::Error.
#pragma once

#include <torch/types.h>

#include <cstdint>

namespace ldm::train {

class MapChannels {
 public:
  // Per-sub-cell pixel counts [B, K, h * subcells, w * subcells] -> per-latent-cell counts
  // [B, K, h, w] (int64), e.g. for TokenGrounding's object masks.
  static torch::Tensor CellCounts(const torch::Tensor& subcell_counts, int64_t subcells);
};

}  // namespace ldm::train
