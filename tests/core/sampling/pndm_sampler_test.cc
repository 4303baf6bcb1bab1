#include "core/sampling/pndm_sampler.h"

#include <ATen/CPUGeneratorImpl.h>
#include <gtest/gtest.h>
#include <torch/torch.h>

#include "tests/core/sampling/sampling_test_configs.h"
#include "tests/testing/tensor_matchers.h"

namespace ldm {
namespace pndm_sampler_test {

TEST(PndmSamplerTest, RepeatsTheSecondTimestep) {
  LDM_ASSERT_OK_AND_ASSIGN(auto s, PndmSampler::Create(testing::Sd15SchedulerConfig(), 4));
  EXPECT_EQ(s->num_inference_steps(), 4);
  EXPECT_EQ(s->num_model_calls(), 5);
  EXPECT_EQ(s->Timesteps(), (std::vector<double>{751, 501, 501, 251, 1}));
  LDM_ASSERT_OK_AND_ASSIGN(auto one, PndmSampler::Create(testing::Sd15SchedulerConfig(), 1));
  EXPECT_EQ(one->Timesteps(), (std::vector<double>{1}));
}

TEST(PndmSamplerTest, DrawsNothingAndHasNoX0) {
  LDM_ASSERT_OK_AND_ASSIGN(auto s, PndmSampler::Create(testing::Sd15SchedulerConfig(), 6));
  torch::Generator gen = at::make_generator<at::CPUGeneratorImpl>(0);
  const torch::Tensor state = gen.get_state();
  torch::Tensor x = torch::ones({1, 2, 2, 2});
  while (!s->done()) x = s->Step(0.3 * x + 0.1, x, gen).value();
  EXPECT_TRUE(torch::equal(gen.get_state(), state));
  EXPECT_FALSE(s->pred_original_sample().has_value());
  EXPECT_TRUE(torch::isfinite(x).all().item<bool>());
}

TEST(PndmSamplerTest, RejectsThePrkWarmUp) {
  auto r = PndmSampler::Create(
      testing::WithOverrides(testing::Sd15SchedulerConfig(), {{"skip_prk_steps", false}}), 4);
  EXPECT_EQ(r.status().code(), absl::StatusCode::kUnimplemented);
  EXPECT_NE(r.status().message().find("skip_prk_steps"), std::string::npos);
}

}  // namespace
}  // namespace ldm
