#include "tools/train/map_channels.h"

#include <torch/torch.h>

namespace ldm::train {

torch::Tensor MapChannels::Fractions(const torch::Tensor& labels, int64_t num_labels,
                                     int64_t cells_h, int64_t cells_w) {
  TORCH_CHECK(labels.dim() == 3, "labels must be [B, H, W]");
  const int64_t h = labels.size(1), w = labels.size(2);
  TORCH_CHECK(h % cells_h == 0 && w % cells_w == 0, "map size ", h, "x", w,
              " is not a multiple of the cell grid ", cells_h, "x", cells_w);
  // Same op sequence as the pipeline (one_hot -> channels first -> float -> avg_pool), so the
  // floating-point values agree bit for bit.
  torch::Tensor onehot = torch::one_hot(labels.to(torch::kInt64), num_labels)
                             .permute({0, 3, 1, 2})
                             .to(torch::kFloat32);
  if (h != cells_h) onehot = torch::avg_pool2d(onehot, {h / cells_h, w / cells_w});
  return onehot.contiguous();
}

torch::Tensor MapChannels::ToUNetInput(const torch::Tensor& fractions, int64_t subcells) {
  TORCH_CHECK(subcells >= 1, "subcells must be >= 1, got ", subcells);
  if (subcells == 1) return fractions;
  return torch::pixel_unshuffle(fractions, subcells).contiguous();
}

torch::Tensor MapChannels::FromLabels(const torch::Tensor& labels, int64_t num_labels,
                                      int64_t latent_h, int64_t latent_w, int64_t subcells) {
  TORCH_CHECK(subcells >= 1, "subcells must be >= 1, got ", subcells);
  if (subcells > 1 && labels.dim() == 3 && labels.size(1) == latent_h) {
    // A map at latent resolution: every sub-cell of a cell has the cell's label (as the pipeline).
    return ToUNetInput(
        Fractions(labels.repeat_interleave(subcells, 1).repeat_interleave(subcells, 2), num_labels,
                  latent_h * subcells, latent_w * subcells),
        subcells);
  }
  return ToUNetInput(Fractions(labels, num_labels, latent_h * subcells, latent_w * subcells),
                     subcells);
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
