// DiffusionTrainer with --mixed-precision bf16: refused where autocast is not supported,
// float32 weights and losses that track the float32 run, exact resume.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include "core/common/autocast_scope.h"
#include "tests/testing/fixtures.h"
#include "tests/tools/train/tiny_model.h"
#include "tools/train/diffusion_trainer.h"
#include "tools/train/stop_signal.h"

namespace ldm::train {
namespace {
namespace fs = std::filesystem;

TEST(DiffusionTrainerMixedPrecisionTest, RefusesBf16OnADeviceWithoutAutocast) {
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
