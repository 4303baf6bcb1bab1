#include "tools/train/map_channels.h"

#include <torch/torch.h>

namespace ldm::train {

torch::Tensor MapChannels::FromLabels(const torch::Tensor& labels, int64_t num_labels,
                                      int64_t latent_h, int64_t latent_w) {
  TORCH_CHECK(labels.dim() == 3, "labels must be [B, H, W]");
  const int64_t h = labels.size(1), w = labels.size(2);
  TORCH_CHECK(h % latent_h == 0 && w % latent_w == 0, "map size ", h, "x", w,
              " is not a multiple of the latent size ", latent_h, "x", latent_w);
  // Same op sequence as the pipeline (one_hot -> channels first -> float -> avg_pool), so the
  // floating-point values agree bit for bit.
  torch::Tensor onehot = torch::one_hot(labels.to(torch::kInt64), num_labels)
                             .permute({0, 3, 1, 2})
                             .to(torch::kFloat32);
  if (h != latent_h) onehot = torch::avg_pool2d(onehot, {h / latent_h, w / latent_w});
  return onehot.contiguous();
}

}  // namespace ldm::train
