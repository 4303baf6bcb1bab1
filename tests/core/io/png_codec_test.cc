#include "core/io/png_codec.h"

#include <gtest/gtest.h>

#include "tests/testing/tensor_matchers.h"

namespace ldm {
namespace png_codec_test {

Image8 Gradient(int w, int h, int c) {
  Image8 img{w, h, c, std::vector<uint8_t>(static_cast<size_t>(w) * h * c)};
  for (size_t i = 0; i < img.pixels.size(); ++i) img.pixels[i] = static_cast<uint8_t>(i * 7 % 251);
  return img;
}

TEST(PngCodecTest, RoundTripsGrayRgbAndRgbaLosslessly) {
  for (int c : {1, 3, 4}) {
    Image8 img = Gradient(13, 7, c);
    LDM_ASSERT_OK_AND_ASSIGN(std::string png, EncodePng(img, 1));
    LDM_ASSERT_OK_AND_ASSIGN(Image8 back, DecodePng(png));
    EXPECT_EQ(back.width, 13);
    EXPECT_EQ(back.height, 7);
    EXPECT_EQ(back.channels, c);
    EXPECT_EQ(back.pixels, img.pixels) << c;
  }
}

TEST(PngCodecTest, DecodesToRequestedLayout) {
  LDM_ASSERT_OK_AND_ASSIGN(std::string png, EncodePng(Gradient(4, 4, 1)));
  LDM_ASSERT_OK_AND_ASSIGN(Image8 rgb, DecodePng(png, PngLayout::kRgb));
  EXPECT_EQ(rgb.channels, 3);
  EXPECT_EQ(rgb.pixels[0], rgb.pixels[1]);
  LDM_ASSERT_OK_AND_ASSIGN(std::string color, EncodePng(Gradient(4, 4, 4)));
  LDM_ASSERT_OK_AND_ASSIGN(Image8 gray, DecodePng(color, PngLayout::kGray));
  EXPECT_EQ(gray.channels, 1);
}

TEST(PngCodecTest, IndicesFromGrayscaleAndRejectsColor) {
  Image8 labels{3, 2, 1, {0, 1, 2, 3, 4, 5}};
  LDM_ASSERT_OK_AND_ASSIGN(std::string png, EncodePng(labels));
  LDM_ASSERT_OK_AND_ASSIGN(Image8 back, DecodePngIndices(png));
  EXPECT_EQ(back.pixels, labels.pixels);
  LDM_ASSERT_OK_AND_ASSIGN(std::string color, EncodePng(Gradient(2, 2, 3)));
  EXPECT_EQ(DecodePngIndices(color).status().code(), absl::StatusCode::kInvalidArgument);
}

TEST(PngCodecTest, GarbageAndTruncatedDataGiveInvalidArgument) {
  EXPECT_EQ(DecodePng("not a png").status().code(), absl::StatusCode::kInvalidArgument);
  LDM_ASSERT_OK_AND_ASSIGN(std::string png, EncodePng(Gradient(32, 32, 3)));
  auto r = DecodePng(png.substr(0, png.size() / 2));
  EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument);
  std::string corrupt = png;
  for (size_t i = 40; i < corrupt.size(); i += 3) corrupt[i] ^= 0x5a;
  EXPECT_FALSE(DecodePng(corrupt).ok());
}

TEST(PngCodecTest, RejectsBadDimensionsOnEncode) {
  EXPECT_FALSE(EncodePng(Image8{0, 3, 3, {}}).ok());
  EXPECT_FALSE(EncodePng(Image8{2, 2, 2, std::vector<uint8_t>(8)}).ok());
  EXPECT_FALSE(EncodePng(Image8{2, 2, 3, std::vector<uint8_t>(5)}).ok());
}

}  // namespace
}  // namespace ldm
