#include "core/pipeline/semantic_map_channels.h"

#include <torch/torch.h>

namespace ldm {

torch::Tensor SemanticMapChannels::Fractions(const torch::Tensor& labels, int64_t num_labels,
                                             int64_t cells_h, int64_t cells_w) {
  TORCH_CHECK(labels.dim() == 3, "labels must be [B, H, W]");
  TORCH_CHECK(num_labels > 0 && cells_h > 0 && cells_w > 0, "num_labels and the cell grid ",
              cells_h, "x", cells_w, " must be positive");
  const int64_t h = labels.size(1), w = labels.size(2);
  TORCH_CHECK(h % cells_h == 0 && w % cells_w == 0, "map size ", h, "x", w,
              " is not a multiple of the cell grid ", cells_h, "x", cells_w);
  torch::Tensor onehot = torch::one_hot(labels.to(torch::kInt64), num_labels)
                             .permute({0, 3, 1, 2})
                             .to(torch::kFloat32);
  // The mean of a cell's one-hot vectors is its label fractions; skipped at the cell size, where
  // the pool would be the identity.
  if (h != cells_h || w != cells_w) onehot = torch::avg_pool2d(onehot, {h / cells_h, w / cells_w});
  return onehot.contiguous();
}

torch::Tensor SemanticMapChannels::ToUNetInput(const torch::Tensor& fractions, int64_t subcells) {
  TORCH_CHECK(subcells >= 1, "subcells must be >= 1, got ", subcells);
  if (subcells == 1) return fractions;
  return torch::pixel_unshuffle(fractions, subcells).contiguous();
}

torch::Tensor SemanticMapChannels::FromLabels(const torch::Tensor& labels, int64_t num_labels,
                                              int64_t latent_h, int64_t latent_w,
                                              int64_t subcells) {
  TORCH_CHECK(subcells >= 1, "subcells must be >= 1, got ", subcells);
  TORCH_CHECK(labels.dim() == 3, "labels must be [B, H, W]");
  if (subcells > 1 && labels.size(1) == latent_h && labels.size(2) == latent_w) {
    // A latent-size map says nothing finer than a cell: each sub-cell repeats its cell's label.
    return ToUNetInput(
        Fractions(labels.repeat_interleave(subcells, 1).repeat_interleave(subcells, 2), num_labels,
                  latent_h * subcells, latent_w * subcells),
        subcells);
  }
  return ToUNetInput(Fractions(labels, num_labels, latent_h * subcells, latent_w * subcells),
                     subcells);
}

}  // namespace ldm
