#include "core/pipeline/low_res_conditioning.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

namespace ldm {
namespace low_res_conditioning_test {

TEST(LowResConditioningTest, ChannelsArePixelUnshuffledToLatentResolution) {
  EXPECT_EQ(LowResConditioning::UnshuffleFactor(8, 4), 2);
  EXPECT_EQ(LowResConditioning::Channels(8, 4), 12);
  EXPECT_EQ(LowResConditioning::Channels(8, 8), 3);  // low-res already at latent size: plain concat
  EXPECT_EQ(LowResConditioning::Channels(8, 2), 48);
  EXPECT_THROW(LowResConditioning::UnshuffleFactor(8, 3), c10::Error);
}

TEST(LowResConditioningTest, UnshuffleIsLosslessWithTorchsChannelOrder) {
  torch::manual_seed(0);
  torch::Tensor img = torch::rand({2, 3, 32, 32}) * 2 - 1;
  torch::Tensor c = LowResConditioning::ToLatentChannels(img, 2);
  ASSERT_EQ(c.sizes(), torch::IntArrayRef({2, 12, 16, 16}));
  // Channel c * 4 + dy * 2 + dx at (y, x) is pixel (2y + dy, 2x + dx) of colour c.
  EXPECT_EQ(c[1][1 * 4 + 1 * 2 + 0][3][5].item<float>(), img[1][1][7][10].item<float>());
  EXPECT_EQ(c[0][2 * 4 + 0 * 2 + 1][0][0].item<float>(), img[0][2][0][1].item<float>());
  EXPECT_TRUE(torch::equal(torch::pixel_shuffle(c, 2), img));  // nothing is lost
  EXPECT_TRUE(torch::equal(LowResConditioning::ToLatentChannels(img, 1), img));
  EXPECT_THROW(LowResConditioning::ToLatentChannels(torch::zeros({1, 3, 5, 4}), 2), c10::Error);
}

TEST(LowResConditioningTest, ImagesMapToMinusOneToOneLikeTheTrainer) {
  Image8 img{2, 1, 3, {0, 255, 51, 255, 0, 102}};
  torch::Tensor t = LowResConditioning::ImageToTensor(img);
  ASSERT_EQ(t.sizes(), torch::IntArrayRef({1, 3, 1, 2}));
  EXPECT_FLOAT_EQ(t[0][0][0][0].item<float>(), -1.0f);
  EXPECT_FLOAT_EQ(t[0][1][0][0].item<float>(), 1.0f);
  EXPECT_FLOAT_EQ(t[0][2][0][1].item<float>(), 102 / 127.5f - 1);
  EXPECT_THROW(LowResConditioning::ImageToTensor(Image8{2, 2, 1, std::vector<uint8_t>(4)}),
               c10::Error);
}

TEST(LowResConditioningTest, BackProjectionMakesTheOutputConsistentWithItsInput) {
  torch::manual_seed(1);
  namespace F = torch::nn::functional;
  torch::Tensor truth = torch::rand({2, 3, 32, 32}) * 0.6 + 0.2;
  torch::Tensor low = torch::avg_pool2d(truth, {4, 4});
  // A blurred, color-shifted estimate (like an autoencoder round trip).
  torch::Tensor estimate = (F::avg_pool2d(truth, F::AvgPool2dFuncOptions(3).stride(1).padding(1)) +
                            0.05)
                               .clamp(0, 1);
  auto inconsistency = [&](const torch::Tensor& y) {
    return (torch::avg_pool2d(y, {4, 4}) - low).abs().mean().item<double>();
  };
  torch::Tensor fixed = LowResConditioning::BackProject(estimate, low, 4, 10);
  EXPECT_GT(inconsistency(estimate), 0.03);
  EXPECT_LT(inconsistency(fixed), 0.005);
  EXPECT_LT((fixed - truth).square().mean().item<double>(),
            (estimate - truth).square().mean().item<double>());
  EXPECT_TRUE(torch::equal(LowResConditioning::BackProject(estimate, low, 4, 0), estimate));
  // An image that already matches its input is left alone.
  torch::Tensor flat = torch::full({1, 3, 8, 8}, 0.5);
  EXPECT_TRUE(torch::allclose(
      LowResConditioning::BackProject(flat, torch::full({1, 3, 2, 2}, 0.5), 4, 3), flat));
  EXPECT_THROW(LowResConditioning::BackProject(flat, low, 4, 1), c10::Error);
}

}  // namespace low_res_conditioning_test
}  // namespace ldm
