#include "core/sampling/ddpm_sampler.h"

#include <ATen/CPUGeneratorImpl.h>
#include <gtest/gtest.h>
#include <torch/torch.h>

#include "tests/core/sampling/sampling_test_configs.h"
#include "tests/testing/tensor_matchers.h"

namespace ldm {
namespace ddpm_sampler_test {

TEST(DdpmSamplerTest, DrawsOncePerStepExceptAtTimestepZero) {
  const ModelConfig config(nlohmann::json::parse(R"({"clip_sample": false})"), "ddpm.json");
  LDM_ASSERT_OK_AND_ASSIGN(auto s, DdpmSampler::Create(config, 10));
  EXPECT_EQ(s->Timesteps().back(), 0);
  torch::Generator gen = at::make_generator<at::CPUGeneratorImpl>(0);
  torch::Generator reference = gen.clone();
  torch::Tensor x = torch::zeros({1, 2, 4, 4});
  while (!s->done()) x = s->Step(torch::zeros_like(x), x, gen).value();
  for (int i = 0; i < 9; ++i) torch::randn({1, 2, 4, 4}, reference);
  EXPECT_TRUE(torch::equal(gen.get_state(), reference.get_state()));
}

TEST(DdpmSamplerTest, ClipSampleAndFixedLarge) {
  const ModelConfig clipped(nlohmann::json::parse(R"({"clip_sample": true})"), "ddpm.json");
  LDM_ASSERT_OK_AND_ASSIGN(auto s, DdpmSampler::Create(clipped, 4));
  torch::Generator gen = at::make_generator<at::CPUGeneratorImpl>(0);
  torch::Tensor x = torch::full({1, 1, 2, 2}, 50.0);
  LDM_ASSERT_OK(s->Step(torch::zeros_like(x), x, gen));
  EXPECT_LE(s->pred_original_sample()->abs().max().item<double>(), 1.0);

  const ModelConfig large(nlohmann::json::parse(R"({"variance_type": "fixed_large"})"), "d.json");
  const ModelConfig small(nlohmann::json::parse(R"({"variance_type": "fixed_small"})"), "d.json");
  auto spread = [&](const ModelConfig& c) {
    auto sampler = DdpmSampler::Create(c, 4).value();
    torch::Generator g = at::make_generator<at::CPUGeneratorImpl>(1);
    torch::Tensor z = torch::zeros({1, 4, 16, 16});
    return sampler->Step(z, z, g).value().std().item<double>();
  };
  EXPECT_GT(spread(large), spread(small));  // beta_t exceeds the posterior variance
}

}  // namespace
}  // namespace ldm
