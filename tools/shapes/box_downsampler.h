// BoxDownsampler: area (box-filter) downsampling of 8-bit RGB images by an integer factor.
//
// The low-resolution inputs of ldm's super-resolution model are made this way from the
// high-resolution renders (training and evaluation), so every low-resolution pixel is the rounded
// mean of the factor x factor block it covers, exactly reproducible without torch.
// Thread safety: stateless; pure functions.
#pragma once

#include <cstdint>
#include <vector>

namespace ldm::shapes {

class BoxDownsampler {
 public:
  // `rgb` is HWC (3 bytes per pixel), width x height; both must be multiples of `factor` (>= 1).
  // Returns (width / factor) x (height / factor) pixels, each channel the mean of its block rounded
  // half up. An empty vector when the sizes do not fit.
  static std::vector<uint8_t> Downsample(const std::vector<uint8_t>& rgb, int width, int height,
                                         int factor);
  // The width x height crop at (x0, y0) of an HWC RGB image of the given width (rows of
  // `image_width` pixels). The crop must lie inside the image.
  static std::vector<uint8_t> Crop(const std::vector<uint8_t>& rgb, int image_width, int x0, int y0,
                                   int width, int height);
};

}  // namespace ldm::shapes
