#include "tools/shapes/box_downsampler.h"

#include <algorithm>
#include <cstddef>

namespace ldm::shapes {

std::vector<uint8_t> BoxDownsampler::Downsample(const std::vector<uint8_t>& rgb, int width,
                                                int height, int factor) {
  if (factor < 1 || width % factor != 0 || height % factor != 0 ||
      rgb.size() != static_cast<size_t>(width) * height * 3) {
    return {};
  }
  const int w = width / factor, h = height / factor, n = factor * factor;
  std::vector<uint8_t> out(static_cast<size_t>(w) * h * 3);
  for (int y = 0; y < h; ++y) {
    for (int x = 0; x < w; ++x) {
      for (int c = 0; c < 3; ++c) {
        int sum = 0;
        for (int dy = 0; dy < factor; ++dy) {
          const size_t row = static_cast<size_t>(y * factor + dy) * width;
          for (int dx = 0; dx < factor; ++dx) {
            sum += rgb[(row + static_cast<size_t>(x * factor + dx)) * 3 + c];
          }
        }
        out[(static_cast<size_t>(y) * w + x) * 3 + c] = static_cast<uint8_t>((sum + n / 2) / n);
      }
    }
  }
  return out;
}

std::vector<uint8_t> BoxDownsampler::Crop(const std::vector<uint8_t>& rgb, int image_width, int x0,
                                          int y0, int width, int height) {
  std::vector<uint8_t> out(static_cast<size_t>(width) * height * 3);
  for (int y = 0; y < height; ++y) {
    const size_t src = (static_cast<size_t>(y0 + y) * image_width + x0) * 3;
    std::copy(rgb.begin() + static_cast<std::ptrdiff_t>(src),
              rgb.begin() + static_cast<std::ptrdiff_t>(src) + width * 3,
              out.begin() + static_cast<std::ptrdiff_t>(y) * width * 3);
  }
  return out;
}

}  // namespace ldm::shapes
