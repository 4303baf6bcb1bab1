// ImageTensors: decoded image tensors -> 8-bit RGB images, the one conversion every caller of the
// VAE uses (pipeline outputs and previews, evaluators).
//
// Values in [0, 1] are scaled by 255, rounded half away from zero, clamped to [0, 255] and laid
// out HWC (Image8's layout), on the CPU. Pure; thread-safe. Throws c10::Error on tensors of the
// wrong rank (callers are inside TorchGuard).
#pragma once

#include <torch/types.h>

#include <vector>

#include "core/io/png_codec.h"

namespace ldm {

class ImageTensors {
 public:
  // [C, H, W] in [0, 1] -> one image with C channels.
  static Image8 FromChw01(const torch::Tensor& chw01);
  // [B, C, H, W] in [0, 1] -> B images.
  static std::vector<Image8> FromBatch01(const torch::Tensor& nchw01);
};

}  // namespace ldm
