#include "tools/train/map_channels.h"

#include <torch/torch.h>

namespace ldm::train {

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
