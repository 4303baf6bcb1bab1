#include "core/sampling/ddim_sampler.h"

#include <ATen/CPUGeneratorImpl.h>
#include <gtest/gtest.h>
#include <torch/torch.h>

#include "tests/core/sampling/sampling_test_configs.h"
#include "tests/testing/tensor_matchers.h"

namespace ldm {
namespace ddim_sampler_test {

TEST(DdimSamplerTest, EtaZeroIsDeterministicAndDrawsNothing) {
  LDM_ASSERT_OK_AND_ASSIGN(auto s, DdimSampler::Create(testing::Sd15SchedulerConfig(), 5, 0.0));
  torch::Generator gen = at::make_generator<at::CPUGeneratorImpl>(0);
  const torch::Tensor state = gen.get_state();
  torch::Tensor x = torch::ones({1, 2, 2, 2});
  while (!s->done()) x = s->Step(0.5 * x, x, gen).value();
  EXPECT_TRUE(torch::equal(gen.get_state(), state));
}

TEST(DdimSamplerTest, PositiveEtaDrawsOncePerStep) {
  LDM_ASSERT_OK_AND_ASSIGN(auto s, DdimSampler::Create(testing::Sd15SchedulerConfig(), 5, 1.0));
  torch::Generator gen = at::make_generator<at::CPUGeneratorImpl>(0);
  torch::Generator reference = gen.clone();
  torch::Tensor x = torch::ones({1, 2, 4, 4});
  while (!s->done()) x = s->Step(0.5 * x, x, gen).value();
  for (int i = 0; i < 5; ++i) torch::randn({1, 2, 4, 4}, reference);
  EXPECT_TRUE(torch::equal(gen.get_state(), reference.get_state()));
  EXPECT_EQ(DdimSampler::Create(testing::Sd15SchedulerConfig(), 5, -1).status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST(DdimSamplerTest, RecoversACleanSignalExactly) {
  // With the exact epsilon of a point mass, every DDIM step lands on the mass's trajectory.
  LDM_ASSERT_OK_AND_ASSIGN(auto s, DdimSampler::Create(testing::Sd15SchedulerConfig(), 10, 0.0));
  const torch::Tensor target = torch::full({1, 1, 2, 2}, -0.3, torch::kFloat64);
  torch::Generator gen = at::make_generator<at::CPUGeneratorImpl>(0);
  torch::Tensor x = torch::ones({1, 1, 2, 2}, torch::kFloat64);
  while (!s->done()) {
    const double ab = s->schedule().alpha_cumprod(static_cast<int64_t>(s->current_timestep()));
    x = s->Step((x - std::sqrt(ab) * target) / std::sqrt(1 - ab), x, gen).value();
  }
  EXPECT_TRUE(testing::AllClose(*s->pred_original_sample(), target, 1e-9));
}

}  // namespace
}  // namespace ldm
