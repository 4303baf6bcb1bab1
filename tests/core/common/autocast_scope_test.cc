// AutocastScope: bfloat16 autocast scopes and the mixed-precision names.
#include "core/common/autocast_scope.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

namespace ldm {
namespace {

TEST(AutocastScopeTest, ParsesOffAndBf16AndRefusesAnythingElse) {
  EXPECT_EQ(*ParseMixedPrecision("off"), MixedPrecision::kOff);
  EXPECT_EQ(*ParseMixedPrecision("bf16"), MixedPrecision::kBFloat16);
  absl::StatusOr<MixedPrecision> bad = ParseMixedPrecision("fp16");
  EXPECT_EQ(bad.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(bad.status().message().find("\"fp16\""), std::string::npos) << bad.status();
  EXPECT_EQ(MixedPrecisionName(MixedPrecision::kBFloat16), "bf16");
  EXPECT_EQ(MixedPrecisionName(MixedPrecision::kOff), "off");
}

TEST(AutocastScopeTest, Bf16ScopeRunsLinearsInBfloat16AndRestoresTheEnclosingState) {
  torch::nn::Linear linear(4, 3);
  torch::Tensor x = torch::randn({2, 4});
  ASSERT_FALSE(AutocastScope::Enabled(torch::kCPU));
  {
    AutocastScope off(torch::kCPU, MixedPrecision::kOff);
    EXPECT_FALSE(AutocastScope::Enabled(torch::kCPU));
    EXPECT_EQ(linear(x).scalar_type(), torch::kFloat32);
  }
  {
    AutocastScope outer(torch::kCPU, MixedPrecision::kBFloat16);
    EXPECT_TRUE(AutocastScope::Enabled(torch::kCPU));
    EXPECT_EQ(linear(x).scalar_type(), torch::kBFloat16);
    {
      AutocastScope inner(torch::kCPU, MixedPrecision::kBFloat16);
      EXPECT_EQ(linear(x).scalar_type(), torch::kBFloat16);
    }
    // The inner scope restored the outer one's state, not "off".
    EXPECT_TRUE(AutocastScope::Enabled(torch::kCPU));
    EXPECT_EQ(linear(x).scalar_type(), torch::kBFloat16);
    // Weights stay float32 and get float32 gradients.
    linear(x).sum().backward();
    EXPECT_EQ(linear->weight.grad().scalar_type(), torch::kFloat32);
  }
  EXPECT_FALSE(AutocastScope::Enabled(torch::kCPU));
  EXPECT_EQ(linear(x).scalar_type(), torch::kFloat32);
}

TEST(AutocastScopeTest, SupportsCpuAndCudaOnly) {
  EXPECT_TRUE(AutocastScope::Supports(torch::kCPU, MixedPrecision::kBFloat16));
  EXPECT_TRUE(AutocastScope::Supports(torch::Device(torch::kCUDA, 0), MixedPrecision::kBFloat16));
  EXPECT_FALSE(AutocastScope::Supports(torch::Device(torch::kMeta), MixedPrecision::kBFloat16));
  EXPECT_TRUE(AutocastScope::Supports(torch::Device(torch::kMeta), MixedPrecision::kOff));
  EXPECT_THROW(AutocastScope(torch::Device(torch::kMeta), MixedPrecision::kBFloat16), c10::Error);
}

}  // namespace
}  // namespace ldm
