#include "core/sampling/sampler.h"

#include <ATen/CPUGeneratorImpl.h>
#include <gtest/gtest.h>
#include <torch/torch.h>

#include "core/sampling/sampler_factory.h"
#include "tests/core/sampling/sampling_test_configs.h"
#include "tests/testing/tensor_matchers.h"

namespace ldm {
namespace sampler_test {

using testing::Sd15SchedulerConfig;

TEST(SamplerTest, StepContract) {
  LDM_ASSERT_OK_AND_ASSIGN(auto s, CreateSampler(Sd15SchedulerConfig(), SamplerKind::kDdim, 2));
  torch::Generator gen = at::make_generator<at::CPUGeneratorImpl>(0);
  const torch::Tensor x = torch::ones({1, 4, 2, 2});
  EXPECT_EQ(s->current_timestep(), 501);
  EXPECT_FALSE(s->pred_original_sample().has_value());
  // A rejected step does not advance the sampler.
  EXPECT_EQ(s->Step(torch::ones({1, 4, 2, 3}), x, gen).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(s->Step(torch::Tensor(), x, gen).status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(
      s->Step(torch::ones({1, 4, 2, 2}, torch::kInt64), x.to(torch::kInt64), gen).status().code(),
      absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(s->calls_done(), 0);
  LDM_ASSERT_OK(s->Step(x, x, gen));
  EXPECT_TRUE(s->pred_original_sample().has_value());
  EXPECT_EQ(s->current_timestep(), 1);
  LDM_ASSERT_OK(s->Step(x, x, gen));
  EXPECT_TRUE(s->done());
  EXPECT_EQ(s->Step(x, x, gen).status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(s->current_timestep(), 1);
}

TEST(SamplerTest, KeepsTheSampleDtypeAndAgreesAcrossPrecisions) {
  for (SamplerKind kind : AllSamplerKinds()) {
    SCOPED_TRACE(SamplerKindName(kind));
    torch::Tensor results[3];
    const torch::ScalarType types[3] = {torch::kFloat32, torch::kFloat64, torch::kBFloat16};
    for (int k = 0; k < 3; ++k) {
      auto s = CreateSampler(Sd15SchedulerConfig(), kind, 5).value();
      torch::Generator gen = at::make_generator<at::CPUGeneratorImpl>(7);
      torch::Tensor x =
          torch::linspace(-1, 1, 32).view({2, 1, 4, 4}).to(types[k]) * s->init_noise_sigma();
      while (!s->done()) {
        torch::Tensor in = s->ScaleModelInput(x);
        auto next = s->Step(0.1 * in + 0.2, x, gen);
        ASSERT_TRUE(next.ok()) << next.status();
        ASSERT_EQ(next->scalar_type(), types[k]);
        x = *next;
      }
      results[k] = x.to(torch::kFloat64);
    }
    EXPECT_TRUE(testing::CloseRelativeToMax(results[0], results[1], 1e-5));
    EXPECT_TRUE(testing::CloseRelativeToMax(results[2], results[1], 0.05));
  }
}

}  // namespace
}  // namespace ldm
