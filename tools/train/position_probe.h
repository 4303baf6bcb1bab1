// PositionProbe: a training-only auxiliary loss that makes the UNet's features state where they
// are on the canvas.
//
// Why (docs/MODEL.md, "The text path"): a caption's position words can only steer generation if
// the cross-attention queries differ between image locations. A UNet without positional
// embeddings learns absolute position only from its convolutions' zero padding (Islam et al.
// 2020, "How much position information do convolutional neural networks encode?"), and nothing in
// the diffusion loss asks for it until text and places are already bound: at t = T the input is
// pure noise, every location looks alike, and the best prediction ignores the position words (the
// session-5 models drew the same centred blob for "top left" and "bottom right").
//
// The probe reads UNet intermediates (UNet2DConditionModel::forward's `intermediates`, by name)
// through one 1x1 convolution each and regresses every cell's own normalised coordinates
// (y, x in [-1, 1], cell centres), so the features must carry them linearly, which is the form
// an attention query can use. It is applied at every timestep and condition, t = T included, so
// the position has to come from the padding, not from the noisy latent. The probe's weights are
// stored in checkpoints but never exported: the model folder stays a plain diffusers UNet.
//
// Errors: Loss throws c10::Error when a named intermediate is missing or has another channel
// count. Not thread-safe (a torch module).
#pragma once

#include <torch/nn/module.h>
#include <torch/nn/modules/container/modulelist.h>
#include <torch/types.h>

#include <cstdint>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "core/nn/unet_2d_condition_model.h"

namespace ldm::train {

class PositionProbeImpl : public torch::nn::Module {
 public:
  // (intermediate name, its channel count), e.g. {"down_blocks.0", 64}, {"mid_block", 128}.
  explicit PositionProbeImpl(std::vector<std::pair<std::string, int64_t>> features);

  // The features whose positions matter to the attention queries: the output of every down
  // block but the last (it feeds the next, coarser level's attention), the mid block, and every
  // up block but the last (it feeds the finer level's attention). For the toy UNet (64, 128):
  // down_blocks.0 (64, 4x4), mid_block (128, 4x4), up_blocks.0 (128, 8x8).
  static std::vector<std::pair<std::string, int64_t>> DefaultFeatures(
      const UNet2DConditionConfig& unet);

  // Mean over the probed features of the MSE between predicted and true cell coordinates.
  torch::Tensor Loss(const std::map<std::string, torch::Tensor>& intermediates);

  // The coordinate target of an [B, C, H, W] feature map: [1, 2, H, W] (y, x) cell centres in
  // [-1, 1] (for H = 4: -0.75, -0.25, 0.25, 0.75).
  static torch::Tensor Coordinates(int64_t height, int64_t width, const torch::TensorOptions& o);

  const std::vector<std::pair<std::string, int64_t>>& features() const { return features_; }

 private:
  std::vector<std::pair<std::string, int64_t>> features_;
  torch::nn::ModuleList heads_{nullptr};
};
TORCH_MODULE(PositionProbe);

}  // namespace ldm::train
