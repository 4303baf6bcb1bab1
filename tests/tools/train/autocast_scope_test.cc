// AutocastScope (mixed precision) and the diffusion trainer's bf16 steps.
#include "tools/train/autocast_scope.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

#include "tests/testing/fixtures.h"
#include "tests/tools/train/tiny_model.h"
#include "tools/train/diffusion_trainer.h"
#include "tools/train/stop_signal.h"

namespace ldm::train {
namespace {
namespace fs = std::filesystem;

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
  DiffusionTrainerOptions o = testing::TinyDiffusion(1);
  o.device = torch::Device(torch::kMeta);
  o.mixed_precision = MixedPrecision::kBFloat16;
  const LatentCache cache = testing::FakeCache();
  EXPECT_THROW(DiffusionTrainer(o, &cache, testing::EmptyIds(), ldm::testing::TempDir("ac_meta")),
               c10::Error);
}

// The tiny model with every training-time loss of the shipped recipe on: probe and grounding.
DiffusionTrainerOptions FullRecipe(MixedPrecision precision) {
  DiffusionTrainerOptions o = testing::TinyDiffusion(7);
  o.position_probe_weight = 0.1;
  o.grounding_weight = 0.5;
  o.dropout = {.drop_all_probability = 0.0, .keep_probability = 1.0};
  o.mixed_precision = precision;
  return o;
}

TEST(DiffusionTrainerMixedPrecisionTest, Bf16StepsKeepFloat32WeightsAndTrackTheFloat32Losses) {
  StopSignal::Set(false);
  const fs::path dir = ldm::testing::TempDir("diffusion_bf16");
  const testing::GroundedCache grounded = testing::GroundedFakeCache();
  DiffusionTrainer full(FullRecipe(MixedPrecision::kOff), &grounded.cache, testing::EmptyIds(),
                        dir / "fp32");
  ASSERT_TRUE(full.SetGrounding(grounded.assignment).ok());
  DiffusionTrainer mixed(FullRecipe(MixedPrecision::kBFloat16), &grounded.cache,
                         testing::EmptyIds(), dir / "bf16");
  ASSERT_TRUE(mixed.SetGrounding(grounded.assignment).ok());
  // The same first batch: bfloat16 keeps 8 bits of mantissa, so the losses agree to ~1%, and
  // they are not bit-identical (autocast really ran).
  EXPECT_FALSE(*full.Train(false, 1));
  EXPECT_FALSE(*mixed.Train(false, 1));
  EXPECT_NE(mixed.last_loss(), full.last_loss());
  EXPECT_NEAR(mixed.last_loss(), full.last_loss(), 0.03 * full.last_loss());
  EXPECT_NEAR(mixed.last_probe_loss(), full.last_probe_loss(), 0.03 * full.last_probe_loss());
  EXPECT_GT(mixed.last_grounding_loss(), 0.0);
  EXPECT_NEAR(mixed.last_grounding_loss(), full.last_grounding_loss(),
              0.03 * full.last_grounding_loss());
  for (const auto& p : mixed.model()->named_parameters()) {
    EXPECT_EQ(p.value().scalar_type(), torch::kFloat32) << p.key();
  }
  for (const auto& [name, t] : mixed.ema().shadow()) {
    EXPECT_EQ(t.scalar_type(), torch::kFloat32) << name;
  }
  // Autocast is off again after the step.
  EXPECT_FALSE(AutocastScope::Enabled(torch::kCPU));
}

TEST(DiffusionTrainerMixedPrecisionTest, Bf16RunResumesExactlyAndContinuesAFloat32Checkpoint) {
  StopSignal::Set(false);
  const fs::path dir = ldm::testing::TempDir("diffusion_bf16_resume");
  const testing::GroundedCache grounded = testing::GroundedFakeCache();
  auto trainer = [&](MixedPrecision precision, const fs::path& d) {
    auto t = std::make_unique<DiffusionTrainer>(FullRecipe(precision), &grounded.cache,
                                                testing::EmptyIds(), d);
    EXPECT_TRUE(t->SetGrounding(grounded.assignment).ok());
    return t;
  };
  auto one_run = trainer(MixedPrecision::kBFloat16, dir / "a");
  ASSERT_TRUE(*one_run->Train(false));
  auto first = trainer(MixedPrecision::kBFloat16, dir / "b");
  EXPECT_FALSE(*first->Train(false, 2));
  auto resumed = trainer(MixedPrecision::kBFloat16, dir / "b");
  ASSERT_TRUE(*resumed->Train(true));
  EXPECT_EQ(resumed->last_loss(), one_run->last_loss());
  for (const auto& p : one_run->model()->named_parameters()) {
    EXPECT_TRUE(torch::equal(p.value(), resumed->model()->named_parameters()[p.key()])) << p.key();
  }
  // A float32 run's checkpoint continues in bf16 (checkpoints are float32 either way).
  auto plain = trainer(MixedPrecision::kOff, dir / "c");
  EXPECT_FALSE(*plain->Train(false, 2));
  auto switched = trainer(MixedPrecision::kBFloat16, dir / "c");
  ASSERT_TRUE(*switched->Train(true));
  EXPECT_EQ(switched->step(), 4);
  EXPECT_NEAR(switched->last_loss(), one_run->last_loss(), 0.05 * one_run->last_loss());
}

}  // namespace
}  // namespace ldm::train
