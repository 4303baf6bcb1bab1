#include "client/request_builder.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

namespace ldm::client {
namespace {

using ::testing::HasSubstr;

TEST(RequestBuilderTest, CopiesTheFlags) {
  GenerateFlags f;
  f.model = "m";
  f.prompt = "a red circle";
  f.negative_prompt = "blue";
  f.width = 64;
  f.height = 32;
  f.num_images = 2;
  f.steps = 10;
  f.guidance_scale = 4.5f;
  f.eta = 0.0f;
  f.seed = 7;
  f.preview_every = 2;
  f.request_id = "r1";
  absl::StatusOr<v1::GenerateRequest> r = RequestBuilder::Build(f);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->model(), "m");
  EXPECT_EQ(r->prompt(), "a red circle");
  EXPECT_EQ(r->negative_prompt(), "blue");
  EXPECT_EQ(r->width(), 64u);
  EXPECT_EQ(r->height(), 32u);
  EXPECT_EQ(r->num_images(), 2u);
  EXPECT_EQ(r->steps(), 10u);
  ASSERT_TRUE(r->has_guidance_scale());
  EXPECT_FLOAT_EQ(r->guidance_scale(), 4.5f);
  ASSERT_TRUE(r->has_eta());  // an explicit 0 is sent, so it overrides the model's default
  EXPECT_EQ(r->eta(), 0.0f);
  EXPECT_EQ(r->seed(), 7u);
  EXPECT_EQ(r->preview_every(), 2u);
  EXPECT_EQ(r->request_id(), "r1");
  EXPECT_EQ(r->class_condition_case(), v1::GenerateRequest::CLASS_CONDITION_NOT_SET);
  EXPECT_FALSE(r->has_semantic_map());
}

TEST(RequestBuilderTest, GuidanceAndEtaUnsetStayUnset) {
  absl::StatusOr<v1::GenerateRequest> r = RequestBuilder::Build(GenerateFlags());
  ASSERT_TRUE(r.ok());
  EXPECT_FALSE(r->has_guidance_scale());
  EXPECT_FALSE(r->has_eta());
}

TEST(RequestBuilderTest, ClassIsAnIndexOrAName) {
  GenerateFlags f;
  f.class_condition = "3";
  EXPECT_EQ(RequestBuilder::Build(f)->class_label(), 3);
  f.class_condition = "circle";
  EXPECT_EQ(RequestBuilder::Build(f)->class_name(), "circle");
  f.class_condition = "-1";  // not an index: the server says which names exist
  EXPECT_EQ(RequestBuilder::Build(f)->class_name(), "-1");
}

TEST(RequestBuilderTest, PreviewQualityIsFastFullOrTheServerDefault) {
  GenerateFlags f;
  EXPECT_EQ(RequestBuilder::Build(f)->preview_quality(), v1::PREVIEW_QUALITY_UNSPECIFIED);
  f.preview_quality = "full";
  EXPECT_EQ(RequestBuilder::Build(f)->preview_quality(), v1::FULL);
  f.preview_quality = "fast";
  EXPECT_EQ(RequestBuilder::Build(f)->preview_quality(), v1::FAST);
  f.preview_quality = "best";
  absl::StatusOr<v1::GenerateRequest> bad = RequestBuilder::Build(f);
  EXPECT_EQ(bad.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(bad.status().message(), HasSubstr("--preview-quality"));
}

TEST(RequestBuilderTest, GuidanceAndSuperResolutionFlagsAreCopied) {
  const std::filesystem::path path =
      std::filesystem::temp_directory_path() / "request_builder_low_res.png";
  std::ofstream(path, std::ios::binary) << "\x89PNG fake";
  GenerateFlags f;
  f.classifier_scale = 3.5f;
  f.low_res_image_png = path.string();
  f.upscale = true;
  f.upscale_model = "sr";
  f.upscale_steps = 30;
  absl::StatusOr<v1::GenerateRequest> r = RequestBuilder::Build(f);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_FLOAT_EQ(r->classifier_scale(), 3.5f);
  EXPECT_EQ(r->low_res_image(), "\x89PNG fake");
  EXPECT_TRUE(r->upscale());
  EXPECT_EQ(r->upscale_model(), "sr");
  EXPECT_EQ(r->upscale_steps(), 30u);
  std::filesystem::remove(path);
  f.low_res_image_png = "/nonexistent/low.png";
  absl::StatusOr<v1::GenerateRequest> bad = RequestBuilder::Build(f);
  EXPECT_EQ(bad.status().code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(bad.status().message(), HasSubstr("--low-res-image"));
}

TEST(RequestBuilderTest, SamplerSpellings) {
  EXPECT_EQ(*RequestBuilder::ParseSampler("euler-ancestral"), v1::EULER_ANCESTRAL);
  EXPECT_EQ(*RequestBuilder::ParseSampler("DPMPP_2M_KARRAS"), v1::DPMPP_2M_KARRAS);
  EXPECT_EQ(*RequestBuilder::ParseSampler("dpm++-2m"), v1::DPMPP_2M);
  EXPECT_EQ(*RequestBuilder::ParseSampler("ddim"), v1::DDIM);
  absl::StatusOr<v1::Sampler> bad = RequestBuilder::ParseSampler("heun");
  EXPECT_EQ(bad.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(bad.status().message(), HasSubstr("euler_ancestral"));
  EXPECT_EQ(RequestBuilder::ParseSampler("sampler_unspecified").status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(RequestBuilder::SamplerName(v1::DPMPP_2M_KARRAS), "dpmpp_2m_karras");
}

TEST(RequestBuilderTest, SemanticMapFileIsSentAsPng) {
  const std::filesystem::path path =
      std::filesystem::temp_directory_path() / "ldm_request_builder_test_map.png";
  {
    std::ofstream out(path, std::ios::binary);
    out << "\x89PNG fake bytes";
  }
  GenerateFlags f;
  f.semantic_map_png = path.string();
  absl::StatusOr<v1::GenerateRequest> r = RequestBuilder::Build(f);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->semantic_map().png(), "\x89PNG fake bytes");
  std::filesystem::remove(path);

  f.semantic_map_png = "/nonexistent/map.png";
  EXPECT_EQ(RequestBuilder::Build(f).status().code(), absl::StatusCode::kNotFound);
}

}  // namespace
}  // namespace ldm::client
