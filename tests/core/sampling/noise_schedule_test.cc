#include "core/sampling/noise_schedule.h"

#include <gtest/gtest.h>

#include <cmath>

#include "tests/core/sampling/sampling_test_configs.h"
#include "tests/testing/tensor_matchers.h"

namespace ldm {
namespace noise_schedule_test {

using testing::Sd15SchedulerConfig;
using testing::WithOverrides;

ModelConfig Make(const char* text) { return ModelConfig(nlohmann::json::parse(text), "cfg.json"); }

TEST(NoiseScheduleTest, LinearBetasAndCumprod) {
  LDM_ASSERT_OK_AND_ASSIGN(auto s, NoiseSchedule::Create(Make("{}")));
  ASSERT_EQ(s->num_train_timesteps(), 1000);
  EXPECT_NEAR(s->betas().front(), 1e-4, 1e-9);
  EXPECT_NEAR(s->betas().back(), 0.02, 1e-9);
  EXPECT_NEAR(s->alpha_cumprod(0), 1 - 1e-4, 1e-7);
  for (size_t i = 1; i < s->alphas_cumprod().size(); ++i) {
    ASSERT_LT(s->alphas_cumprod()[i], s->alphas_cumprod()[i - 1]);
  }
  const double ab = s->alpha_cumprod(500);
  EXPECT_NEAR(s->train_sigmas()[500], std::sqrt((1 - ab) / ab), 1e-6);
}

TEST(NoiseScheduleTest, ScaledLinearMatchesStableDiffusion) {
  LDM_ASSERT_OK_AND_ASSIGN(auto s, NoiseSchedule::Create(Sd15SchedulerConfig()));
  EXPECT_NEAR(s->betas().front(), 0.00085, 1e-9);
  EXPECT_NEAR(s->betas().back(), 0.012, 1e-9);
  EXPECT_NEAR(s->train_sigmas().back(), 14.614646, 1e-5);  // Stable Diffusion's sigma_max
  EXPECT_NEAR(s->train_sigmas().front(), 0.0291675, 1e-6);
}

TEST(NoiseScheduleTest, SquaredCosineAndTrainedBetas) {
  LDM_ASSERT_OK_AND_ASSIGN(
      auto cos, NoiseSchedule::Create(Make(R"({"beta_schedule": "squaredcos_cap_v2"})")));
  EXPECT_LE(cos->betas().back(), 0.999 + 1e-6);
  EXPECT_GT(cos->betas().back(), 0.5);
  LDM_ASSERT_OK_AND_ASSIGN(
      auto trained, NoiseSchedule::Create(
                        Make(R"({"num_train_timesteps": 3, "trained_betas": [0.1, 0.2, 0.5]})")));
  EXPECT_NEAR(trained->alpha_cumprod(2), 0.9 * 0.8 * 0.5, 1e-6);
  auto bad = NoiseSchedule::Create(Make(R"({"num_train_timesteps": 4, "trained_betas": [0.1]})"));
  EXPECT_EQ(bad.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(bad.status().message().find("trained_betas"), std::string::npos);
}

TEST(NoiseScheduleTest, RejectsUnknownValuesNamingTheField) {
  auto sigmoid = NoiseSchedule::Create(Make(R"({"beta_schedule": "sigmoid"})"));
  EXPECT_EQ(sigmoid.status().code(), absl::StatusCode::kUnimplemented);
  EXPECT_NE(sigmoid.status().message().find("beta_schedule"), std::string::npos);
  auto spacing = NoiseSchedule::Create(Make(R"({"timestep_spacing": "random"})"));
  EXPECT_EQ(spacing.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(spacing.status().message().find("timestep_spacing"), std::string::npos);
  auto prediction = NoiseSchedule::Create(Make(R"({"prediction_type": "flow"})"));
  EXPECT_EQ(prediction.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(prediction.status().message().find("prediction_type"), std::string::npos);
}

TEST(NoiseScheduleTest, ZeroTerminalSnrRescale) {
  LDM_ASSERT_OK_AND_ASSIGN(
      auto plain, NoiseSchedule::Create(
                      WithOverrides(Sd15SchedulerConfig(), {{"rescale_betas_zero_snr", true}})));
  EXPECT_NEAR(plain->alphas_cumprod().back(), 0.0, 1e-12);
  EXPECT_NEAR(plain->alpha_cumprod(0), 1 - 0.00085, 1e-6);  // first step unchanged
  NoiseSchedule::CreateOptions floor;
  floor.floor_terminal_alpha_cumprod = true;
  LDM_ASSERT_OK_AND_ASSIGN(
      auto floored,
      NoiseSchedule::Create(
          WithOverrides(Sd15SchedulerConfig(), {{"rescale_betas_zero_snr", true}}), floor));
  EXPECT_EQ(floored->alphas_cumprod().back(), std::ldexp(1.0, -24));
  EXPECT_TRUE(std::isfinite(floored->train_sigmas().back()));
}

TEST(NoiseScheduleTest, TimestepSpacings) {
  auto spaced = [](const char* spacing, int offset) {
    nlohmann::json j = {{"timestep_spacing", spacing}, {"steps_offset", offset}};
    return NoiseSchedule::Create(ModelConfig(j, "cfg.json")).value();
  };
  EXPECT_EQ(spaced("leading", 1)->IntegerTimesteps(4), (std::vector<int64_t>{751, 501, 251, 1}));
  EXPECT_EQ(spaced("trailing", 0)->IntegerTimesteps(4), (std::vector<int64_t>{999, 749, 499, 249}));
  EXPECT_EQ(spaced("linspace", 0)->IntegerTimesteps(4), (std::vector<int64_t>{999, 666, 333, 0}));
  EXPECT_EQ(spaced("linspace", 0)->IntegerTimesteps(1), (std::vector<int64_t>{0}));
  EXPECT_EQ(spaced("linspace", 0)->FractionalTimesteps(4), (std::vector<double>{999, 666, 333, 0}));
  EXPECT_EQ(spaced("linspace", 0)->FractionalTimesteps(3), (std::vector<double>{999, 499.5, 0}));
  EXPECT_EQ(spaced("trailing", 0)->IntegerTimesteps(3), (std::vector<int64_t>{999, 666, 332}));
  auto s = spaced("leading", 1);
  EXPECT_EQ(s->CheckTimestepsInRange(s->IntegerTimesteps(1000), 1000).code(),
            absl::StatusCode::kInvalidArgument);
}

TEST(NoiseScheduleTest, NumpyHelpers) {
  EXPECT_EQ(NoiseSchedule::RoundHalfEven(0.5), 0);
  EXPECT_EQ(NoiseSchedule::RoundHalfEven(1.5), 2);
  EXPECT_EQ(NoiseSchedule::RoundHalfEven(499.5), 500);
  EXPECT_EQ(NoiseSchedule::NumpyLinspace(0, 1, 3), (std::vector<double>{0, 0.5, 1}));
  EXPECT_EQ(NoiseSchedule::NumpyArangeDown(10, 0, -2.5).size(), 4u);
}

TEST(NoiseScheduleTest, SigmaInterpolationAndKarras) {
  LDM_ASSERT_OK_AND_ASSIGN(auto s, NoiseSchedule::Create(Sd15SchedulerConfig()));
  const auto& sig = s->train_sigmas();
  EXPECT_EQ(s->InterpolateSigma(10), sig[10]);
  EXPECT_NEAR(s->InterpolateSigma(10.5), (sig[10] + sig[11]) / 2, 1e-12);
  EXPECT_EQ(s->InterpolateSigma(-3), sig.front());
  EXPECT_EQ(s->InterpolateSigma(5000), sig.back());
  EXPECT_NEAR(s->SigmaToTimestep(sig[123]), 123, 1e-3);  // float32 log-sigma table
  const std::vector<double> k = NoiseSchedule::KarrasSigmas(0.03, 14.6, 5);
  ASSERT_EQ(k.size(), 5u);
  EXPECT_NEAR(k.front(), 14.6, 1e-9);
  EXPECT_NEAR(k.back(), 0.03, 1e-12);
  for (size_t i = 1; i < k.size(); ++i) EXPECT_LT(k[i], k[i - 1]);
}

}  // namespace
}  // namespace ldm
