// ImageGrid: tiles equally sized RGB images into one image (row-major cells, a gap of
// `gap` pixels in `background` gray between them) for the sample grid of docs/MODEL.md.
#pragma once

#include <cstdint>
#include <vector>

#include "absl/status/statusor.h"
#include "core/io/png_codec.h"

namespace ldm::eval {

class ImageGrid {
 public:
  // rows[r][c] is the cell image; rows may have fewer cells than the widest (left-aligned). All
  // images must be RGB of one size; INVALID_ARGUMENT otherwise or when there is no image.
  static absl::StatusOr<Image8> Tile(const std::vector<std::vector<Image8>>& rows, int gap = 2,
                                     uint8_t background = 255);
  // Nearest-neighbour resize (any channel count); used to show latent-resolution previews at
  // image size. width and height must be positive.
  static Image8 ResizeNearest(const Image8& image, int width, int height);
  // A label map drawn in the palette (background white) for showing map inputs.
  static Image8 MapToImage(const std::vector<uint8_t>& labels, int width, int height);
};

}  // namespace ldm::eval
