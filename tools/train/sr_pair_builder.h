// SrPairBuilder: (high-resolution image, low-resolution image) training pairs for the
// super-resolution model (LDM-SR, Rombach et al. 2022, Sec. 4.4: trained on pairs made by
// degrading the high-resolution image; ldm uses the plain area (box) 4x downsampling, no blur or
// noise, since the inputs it upscales are the base model's clean renders).
//
// A pair is named by a key, like BatchBuilder's examples: the key picks a scene or map sample
// (BatchBuilder::Example) and a scale. Half the pairs (zoom_fraction) are rendered at
// 2 x resolution and a resolution x resolution window at a random offset is cut out, so the model
// sees objects at two scales: those of a `resolution` render (7-18 px objects in a 32x32 input,
// the held-out evaluation) and those of the 64x64 base model's outputs it upscales when chained
// (14-36 px objects in the input). The low-resolution image is BoxDownsampler's uint8 output,
// i.e. exactly what a client would send as a PNG.
//
// Thread safety: const methods are thread-safe; Build renders in parallel on torch's pool.
#pragma once

#include <torch/types.h>

#include <cstdint>
#include <vector>

#include "tools/train/batch_builder.h"

namespace ldm::train {

struct SrPairOptions {
  uint64_t seed = 0;
  int resolution = 128;        // high-resolution side
  int upscale_factor = 4;      // low-resolution side = resolution / upscale_factor
  double zoom_fraction = 0.5;  // pairs cut from a 2x render
  double map_fraction = 0.3;   // map samples (arbitrary regions) among the pairs
};

struct SrPairBatch {
  torch::Tensor images;   // [B, 3, R, R] float32 in [-1, 1]
  torch::Tensor low_res;  // [B, 3, R/u, R/u] uint8
};

class SrPairBuilder {
 public:
  explicit SrPairBuilder(SrPairOptions options);

  const SrPairOptions& options() const { return options_; }
  SrPairBatch Build(const std::vector<uint64_t>& keys) const;
  // The high-resolution HWC RGB image of a key (resolution x resolution).
  std::vector<uint8_t> HighRes(uint64_t key) const;

  // HWC uint8 [H, W, 3] bytes -> [3, H, W] uint8 tensor.
  static torch::Tensor ToChw(const std::vector<uint8_t>& rgb, int width, int height);

 private:
  SrPairOptions options_;
  BatchBuilder direct_;
  BatchBuilder zoomed_;
};

}  // namespace ldm::train
