#include "tools/eval/image_grid.h"

#include <algorithm>
#include <cstring>

#include "tools/shapes/shapes_types.h"

namespace ldm::eval {

absl::StatusOr<Image8> ImageGrid::Tile(const std::vector<std::vector<Image8>>& rows, int gap,
                                       uint8_t background) {
  int w = 0, h = 0;
  size_t cols = 0;
  for (const auto& row : rows) {
    cols = std::max(cols, row.size());
    for (const Image8& img : row) {
      if (img.channels != 3) return absl::InvalidArgumentError("grid images must be RGB");
      if (w == 0) {
        w = img.width;
        h = img.height;
      } else if (img.width != w || img.height != h) {
        return absl::InvalidArgumentError("grid images must share one size");
      }
    }
  }
  if (w == 0) return absl::InvalidArgumentError("grid has no images");
  Image8 out;
  out.channels = 3;
  out.width = static_cast<int>(cols) * (w + gap) + gap;
  out.height = static_cast<int>(rows.size()) * (h + gap) + gap;
  out.pixels.assign(static_cast<size_t>(out.width) * out.height * 3, background);
  for (size_t r = 0; r < rows.size(); ++r) {
    for (size_t c = 0; c < rows[r].size(); ++c) {
      const Image8& img = rows[r][c];
      const int x0 = gap + static_cast<int>(c) * (w + gap),
                y0 = gap + static_cast<int>(r) * (h + gap);
      for (int y = 0; y < h; ++y) {
        std::memcpy(&out.pixels[(static_cast<size_t>(y0 + y) * out.width + x0) * 3],
                    &img.pixels[static_cast<size_t>(y) * w * 3], static_cast<size_t>(w) * 3);
      }
    }
  }
  return out;
}

Image8 ImageGrid::ResizeNearest(const Image8& image, int width, int height) {
  Image8 out;
  out.width = width;
  out.height = height;
  out.channels = image.channels;
  const size_t c = static_cast<size_t>(image.channels);
  out.pixels.resize(static_cast<size_t>(width) * height * c);
  for (int y = 0; y < height; ++y) {
    // Sample at the destination pixel's centre so integer up-scales replicate pixels exactly.
    const int sy = std::min(image.height - 1, (2 * y + 1) * image.height / (2 * height));
    for (int x = 0; x < width; ++x) {
      const int sx = std::min(image.width - 1, (2 * x + 1) * image.width / (2 * width));
      std::memcpy(&out.pixels[(static_cast<size_t>(y) * width + x) * c],
                  &image.pixels[(static_cast<size_t>(sy) * image.width + sx) * c], c);
    }
  }
  return out;
}

Image8 ImageGrid::MapToImage(const std::vector<uint8_t>& labels, int width, int height) {
  Image8 out;
  out.width = width;
  out.height = height;
  out.channels = 3;
  out.pixels.resize(static_cast<size_t>(width) * height * 3);
  for (size_t i = 0; i < labels.size() && i * 3 < out.pixels.size(); ++i) {
    shapes::Rgb c{255, 255, 255};
    if (labels[i] > 0 && labels[i] <= shapes::kNumColors) {
      c = shapes::ColorRgb(static_cast<shapes::Color>(labels[i] - 1));
    }
    out.pixels[i * 3] = c.r;
    out.pixels[i * 3 + 1] = c.g;
    out.pixels[i * 3 + 2] = c.b;
  }
  return out;
}

}  // namespace ldm::eval
