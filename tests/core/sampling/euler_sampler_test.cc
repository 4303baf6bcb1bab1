#include "core/sampling/euler_sampler.h"

#include <ATen/CPUGeneratorImpl.h>
#include <gtest/gtest.h>
#include <torch/torch.h>

#include "tests/core/sampling/sampling_test_configs.h"
#include "tests/testing/tensor_matchers.h"

namespace ldm {
namespace euler_sampler_test {

ModelConfig Linspace() {
  return testing::WithOverrides(testing::Sd15SchedulerConfig(), {{"timestep_spacing", "linspace"}});
}

TEST(EulerSamplerTest, SigmasAndScaling) {
  LDM_ASSERT_OK_AND_ASSIGN(auto s, EulerSampler::Create(Linspace(), 4));
  ASSERT_EQ(s->Sigmas().size(), 5u);
  EXPECT_EQ(s->Sigmas().back(), 0.0);
  EXPECT_NEAR(s->init_noise_sigma(), 14.614646, 1e-5);
  const torch::Tensor x = torch::ones({1, 1, 1, 1});
  const double sigma = s->Sigmas().front();
  EXPECT_NEAR(s->ScaleModelInput(x).item<double>(), 1 / std::sqrt(sigma * sigma + 1), 1e-7);
}

TEST(EulerSamplerTest, DrawsOncePerStepToStayInStepWithDiffusers) {
  LDM_ASSERT_OK_AND_ASSIGN(auto s, EulerSampler::Create(Linspace(), 3));
  torch::Generator gen = at::make_generator<at::CPUGeneratorImpl>(0);
  torch::Generator reference = gen.clone();
  torch::Tensor x = torch::ones({1, 2, 4, 4});
  while (!s->done()) x = s->Step(0.1 * x, x, gen).value();
  for (int i = 0; i < 3; ++i) torch::randn({1, 2, 4, 4}, reference);
  EXPECT_TRUE(torch::equal(gen.get_state(), reference.get_state()));
}

TEST(EulerSamplerTest, KarrasSigmas) {
  LDM_ASSERT_OK_AND_ASSIGN(
      auto s,
      EulerSampler::Create(testing::WithOverrides(Linspace(), {{"use_karras_sigmas", true}}), 10));
  const auto& sig = s->Sigmas();
  EXPECT_NEAR(sig.front(), 14.614646, 1e-4);
  EXPECT_NEAR(sig[9], 0.0291675, 1e-6);
  for (size_t i = 1; i < sig.size(); ++i) EXPECT_LT(sig[i], sig[i - 1]);
  EXPECT_NEAR(s->Timesteps().front(), 999, 1e-3);
  EXPECT_NEAR(s->Timesteps().back(), 0, 1e-3);
}

}  // namespace
}  // namespace ldm
