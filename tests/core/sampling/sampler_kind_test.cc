#include "core/sampling/sampler_kind.h"

#include <gtest/gtest.h>

#include "tests/core/sampling/sampling_test_configs.h"
#include "tests/testing/tensor_matchers.h"

namespace ldm {
namespace sampler_kind_test {

TEST(SamplerKindTest, NamesRoundTripCaseInsensitively) {
  ASSERT_EQ(AllSamplerKinds().size(), 7u);
  for (SamplerKind kind : AllSamplerKinds()) {
    LDM_ASSERT_OK_AND_ASSIGN(SamplerKind parsed, ParseSamplerKind(SamplerKindName(kind)));
    EXPECT_EQ(parsed, kind);
  }
  EXPECT_EQ(*ParseSamplerKind("EULER_Ancestral"), SamplerKind::kEulerAncestral);
  EXPECT_EQ(*ParseSamplerKind("DPMPP_2M_KARRAS"), SamplerKind::kDpmpp2mKarras);
}

TEST(SamplerKindTest, UnknownNameListsTheValidOnes) {
  auto r = ParseSamplerKind("lms");
  ASSERT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument);
  for (const char* name :
       {"ddpm", "ddim", "pndm", "euler", "euler_ancestral", "dpmpp_2m", "dpmpp_2m_karras"}) {
    EXPECT_NE(r.status().message().find(name), std::string::npos) << name;
  }
}

TEST(SamplerKindTest, DiffusersClassNames) {
  EXPECT_EQ(*SamplerKindForClassName("PNDMScheduler"), SamplerKind::kPndm);
  EXPECT_EQ(*SamplerKindForClassName("DDIMScheduler"), SamplerKind::kDdim);
  EXPECT_EQ(*SamplerKindForClassName("DDPMScheduler"), SamplerKind::kDdpm);
  EXPECT_EQ(*SamplerKindForClassName("EulerDiscreteScheduler"), SamplerKind::kEuler);
  EXPECT_EQ(*SamplerKindForClassName("EulerAncestralDiscreteScheduler"),
            SamplerKind::kEulerAncestral);
  EXPECT_EQ(*SamplerKindForClassName("DPMSolverMultistepScheduler"), SamplerKind::kDpmpp2m);
  EXPECT_EQ(*SamplerKindForClassName("DPMSolverMultistepScheduler", true),
            SamplerKind::kDpmpp2mKarras);
  auto lms = SamplerKindForClassName("LMSDiscreteScheduler");
  EXPECT_EQ(lms.status().code(), absl::StatusCode::kUnimplemented);
  EXPECT_NE(lms.status().message().find("LMSDiscreteScheduler"), std::string::npos);
}

TEST(SamplerKindTest, DefaultFromSchedulerConfig) {
  EXPECT_EQ(*DefaultSamplerKind(testing::Sd15SchedulerConfig()), SamplerKind::kPndm);
  ModelConfig dpm(
      nlohmann::json::parse(
          R"({"_class_name": "DPMSolverMultistepScheduler", "use_karras_sigmas": true})"),
      "s.json");
  EXPECT_EQ(*DefaultSamplerKind(dpm), SamplerKind::kDpmpp2mKarras);
  ModelConfig none(nlohmann::json::object(), "s.json");
  EXPECT_EQ(DefaultSamplerKind(none).status().code(), absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace ldm
