#include "server/rpc/model_catalog.h"

#include <gtest/gtest.h>

#include "tests/testing/fake_engine.h"

namespace ldm::server {
namespace {

ModelCatalog TwoModels() {
  ModelInfo b = testing::FakeEngine::DefaultInfo("b");
  b.supports_class = false;
  b.num_classes = 0;
  b.class_names = {};
  return ModelCatalog({{"a", testing::FakeEngine::DefaultInfo("a")}, {"b", b}}, "b");
}

TEST(ModelCatalogTest, EmptyNameResolvesToTheDefault) {
  ModelCatalog catalog = TwoModels();
  absl::StatusOr<const ModelInfo*> m = catalog.Resolve("r1", "");
  ASSERT_TRUE(m.ok());
  EXPECT_EQ((*m)->name, "b");
  EXPECT_EQ((*catalog.Resolve("r1", "a"))->name, "a");
}

TEST(ModelCatalogTest, UnknownNameIsNotFoundListingTheLoadedModels) {
  absl::StatusOr<const ModelInfo*> m = TwoModels().Resolve("r1", "zzz");
  ASSERT_EQ(m.status().code(), absl::StatusCode::kNotFound);
  EXPECT_NE(m.status().message().find("request r1"), absl::string_view::npos);
  EXPECT_NE(m.status().message().find("'zzz'"), absl::string_view::npos);
  EXPECT_NE(m.status().message().find("a, b"), absl::string_view::npos);
}

TEST(ModelCatalogTest, DescribeListsTheDefaultFirstWithEverythingClientsNeed) {
  v1::ListModelsResponse r = TwoModels().Describe();
  ASSERT_EQ(r.models_size(), 2);
  EXPECT_EQ(r.models(0).name(), "b");
  EXPECT_TRUE(r.models(0).is_default());
  EXPECT_FALSE(r.models(1).is_default());
  const v1::ModelDescription& a = r.models(1);
  EXPECT_EQ(a.native_width(), 64u);
  EXPECT_EQ(a.min_size(), 32u);
  EXPECT_EQ(a.max_size(), 256u);
  EXPECT_EQ(a.size_multiple(), 8u);
  ASSERT_EQ(a.conditioning_size(), 3);
  EXPECT_EQ(a.conditioning(0), "text");
  EXPECT_EQ(a.conditioning(1), "class");
  EXPECT_EQ(a.conditioning(2), "semantic_map");
  ASSERT_EQ(a.class_names_size(), 2);
  EXPECT_EQ(a.class_names(1), "green circle");
  EXPECT_EQ(a.semantic_labels_size(), 2);
  ASSERT_EQ(a.samplers_size(), 2);
  EXPECT_EQ(a.samplers(0), v1::DDIM);
  EXPECT_EQ(a.default_sampler(), v1::DDIM);
  EXPECT_EQ(a.default_steps(), 25u);
  EXPECT_EQ(a.max_prompt_tokens(), 77u);
  EXPECT_EQ(r.models(0).class_names_size(), 0);
  EXPECT_FALSE(a.has_classifier());
}

TEST(ModelCatalogTest, DescribeReportsTheDefaultEta) {
  ModelInfo info = testing::FakeEngine::DefaultInfo("stochastic");
  EXPECT_EQ(ModelCatalog::Describe(info, true).default_eta(), 0.0f);
  info.default_eta = 1.0;
  EXPECT_EQ(ModelCatalog::Describe(info, true).default_eta(), 1.0f);
}

TEST(ModelCatalogTest, DescribeReportsTheMapOnlyGuidanceWhenTheModelHasOne) {
  ModelInfo info = testing::FakeEngine::DefaultInfo("maps");
  EXPECT_FALSE(ModelCatalog::Describe(info, true).has_default_guidance_scale_map_only());
  info.default_guidance_map_only = 2.0;
  const v1::ModelDescription d = ModelCatalog::Describe(info, true);
  ASSERT_TRUE(d.has_default_guidance_scale_map_only());
  EXPECT_EQ(d.default_guidance_scale_map_only(), 2.0f);
}

TEST(ModelCatalogTest, DescribeReportsAClassifier) {
  ModelInfo info = testing::FakeEngine::DefaultInfo("guided");
  info.has_classifier = true;
  EXPECT_TRUE(ModelCatalog::Describe(info, true).has_classifier());
}

TEST(ModelCatalogTest, UnnamedClassesAndLabelsAreNamedByTheirIndex) {
  ModelInfo info = testing::FakeEngine::DefaultInfo("m");
  info.class_names = {};
  info.num_classes = 3;
  info.semantic_labels = {"background"};
  info.semantic_channels = 3;
  ModelCatalog catalog({{"m", info}}, "m");
  const v1::ModelDescription d = catalog.Describe().models(0);
  ASSERT_EQ(d.class_names_size(), 3);
  EXPECT_EQ(d.class_names(2), "2");
  ASSERT_EQ(d.semantic_labels_size(), 3);
  EXPECT_EQ(d.semantic_labels(0), "background");
  EXPECT_EQ(d.semantic_labels(2), "2");
  EXPECT_EQ(catalog.models().at("m").class_names.size(), 3u);
}

TEST(ModelCatalogTest, SuperResolutionModelsListLowResImageAndTheirFactor) {
  ModelCatalog catalog({{"base", testing::FakeEngine::DefaultInfo("base")},
                        {"z-sr", testing::FakeEngine::SuperResolutionInfo("z-sr")},
                        {"a-sr", testing::FakeEngine::SuperResolutionInfo("a-sr")}},
                       "base");
  const v1::ListModelsResponse r = catalog.Describe();
  ASSERT_EQ(r.models_size(), 3);
  EXPECT_EQ(r.models(0).upscale_factor(), 0u);
  for (const auto& c : r.models(0).conditioning()) EXPECT_NE(c, "low_res_image");
  const v1::ModelDescription& sr = r.models(1);
  EXPECT_EQ(sr.name(), "a-sr");
  EXPECT_EQ(sr.upscale_factor(), 4u);
  ASSERT_EQ(sr.conditioning_size(), 1);
  EXPECT_EQ(sr.conditioning(0), "low_res_image");
  EXPECT_EQ(catalog.default_upscaler(), "a-sr");  // the first by name
  ModelCatalog none({{"base", testing::FakeEngine::DefaultInfo("base")}}, "base");
  EXPECT_EQ(none.default_upscaler(), "");
}

}  // namespace
}  // namespace ldm::server
