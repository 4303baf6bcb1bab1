#include "core/pipeline/image_tensors.h"

#include <torch/torch.h>

namespace ldm {

Image8 ImageTensors::FromChw01(const torch::Tensor& chw01) {
  TORCH_CHECK(chw01.dim() == 3, "expected a [C, H, W] image tensor, got ", chw01.sizes());
  const torch::Tensor hwc = chw01.mul(255.0).round().clamp(0, 255).to(torch::kUInt8)
                                .permute({1, 2, 0}).contiguous().cpu();
  Image8 img;
  img.height = static_cast<int>(hwc.size(0));
  img.width = static_cast<int>(hwc.size(1));
  img.channels = static_cast<int>(hwc.size(2));
  img.pixels.assign(hwc.data_ptr<uint8_t>(), hwc.data_ptr<uint8_t>() + hwc.numel());
  return img;
}

std::vector<Image8> ImageTensors::FromBatch01(const torch::Tensor& nchw01) {
  TORCH_CHECK(nchw01.dim() == 4, "expected a [B, C, H, W] image tensor, got ", nchw01.sizes());
  std::vector<Image8> out;
  out.reserve(static_cast<size_t>(nchw01.size(0)));
  for (int64_t i = 0; i < nchw01.size(0); ++i) out.push_back(FromChw01(nchw01[i]));
  return out;
}

}  // namespace ldm
