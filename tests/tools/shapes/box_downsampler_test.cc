#include "tools/shapes/box_downsampler.h"

#include <gtest/gtest.h>

#include "tools/shapes/shapes_dataset.h"

namespace ldm::shapes {
namespace box_downsampler_test {

TEST(BoxDownsamplerTest, EachPixelIsTheRoundedMeanOfItsBlock) {
  // 4x2 image, factor 2 -> 2x1. Channel 0 of the left block: 0, 1, 4, 5 -> 2.5 -> 3 (half up).
  std::vector<uint8_t> rgb(4 * 2 * 3);
  for (int y = 0; y < 2; ++y) {
    for (int x = 0; x < 4; ++x) {
      for (int c = 0; c < 3; ++c)
        rgb[(y * 4 + x) * 3 + c] = static_cast<uint8_t>(y * 4 + x + 100 * c);
    }
  }
  const std::vector<uint8_t> out = BoxDownsampler::Downsample(rgb, 4, 2, 2);
  ASSERT_EQ(out.size(), 2u * 1u * 3u);
  EXPECT_EQ(out[0], 3);  // (0 + 1 + 4 + 5) / 4 = 2.5
  EXPECT_EQ(out[1], 103);
  EXPECT_EQ(out[3], 5);  // (2 + 3 + 6 + 7) / 4 = 4.5
  EXPECT_EQ(BoxDownsampler::Downsample(rgb, 4, 2, 1), rgb);
  EXPECT_TRUE(BoxDownsampler::Downsample(rgb, 4, 2, 3).empty());  // 4 is not a multiple of 3
  EXPECT_TRUE(BoxDownsampler::Downsample(rgb, 5, 2, 1).empty());  // size mismatch
}

TEST(BoxDownsamplerTest, CropCopiesTheWindow) {
  std::vector<uint8_t> rgb(4 * 3 * 3);
  for (size_t i = 0; i < rgb.size(); ++i) rgb[i] = static_cast<uint8_t>(i);
  const std::vector<uint8_t> crop = BoxDownsampler::Crop(rgb, 4, 1, 1, 2, 2);
  ASSERT_EQ(crop.size(), 12u);
  EXPECT_EQ(crop[0], (1 * 4 + 1) * 3);
  EXPECT_EQ(crop[6], (2 * 4 + 1) * 3);
}

// The super-resolution data: a 128x128 render box-downsampled 4x is close to the same scene
// rendered directly at 32x32 (geometry scales; only pixel noise and anti-aliasing differ), while
// the 64x64 renders the base model trains on are unchanged by the resolution option.
TEST(BoxDownsamplerTest, DownsampledHighResRenderMatchesTheLowResScene) {
  const ShapesDataset high({.seed = 5, .resolution = 128});
  const ShapesDataset low({.seed = 5, .resolution = 32, .noise_amplitude = 0});
  for (uint64_t i = 0; i < 10; ++i) {
    const ShapesSample h = high.Sample(i), l = low.Sample(i);
    const std::vector<uint8_t> down = BoxDownsampler::Downsample(h.rgb, 128, 128, 4);
    ASSERT_EQ(down.size(), l.rgb.size());
    double sum = 0;
    for (size_t k = 0; k < down.size(); ++k) sum += std::abs(int(down[k]) - int(l.rgb[k]));
    EXPECT_LT(sum / down.size(), 8.0) << "sample " << i;  // shading differs by a few levels
  }
}

}  // namespace box_downsampler_test
}  // namespace ldm::shapes
