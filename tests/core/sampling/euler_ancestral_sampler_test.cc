#include "core/sampling/euler_ancestral_sampler.h"

#include <ATen/CPUGeneratorImpl.h>
#include <gtest/gtest.h>
#include <torch/torch.h>

#include "tests/core/sampling/sampling_test_configs.h"
#include "tests/testing/tensor_matchers.h"

namespace ldm {
namespace euler_ancestral_sampler_test {

TEST(EulerAncestralSamplerTest, SeedDeterminesTheResult) {
  auto run = [](uint64_t seed) {
    auto s = EulerAncestralSampler::Create(testing::Sd15SchedulerConfig(), 6).value();
    torch::Generator gen = at::make_generator<at::CPUGeneratorImpl>(seed);
    torch::Tensor x = torch::ones({1, 2, 4, 4}) * s->init_noise_sigma();
    while (!s->done()) x = s->Step(0.1 * s->ScaleModelInput(x), x, gen).value();
    return x;
  };
  EXPECT_TRUE(torch::equal(run(5), run(5)));
  EXPECT_FALSE(torch::allclose(run(5), run(6)));
}

TEST(EulerAncestralSamplerTest, LeadingSpacingInitNoiseSigma) {
  LDM_ASSERT_OK_AND_ASSIGN(auto s,
                           EulerAncestralSampler::Create(testing::Sd15SchedulerConfig(), 4));
  const double max_sigma = s->Sigmas().front();
  EXPECT_NEAR(s->init_noise_sigma(), std::sqrt(max_sigma * max_sigma + 1), 1e-5);
  EXPECT_EQ(s->Timesteps(), (std::vector<double>{751, 501, 251, 1}));
}

}  // namespace
}  // namespace ldm
