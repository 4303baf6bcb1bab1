#include "core/io/png_codec.h"

#include <png.h>

#include <csetjmp>
#include <cstring>

#include "absl/strings/str_cat.h"

namespace ldm {
namespace {

// libpng reports errors through longjmp; the error text is kept here so it can be returned.
struct ErrorState {
  std::string message;
};

void OnPngError(png_structp png, png_const_charp msg) {
  auto* state = static_cast<ErrorState*>(png_get_error_ptr(png));
  if (state != nullptr) state->message = msg;
  png_longjmp(png, 1);
}

void OnPngWarning(png_structp, png_const_charp) {}

struct ReadBuffer {
  const uint8_t* data;
  size_t size;
  size_t offset;
};

void ReadFromBuffer(png_structp png, png_bytep out, png_size_t length) {
  auto* buf = static_cast<ReadBuffer*>(png_get_io_ptr(png));
  if (buf->offset + length > buf->size) png_error(png, "unexpected end of PNG data");
  std::memcpy(out, buf->data + buf->offset, length);
  buf->offset += length;
}

void WriteToString(png_structp png, png_bytep data, png_size_t length) {
  auto* out = static_cast<std::string*>(png_get_io_ptr(png));
  out->append(reinterpret_cast<const char*>(data), length);
}

void FlushNothing(png_structp) {}

enum class Mode { kAsStored, kGray, kRgb, kIndices };

absl::StatusOr<Image8> Decode(absl::string_view bytes, Mode mode) {
  if (bytes.size() < 8 || png_sig_cmp(reinterpret_cast<png_const_bytep>(bytes.data()), 0, 8) != 0) {
    return absl::InvalidArgumentError("not a PNG image (bad signature)");
  }
  ErrorState state;
  png_structp png = png_create_read_struct(PNG_LIBPNG_VER_STRING, &state, OnPngError, OnPngWarning);
  if (png == nullptr) return absl::InternalError("png_create_read_struct failed");
  png_infop info = png_create_info_struct(png);
  if (info == nullptr) {
    png_destroy_read_struct(&png, nullptr, nullptr);
    return absl::InternalError("png_create_info_struct failed");
  }
  ReadBuffer buffer{reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size(), 0};
  Image8 image;
  std::vector<png_bytep> rows;
  std::string error;
  // Everything libpng may longjmp out of happens inside this block; locals with destructors are
  // declared before setjmp so that nothing is skipped.
  if (setjmp(png_jmpbuf(png))) {
    png_destroy_read_struct(&png, &info, nullptr);
    return absl::InvalidArgumentError(absl::StrCat("PNG does not decode: ", state.message));
  }
  png_set_read_fn(png, &buffer, ReadFromBuffer);
  png_read_info(png, info);
  const png_uint_32 width = png_get_image_width(png, info);
  const png_uint_32 height = png_get_image_height(png, info);
  const int color_type = png_get_color_type(png, info);
  const int bit_depth = png_get_bit_depth(png, info);
  if (static_cast<int64_t>(width) * height > kMaxDecodePixels) {
    png_destroy_read_struct(&png, &info, nullptr);
    return absl::InvalidArgumentError(
        absl::StrCat("PNG is too large (", width, "x", height, ")"));
  }
  if (mode == Mode::kIndices) {
    if (color_type == PNG_COLOR_TYPE_PALETTE) {
      if (bit_depth < 8) png_set_packing(png);
    } else if (color_type == PNG_COLOR_TYPE_GRAY && bit_depth == 8) {
      // Gray values are the indices.
    } else {
      png_destroy_read_struct(&png, &info, nullptr);
      return absl::InvalidArgumentError(
          "label-map PNG must be a palette image or 8-bit grayscale (one index per pixel)");
    }
  } else {
    if (bit_depth == 16) png_set_strip_16(png);
    if (color_type == PNG_COLOR_TYPE_PALETTE) png_set_palette_to_rgb(png);
    if (color_type == PNG_COLOR_TYPE_GRAY && bit_depth < 8) png_set_expand_gray_1_2_4_to_8(png);
    if (png_get_valid(png, info, PNG_INFO_tRNS)) png_set_tRNS_to_alpha(png);
    const bool is_gray = (color_type & PNG_COLOR_MASK_COLOR) == 0;
    if (mode == Mode::kRgb) {
      if (is_gray) png_set_gray_to_rgb(png);
      png_set_strip_alpha(png);
    } else if (mode == Mode::kGray) {
      if (!is_gray) png_set_rgb_to_gray_fixed(png, 1, -1, -1);
      png_set_strip_alpha(png);
    }
  }
  png_set_interlace_handling(png);
  png_read_update_info(png, info);
  image.width = static_cast<int>(width);
  image.height = static_cast<int>(height);
  image.channels = png_get_channels(png, info);
  const size_t rowbytes = png_get_rowbytes(png, info);
  if (rowbytes != static_cast<size_t>(image.width) * image.channels) {
    png_destroy_read_struct(&png, &info, nullptr);
    return absl::InvalidArgumentError("unsupported PNG pixel layout");
  }
  image.pixels.resize(rowbytes * height);
  rows.resize(height);
  for (png_uint_32 y = 0; y < height; ++y) rows[y] = image.pixels.data() + y * rowbytes;
  png_read_image(png, rows.data());
  png_read_end(png, nullptr);
  png_destroy_read_struct(&png, &info, nullptr);
  return image;
}

}  // namespace

absl::StatusOr<std::string> EncodePng(const Image8& image, int compression_level) {
  if (image.width <= 0 || image.height <= 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("cannot encode a ", image.width, "x", image.height, " image"));
  }
  int color_type;
  switch (image.channels) {
    case 1: color_type = PNG_COLOR_TYPE_GRAY; break;
    case 3: color_type = PNG_COLOR_TYPE_RGB; break;
    case 4: color_type = PNG_COLOR_TYPE_RGBA; break;
    default:
      return absl::InvalidArgumentError(absl::StrCat("cannot encode ", image.channels, " channels"));
  }
  const size_t rowbytes = static_cast<size_t>(image.width) * image.channels;
  if (image.pixels.size() != rowbytes * image.height) {
    return absl::InvalidArgumentError("pixel buffer size does not match width x height x channels");
  }
  ErrorState state;
  png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, &state, OnPngError, OnPngWarning);
  if (png == nullptr) return absl::InternalError("png_create_write_struct failed");
  png_infop info = png_create_info_struct(png);
  if (info == nullptr) {
    png_destroy_write_struct(&png, nullptr);
    return absl::InternalError("png_create_info_struct failed");
  }
  std::string out;
  std::vector<png_bytep> rows(image.height);
  if (setjmp(png_jmpbuf(png))) {
    png_destroy_write_struct(&png, &info);
    return absl::InternalError(absl::StrCat("PNG encoding failed: ", state.message));
  }
  png_set_write_fn(png, &out, WriteToString, FlushNothing);
  png_set_compression_level(png, std::clamp(compression_level, 0, 9));
  png_set_IHDR(png, info, image.width, image.height, 8, color_type, PNG_INTERLACE_NONE,
               PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
  png_write_info(png, info);
  for (int y = 0; y < image.height; ++y) {
    rows[y] = const_cast<png_bytep>(image.pixels.data() + y * rowbytes);
  }
  png_write_image(png, rows.data());
  png_write_end(png, nullptr);
  png_destroy_write_struct(&png, &info);
  return out;
}

absl::StatusOr<Image8> DecodePng(absl::string_view bytes, PngLayout layout) {
  switch (layout) {
    case PngLayout::kGray: return Decode(bytes, Mode::kGray);
    case PngLayout::kRgb: return Decode(bytes, Mode::kRgb);
    default: return Decode(bytes, Mode::kAsStored);
  }
}

absl::StatusOr<Image8> DecodePngIndices(absl::string_view bytes) { return Decode(bytes, Mode::kIndices); }

}  // namespace ldm
