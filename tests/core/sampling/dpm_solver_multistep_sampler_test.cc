#include "core/sampling/dpm_solver_multistep_sampler.h"

#include <ATen/CPUGeneratorImpl.h>
#include <gtest/gtest.h>
#include <torch/torch.h>

#include "tests/core/sampling/sampling_test_configs.h"
#include "tests/testing/tensor_matchers.h"

namespace ldm {
namespace dpm_solver_multistep_sampler_test {

ModelConfig Linspace(nlohmann::json extra = nlohmann::json::object()) {
  extra["timestep_spacing"] = "linspace";
  return testing::WithOverrides(testing::Sd15SchedulerConfig(), extra);
}

TEST(DpmSolverMultistepSamplerTest, Timesteps) {
  LDM_ASSERT_OK_AND_ASSIGN(auto s,
                           DpmSolverMultistepSampler::Create(Linspace(), 4, SamplerKind::kDpmpp2m));
  EXPECT_EQ(s->Timesteps(), (std::vector<double>{999, 749, 500, 250}));
  EXPECT_EQ(s->Sigmas().back(), 0.0);
  EXPECT_EQ(s->init_noise_sigma(), 1.0);
}

TEST(DpmSolverMultistepSamplerTest, KarrasTimestepsAreRoundedAndDescending) {
  LDM_ASSERT_OK_AND_ASSIGN(
      auto s, DpmSolverMultistepSampler::Create(Linspace({{"use_karras_sigmas", true}}), 20,
                                                SamplerKind::kDpmpp2mKarras));
  EXPECT_EQ(s->Timesteps().front(), 999);
  for (size_t i = 1; i < s->Timesteps().size(); ++i) {
    EXPECT_LE(s->Timesteps()[i], s->Timesteps()[i - 1]);
    EXPECT_EQ(s->Timesteps()[i], std::round(s->Timesteps()[i]));
  }
  EXPECT_NEAR(s->Sigmas()[19], 0.0291675, 1e-6);
}

TEST(DpmSolverMultistepSamplerTest, ExactDataPredictionIsAFixedPoint) {
  // With a model that always predicts the same x0, DPM-Solver++ moves along
  // x = alpha x0 + sigma_t * (noise direction) and lands on x0 at sigma 0.
  for (const char* solver : {"midpoint", "heun"}) {
    LDM_ASSERT_OK_AND_ASSIGN(
        auto s, DpmSolverMultistepSampler::Create(
                    Linspace({{"prediction_type", "sample"}, {"solver_type", solver}}), 20,
                    SamplerKind::kDpmpp2m));
    torch::Generator gen = at::make_generator<at::CPUGeneratorImpl>(0);
    const torch::Tensor x0 = torch::full({1, 1, 2, 2}, 0.7, torch::kFloat64);
    torch::Tensor x = torch::randn({1, 1, 2, 2}, gen).to(torch::kFloat64);
    while (!s->done()) x = s->Step(x0, x, gen).value();
    EXPECT_TRUE(testing::AllClose(x, x0, 1e-12)) << solver;
  }
}

TEST(DpmSolverMultistepSamplerTest, RejectsThirdOrder) {
  auto r =
      DpmSolverMultistepSampler::Create(Linspace({{"solver_order", 3}}), 10, SamplerKind::kDpmpp2m);
  EXPECT_EQ(r.status().code(), absl::StatusCode::kUnimplemented);
  EXPECT_NE(r.status().message().find("solver_order"), std::string::npos);
}

}  // namespace
}  // namespace ldm
