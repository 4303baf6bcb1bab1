#include "tools/bench/request_mix.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <set>

namespace ldm::bench {
namespace request_mix_test {

v1::ModelDescription ToyModel() {
  v1::ModelDescription m;
  m.set_name("toy");
  m.set_native_width(64);
  m.set_native_height(64);
  m.set_size_multiple(8);
  m.add_conditioning("text");
  m.add_conditioning("class");
  m.add_conditioning("semantic_map");
  for (const char* c : {"red circle", "blue square", "green triangle"}) m.add_class_names(c);
  for (const char* l : {"background", "red", "green"}) m.add_semantic_labels(l);
  return m;
}

v1::ModelDescription TextOnlyModel() {
  v1::ModelDescription m;
  m.set_name("sd");
  m.set_native_width(512);
  m.set_native_height(512);
  m.set_size_multiple(8);
  m.add_conditioning("text");
  return m;
}

TEST(RequestMixTest, SameIndexGivesTheSameRequest) {
  MixOptions o;
  o.samplers = {"ddim", "euler", "dpmpp_2m"};
  o.steps = {10, 20};
  o.guidance = {1, 5};
  o.conditioning = {"text", "class", "map", "text+class+map", "none"};
  auto mix = RequestMix::Create(o, ToyModel());
  ASSERT_TRUE(mix.ok()) << mix.status();
  for (int i = 0; i < 20; ++i) {
    EXPECT_EQ(mix->Make(i, "p").SerializeAsString(), mix->Make(i, "p").SerializeAsString());
  }
}

TEST(RequestMixTest, EveryListedValueIsUsedOverManyRequests) {
  MixOptions o;
  o.samplers = {"ddim", "euler"};
  o.steps = {10, 20};
  o.guidance = {1, 5};
  o.sizes = {"64", "64x128"};
  auto mix = RequestMix::Create(o, ToyModel());
  ASSERT_TRUE(mix.ok()) << mix.status();
  std::set<int> samplers, steps, heights;
  std::set<float> guidance;
  for (int i = 0; i < 64; ++i) {
    const v1::GenerateRequest r = mix->Make(i, "p");
    samplers.insert(r.sampler());
    steps.insert(static_cast<int>(r.steps()));
    guidance.insert(r.guidance_scale());
    heights.insert(static_cast<int>(r.height()));
    EXPECT_EQ(r.width(), 64u);
  }
  EXPECT_THAT(samplers, ::testing::ElementsAre(v1::DDIM, v1::EULER));
  EXPECT_THAT(steps, ::testing::ElementsAre(10, 20));
  EXPECT_THAT(guidance, ::testing::ElementsAre(1.0f, 5.0f));
  EXPECT_THAT(heights, ::testing::ElementsAre(64, 128));
}

TEST(RequestMixTest, RequestIdsSeedsAndPreviewsFollowTheOptions) {
  MixOptions o;
  o.seed = 7;
  o.preview_every = 2;
  o.num_images = 3;
  auto mix = RequestMix::Create(o, ToyModel());
  ASSERT_TRUE(mix.ok()) << mix.status();
  const v1::GenerateRequest r = mix->Make(5, "bench-r1");
  EXPECT_EQ(r.request_id(), "bench-r1-5");
  EXPECT_EQ(r.seed(), 7u + 5u * 1000u);
  EXPECT_EQ(r.preview_every(), 2u);
  EXPECT_EQ(r.num_images(), 3u);
  EXPECT_FALSE(r.prompt().empty());
  EXPECT_FALSE(r.has_class_label());
  EXPECT_FALSE(r.has_semantic_map());
}

TEST(RequestMixTest, ConditioningKindsSetTheirFields) {
  MixOptions o;
  o.conditioning = {"class+map"};
  o.sizes = {"64x128"};
  auto mix = RequestMix::Create(o, ToyModel());
  ASSERT_TRUE(mix.ok()) << mix.status();
  const v1::GenerateRequest r = mix->Make(4, "p");
  EXPECT_TRUE(r.prompt().empty());
  ASSERT_TRUE(r.has_class_label());
  EXPECT_EQ(r.class_label(), 4 % 3);
  ASSERT_TRUE(r.has_semantic_map());
  // Latent resolution: 64x128 pixels / 8.
  EXPECT_EQ(r.semantic_map().width(), 8u);
  EXPECT_EQ(r.semantic_map().height(), 16u);
  ASSERT_EQ(r.semantic_map().labels().size(), 8u * 16u);
  std::set<char> labels(r.semantic_map().labels().begin(), r.semantic_map().labels().end());
  EXPECT_EQ(labels.size(), 2u);  // background and one shape label
  EXPECT_TRUE(labels.count(0));
  for (char l : labels) EXPECT_LT(l, 3);
}

TEST(RequestMixTest, FewerPromptsMeanRepeatedPrompts) {
  MixOptions o;
  o.prompts = 2;
  auto mix = RequestMix::Create(o, ToyModel());
  ASSERT_TRUE(mix.ok()) << mix.status();
  std::set<std::string> prompts;
  for (int i = 0; i < 10; ++i) prompts.insert(mix->Make(i, "p").prompt());
  EXPECT_EQ(prompts.size(), 2u);
}

TEST(RequestMixTest, RejectsConditioningTheModelDoesNotTake) {
  for (const char* kind : {"class", "map", "text+map"}) {
    MixOptions o;
    o.conditioning = {kind};
    auto mix = RequestMix::Create(o, TextOnlyModel());
    ASSERT_FALSE(mix.ok()) << kind;
    EXPECT_EQ(mix.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_THAT(std::string(mix.status().message()), ::testing::HasSubstr("--conditioning"));
  }
}

TEST(RequestMixTest, RejectsBadFlagValuesNamingTheFlag) {
  struct Case {
    MixOptions options;
    std::string flag;
  };
  std::vector<Case> cases(7);
  cases[0].options.samplers = {"warp-drive"};
  cases[0].flag = "--samplers";
  cases[1].options.conditioning = {"text+colour"};
  cases[1].flag = "--conditioning";
  cases[2].options.sizes = {"64x"};
  cases[2].flag = "--sizes";
  cases[3].options.steps = {5000};
  cases[3].flag = "--steps";
  cases[4].options.guidance = {-1};
  cases[4].flag = "--guidance";
  cases[5].options.prompts = 0;
  cases[5].flag = "--prompts";
  cases[6].options.steps = {};
  cases[6].flag = "--steps";
  for (const Case& c : cases) {
    auto mix = RequestMix::Create(c.options, ToyModel());
    ASSERT_FALSE(mix.ok()) << c.flag;
    EXPECT_EQ(mix.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_THAT(std::string(mix.status().message()), ::testing::HasSubstr(c.flag));
  }
}

TEST(RequestMixTest, DefaultSamplerAndStepsLeaveTheFieldsUnsetForTheServer) {
  MixOptions o;
  o.samplers = {"default"};
  auto mix = RequestMix::Create(o, ToyModel());
  ASSERT_TRUE(mix.ok()) << mix.status();
  const v1::GenerateRequest r = mix->Make(0, "p");
  EXPECT_EQ(r.sampler(), v1::SAMPLER_UNSPECIFIED);
  EXPECT_EQ(r.steps(), 0u);
  EXPECT_EQ(r.width(), 0u);
}

}  // namespace request_mix_test
}  // namespace ldm::bench
