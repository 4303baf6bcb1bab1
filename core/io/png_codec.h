// PNG encoding and decoding (libpng), used for result images, previews and uploaded maps.
//
// Images are 8-bit, row-major, interleaved (HWC). Encoding supports 1 (gray), 3 (RGB) and
// 4 (RGBA) channels. Decoding accepts any PNG libpng reads (palette, 16-bit, gray, alpha,
// interlaced) and converts it to the requested layout.
// Thread safety: stateless, safe from any thread.
// Errors: INVALID_ARGUMENT for bad dimensions or a PNG that does not decode (with libpng's
// message); decoded images larger than kMaxDecodePixels are rejected before allocation.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace ldm {

struct Image8 {
  int width = 0;
  int height = 0;
  int channels = 0;            // 1, 3 or 4
  std::vector<uint8_t> pixels; // height * width * channels bytes
};

// Largest decoded image accepted (protects the server from decompression bombs).
inline constexpr int64_t kMaxDecodePixels = 16384LL * 16384LL;

// `compression_level` 0..9 (zlib); 1 is fast and is what the server uses for previews.
absl::StatusOr<std::string> EncodePng(const Image8& image, int compression_level = 6);

enum class PngLayout { kAsStored, kGray, kRgb };

// Decodes `bytes`. kGray keeps the first channel of palette-less gray images and converts colour
// images with libpng's RGB->gray; kAsStored keeps gray/RGB/RGBA as stored (palette -> RGB(A)).
// For label maps use DecodePngIndices.
absl::StatusOr<Image8> DecodePng(absl::string_view bytes, PngLayout layout = PngLayout::kAsStored);

// Decodes a PNG that stores one label index per pixel: a palette image (indices are the palette
// indices) or an 8-bit grayscale image (indices are the gray values). Other formats are an error.
absl::StatusOr<Image8> DecodePngIndices(absl::string_view bytes);

}  // namespace ldm
