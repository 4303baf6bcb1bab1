#include "tools/train/map_channels.h"

#include <torch/torch.h>

#include "core/pipeline/semantic_map_channels.h"

namespace ldm::train {

torch::Tensor MapChannels::SubcellCounts(const torch::Tensor& labels, int64_t num_labels,
                                         int64_t vae_factor, int64_t subcells) {
  TORCH_CHECK(labels.dim() == 3, "labels must be [B, H, W]");
  TORCH_CHECK(subcells >= 1 && vae_factor % subcells == 0, "subcells ", subcells,
              " must divide the VAE factor ", vae_factor);
  const int64_t cell = vae_factor / subcells;  // image pixels per sub-cell side
  TORCH_CHECK(cell * cell <= 255, "a sub-cell of ", cell * cell, " pixels does not fit uint8");
  // Fractions times the area, rounded: the pixel counts, exact in uint8, and the stored route
  // back (FromCounts) gives the fractions the pipeline computes bit for bit.
  return SemanticMapChannels::Fractions(labels, num_labels, labels.size(1) / cell,
                                        labels.size(2) / cell)
      .mul(static_cast<double>(cell * cell))
      .round()
      .to(torch::kUInt8);
}

torch::Tensor MapChannels::FromCounts(const torch::Tensor& subcell_counts,
                                      int64_t pixels_per_subcell, int64_t subcells) {
  TORCH_CHECK(pixels_per_subcell >= 1, "pixels_per_subcell must be >= 1, got ", pixels_per_subcell);
  return SemanticMapChannels::ToUNetInput(
      subcell_counts.to(torch::kFloat32) / static_cast<double>(pixels_per_subcell), subcells);
}

torch::Tensor MapChannels::CellCounts(const torch::Tensor& subcell_counts, int64_t subcells) {
  TORCH_CHECK(subcell_counts.dim() == 4, "counts must be [B, K, H, W]");
  torch::Tensor c = subcell_counts.to(torch::kInt64);
  if (subcells == 1) return c;
  const int64_t b = c.size(0), k = c.size(1), h = c.size(2), w = c.size(3);
  TORCH_CHECK(h % subcells == 0 && w % subcells == 0, "count grid ", h, "x", w,
              " is not a multiple of ", subcells);
  return c.view({b, k, h / subcells, subcells, w / subcells, subcells}).sum({3, 5});
}

}  // namespace ldm::train
