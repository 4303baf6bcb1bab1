#include "core/sampling/sampler_factory.h"

#include <gtest/gtest.h>

#include <cmath>

#include "tests/core/sampling/sampling_test_configs.h"
#include "tests/testing/tensor_matchers.h"

namespace ldm {
namespace sampler_factory_test {

using testing::Sd15SchedulerConfig;
using testing::WithOverrides;

void ExpectError(const absl::StatusOr<std::unique_ptr<Sampler>>& r, absl::StatusCode code,
                 const std::string& field) {
  ASSERT_FALSE(r.ok()) << "expected an error naming " << field;
  EXPECT_EQ(r.status().code(), code) << r.status();
  EXPECT_NE(r.status().message().find(field), std::string::npos) << r.status();
}

TEST(SamplerFactoryTest, StepCountOutOfRange) {
  for (SamplerKind kind : AllSamplerKinds()) {
    SCOPED_TRACE(SamplerKindName(kind));
    for (int steps : {0, -3, 1001}) {
      ExpectError(CreateSampler(Sd15SchedulerConfig(), kind, steps),
                  absl::StatusCode::kInvalidArgument, "num_inference_steps");
    }
    LDM_EXPECT_OK(CreateSampler(Sd15SchedulerConfig(), kind, 1));
  }
}

TEST(SamplerFactoryTest, EtaValidation) {
  ExpectError(CreateSampler(Sd15SchedulerConfig(), SamplerKind::kDdim, 10, {.eta = -0.1}),
              absl::StatusCode::kInvalidArgument, "eta");
  ExpectError(CreateSampler(Sd15SchedulerConfig(), SamplerKind::kDdim, 10, {.eta = NAN}),
              absl::StatusCode::kInvalidArgument, "eta");
  ExpectError(CreateSampler(Sd15SchedulerConfig(), SamplerKind::kEuler, 10, {.eta = 0.5}),
              absl::StatusCode::kInvalidArgument, "eta");
  LDM_EXPECT_OK(CreateSampler(Sd15SchedulerConfig(), SamplerKind::kDdim, 10, {.eta = 1.0}));
}

TEST(SamplerFactoryTest, UnsupportedConfigValuesNameTheField) {
  const ModelConfig sd = Sd15SchedulerConfig();
  ExpectError(CreateSampler(WithOverrides(sd, {{"thresholding", true}}), SamplerKind::kDdim, 10),
              absl::StatusCode::kUnimplemented, "thresholding");
  ExpectError(CreateSampler(WithOverrides(sd, {{"thresholding", true}}), SamplerKind::kDpmpp2m, 10),
              absl::StatusCode::kUnimplemented, "thresholding");
  ExpectError(CreateSampler(WithOverrides(sd, {{"skip_prk_steps", false}}), SamplerKind::kPndm, 10),
              absl::StatusCode::kUnimplemented, "skip_prk_steps");
  ExpectError(
      CreateSampler(WithOverrides(sd, {{"prediction_type", "sample"}}), SamplerKind::kPndm, 10),
      absl::StatusCode::kUnimplemented, "prediction_type");
  ExpectError(CreateSampler(WithOverrides(sd, {{"prediction_type", "sample"}}),
                            SamplerKind::kEulerAncestral, 10),
              absl::StatusCode::kUnimplemented, "prediction_type");
  ExpectError(CreateSampler(WithOverrides(sd, {{"variance_type", "learned_range"}}),
                            SamplerKind::kDdpm, 10),
              absl::StatusCode::kUnimplemented, "variance_type");
  ExpectError(
      CreateSampler(WithOverrides(sd, {{"beta_schedule", "sigmoid"}}), SamplerKind::kDdpm, 10),
      absl::StatusCode::kUnimplemented, "beta_schedule");
  ExpectError(
      CreateSampler(WithOverrides(sd, {{"timestep_spacing", "even"}}), SamplerKind::kEuler, 10),
      absl::StatusCode::kInvalidArgument, "timestep_spacing");
  ExpectError(CreateSampler(WithOverrides(sd, {{"interpolation_type", "log_linear"}}),
                            SamplerKind::kEuler, 10),
              absl::StatusCode::kUnimplemented, "interpolation_type");
  ExpectError(
      CreateSampler(WithOverrides(sd, {{"use_lu_lambdas", true}}), SamplerKind::kDpmpp2m, 10),
      absl::StatusCode::kUnimplemented, "use_lu_lambdas");
  ExpectError(
      CreateSampler(WithOverrides(sd, {{"num_train_timesteps", "many"}}), SamplerKind::kDdim, 10),
      absl::StatusCode::kInvalidArgument, "num_train_timesteps");
  // Leading spacing with steps_offset 1 would index timestep 1000 with 1000 steps.
  ExpectError(CreateSampler(sd, SamplerKind::kDdim, 1000), absl::StatusCode::kInvalidArgument,
              "steps_offset");
}

TEST(SamplerFactoryTest, DdpmWithAllTrainingStepsRunsTheFullChainDespiteStepsOffset) {
  // DDPM's Algorithm 2 on a Stable Diffusion config (leading spacing, steps_offset 1): every
  // training timestep once, 999 .. 0, instead of the out-of-range 1000 .. 1.
  LDM_ASSERT_OK_AND_ASSIGN(auto ddpm,
                           CreateSampler(Sd15SchedulerConfig(), SamplerKind::kDdpm, 1000));
  ASSERT_EQ(ddpm->num_model_calls(), 1000);
  EXPECT_EQ(ddpm->Timesteps().front(), 999);
  EXPECT_EQ(ddpm->Timesteps()[1], 998);
  EXPECT_EQ(ddpm->Timesteps().back(), 0);
  // Fewer steps keep diffusers' spacing and offset.
  LDM_ASSERT_OK_AND_ASSIGN(auto strided,
                           CreateSampler(Sd15SchedulerConfig(), SamplerKind::kDdpm, 500));
  EXPECT_EQ(strided->Timesteps().front(), 999);
  EXPECT_EQ(strided->Timesteps().back(), 1);
}

TEST(SamplerFactoryTest, KeysPresentInTheConfigOverrideClassDefaults) {
  // SD 1.5's PNDM config says timestep_spacing "leading" and steps_offset 1: Euler inherits them.
  LDM_ASSERT_OK_AND_ASSIGN(auto euler,
                           CreateSampler(Sd15SchedulerConfig(), SamplerKind::kEuler, 4));
  EXPECT_EQ(euler->Timesteps(), (std::vector<double>{751, 501, 251, 1}));
  const double max_sigma = euler->Sigmas().front();
  EXPECT_NEAR(euler->init_noise_sigma(), std::sqrt(max_sigma * max_sigma + 1), 1e-5);

  LDM_ASSERT_OK_AND_ASSIGN(ModelConfig ddim,
                           ResolveSchedulerConfig(Sd15SchedulerConfig(), SamplerKind::kDdim));
  EXPECT_FALSE(*ddim.GetBool("clip_sample", true));
  EXPECT_FALSE(*ddim.GetBool("set_alpha_to_one", true));
  EXPECT_EQ(*ddim.GetInt("steps_offset"), 1);
  EXPECT_NE(ddim.source().find("DDIMScheduler"), std::string::npos);
  // Keys the class does not take are ignored (PNDM's skip_prk_steps for DDIM).
  EXPECT_FALSE(ddim.json().contains("skip_prk_steps"));
}

TEST(SamplerFactoryTest, AbsentKeysTakeTheClassDefault) {
  nlohmann::json j = Sd15SchedulerConfig().json();
  j.erase("timestep_spacing");
  j.erase("steps_offset");
  const ModelConfig cfg(j, "scheduler_config.json");
  LDM_ASSERT_OK_AND_ASSIGN(ModelConfig euler, ResolveSchedulerConfig(cfg, SamplerKind::kEuler));
  EXPECT_EQ(*euler.GetString("timestep_spacing"), "linspace");
  LDM_ASSERT_OK_AND_ASSIGN(ModelConfig ddim, ResolveSchedulerConfig(cfg, SamplerKind::kDdim));
  EXPECT_EQ(*ddim.GetString("timestep_spacing"), "leading");
  LDM_ASSERT_OK_AND_ASSIGN(auto e, CreateSampler(cfg, SamplerKind::kEuler, 4));
  EXPECT_EQ(e->Timesteps(), (std::vector<double>{999, 666, 333, 0}));
  EXPECT_NEAR(e->init_noise_sigma(), 14.614646, 1e-5);
  // Without skip_prk_steps, PNDM's default (false, the PRK warm-up) applies and is rejected.
  j.erase("skip_prk_steps");
  ExpectError(CreateSampler(ModelConfig(j, "s.json"), SamplerKind::kPndm, 4),
              absl::StatusCode::kUnimplemented, "skip_prk_steps");
}

TEST(SamplerFactoryTest, UseDefaultValuesAreNotInherited) {
  // diffusers' save_config lists the keys it filled from defaults; from_config drops them.
  nlohmann::json j = Sd15SchedulerConfig().json();
  j["_use_default_values"] = {"timestep_spacing"};
  j["timestep_spacing"] = "leading";
  LDM_ASSERT_OK_AND_ASSIGN(ModelConfig euler,
                           ResolveSchedulerConfig(ModelConfig(j, "s.json"), SamplerKind::kEuler));
  EXPECT_EQ(*euler.GetString("timestep_spacing"), "linspace");
}

TEST(SamplerFactoryTest, DpmKindsPinTheirMethod) {
  nlohmann::json j = Sd15SchedulerConfig().json();
  j["use_karras_sigmas"] = true;
  j["solver_order"] = 3;
  j["algorithm_type"] = "sde-dpmsolver++";
  const ModelConfig cfg(j, "s.json");
  LDM_ASSERT_OK_AND_ASSIGN(ModelConfig plain, ResolveSchedulerConfig(cfg, SamplerKind::kDpmpp2m));
  EXPECT_FALSE(*plain.GetBool("use_karras_sigmas", true));
  EXPECT_EQ(*plain.GetInt("solver_order"), 2);
  EXPECT_EQ(*plain.GetString("algorithm_type"), "dpmsolver++");
  LDM_ASSERT_OK_AND_ASSIGN(ModelConfig karras,
                           ResolveSchedulerConfig(cfg, SamplerKind::kDpmpp2mKarras));
  EXPECT_TRUE(*karras.GetBool("use_karras_sigmas", false));
  LDM_ASSERT_OK_AND_ASSIGN(auto s, CreateSampler(cfg, SamplerKind::kDpmpp2mKarras, 10));
  EXPECT_EQ(s->kind(), SamplerKind::kDpmpp2mKarras);
}

TEST(SamplerFactoryTest, AcceptsInfinityInDpmConfigs) {
  LDM_ASSERT_OK_AND_ASSIGN(
      auto s, CreateSampler(
                  WithOverrides(Sd15SchedulerConfig(),
                                {{"timestep_spacing", "linspace"},
                                 {"lambda_min_clipped", -std::numeric_limits<double>::infinity()}}),
                  SamplerKind::kDpmpp2m, 4));
  EXPECT_EQ(s->Timesteps(), (std::vector<double>{999, 749, 500, 250}));
}

}  // namespace
}  // namespace ldm
