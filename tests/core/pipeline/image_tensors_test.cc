#include "core/pipeline/image_tensors.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

namespace ldm {
namespace image_tensors_test {

TEST(ImageTensorsTest, ScalesRoundsClampsAndLaysOutHwc) {
  // [3, 1, 2]: channel c, column x.
  const torch::Tensor chw =
      torch::tensor({0.0f, 1.0f, 0.5f, 0.2f, -0.3f, 1.7f}).reshape({3, 1, 2});
  const Image8 img = ImageTensors::FromChw01(chw);
  EXPECT_EQ(img.width, 2);
  EXPECT_EQ(img.height, 1);
  EXPECT_EQ(img.channels, 3);
  // Pixel 0 = (0, 0.5, -0.3) -> (0, 128, 0); pixel 1 = (1, 0.2, 1.7) -> (255, 51, 255).
  EXPECT_EQ(img.pixels, (std::vector<uint8_t>{0, 128, 0, 255, 51, 255}));
}

TEST(ImageTensorsTest, BatchGivesOneImagePerRowAndRejectsOtherRanks) {
  const torch::Tensor batch = torch::stack({torch::zeros({3, 2, 2}), torch::ones({3, 2, 2})});
  const std::vector<Image8> images = ImageTensors::FromBatch01(batch);
  ASSERT_EQ(images.size(), 2u);
  EXPECT_EQ(images[0].pixels, std::vector<uint8_t>(12, 0));
  EXPECT_EQ(images[1].pixels, std::vector<uint8_t>(12, 255));
  EXPECT_THROW(ImageTensors::FromBatch01(torch::zeros({3, 2, 2})), c10::Error);
  EXPECT_THROW(ImageTensors::FromChw01(torch::zeros({1, 3, 2, 2})), c10::Error);
}

}  // namespace image_tensors_test
}  // namespace ldm
