// SemanticMapChannels: a semantic label map -> the channels a map-conditioned UNet gets beside the
// latents.
//
// LDM conditions on semantic maps by concatenation (Rombach et al. 2022, Sec. 4.3.2: the map,
// downsampled to the latent resolution, is concatenated with z_t along channels). Here each label
// becomes one channel holding, per latent cell, the fraction of the cell's pixels carrying that
// label (area downsampling of the one-hot map). With r = semantic_map_subcells > 1 the fractions
// are taken per r x r sub-cell of each latent cell and each label's sub-cells are pixel-unshuffled
// into r^2 channels at latent resolution (torch's pixel_unshuffle order: label * r^2 + dy * r +
// dx), so the UNet also learns where a region's border runs inside a cell (docs/MODEL.md, "What
// the UNet is told about a map").
//
// The pipeline (Pipeline::MapToOneHot), the trainer's latent cache and batches (tools/train) and
// the evaluator's ceiling row (tools/eval) all call these functions, so the layout and the
// floating-point values the UNet was trained on are the ones it gets at inference.
// Thread safety: stateless; all functions are pure. Errors: shape mismatches throw c10::Error
// (callers wrap them in TorchGuard or their own torch error handling).
#pragma once

#include <torch/types.h>

#include <cstdint>

namespace ldm {

class SemanticMapChannels {
 public:
  // labels: [B, H, W] integer tensor with values in [0, num_labels); H, W multiples of cells_h,
  // cells_w. Returns float32 [B, num_labels, cells_h, cells_w]: the fraction of each cell's pixels
  // carrying each label (a map already at the cell size is plain one-hot).
  static torch::Tensor Fractions(const torch::Tensor& labels, int64_t num_labels, int64_t cells_h,
                                 int64_t cells_w);

  // Sub-cell fractions [B, K, h * subcells, w * subcells] -> the UNet's map input
  // [B, K * subcells^2, h, w] (pixel_unshuffle; the identity for subcells 1).
  static torch::Tensor ToUNetInput(const torch::Tensor& fractions, int64_t subcells);

  // labels [B, H, W] -> the UNet's map input, float32 [B, num_labels * subcells^2, latent_h,
  // latent_w]. H, W are either multiples of latent_h * subcells, latent_w * subcells (an image-
  // size map: fractions per sub-cell) or exactly latent_h, latent_w (a latent-size map: every
  // sub-cell of a cell gets the cell's label).
  static torch::Tensor FromLabels(const torch::Tensor& labels, int64_t num_labels, int64_t latent_h,
                                  int64_t latent_w, int64_t subcells = 1);
};

}  // namespace ldm
