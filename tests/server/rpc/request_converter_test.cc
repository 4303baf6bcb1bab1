// RequestConverter: defaults, seeds and conversion. Every validation error is exercised over the
// wire in image_generation_service_test.cc.
#include "server/rpc/request_converter.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "core/io/png_codec.h"
#include "tests/testing/fake_engine.h"

namespace ldm::server {
namespace {

using ::testing::HasSubstr;

class RequestConverterTest : public ::testing::Test {
 protected:
  RequestConverterTest()
      : catalog_({{"fake", testing::FakeEngine::DefaultInfo("fake")},
                  {"other", testing::FakeEngine::DefaultInfo("other")}},
                 "fake"),
        converter_(&catalog_) {}
  ModelCatalog catalog_;
  RequestConverter converter_;
};

TEST_F(RequestConverterTest, EmptyRequestGetsTheDefaultModelAndItsDefaults) {
  absl::StatusOr<GenerationRequest> r = converter_.Convert(v1::GenerateRequest());
  ASSERT_TRUE(r.ok()) << r.status();
  const ModelInfo info = testing::FakeEngine::DefaultInfo("fake");
  EXPECT_EQ(r->model, "fake");
  EXPECT_THAT(r->request_id, HasSubstr("req-"));
  ASSERT_EQ(r->images.size(), 1u);
  const JobSpec& spec = r->images[0];
  EXPECT_EQ(spec.width, info.native_width);
  EXPECT_EQ(spec.height, info.native_height);
  EXPECT_EQ(spec.steps, info.default_steps);
  EXPECT_DOUBLE_EQ(spec.guidance_scale, info.default_guidance);
  EXPECT_EQ(spec.sampler, "");
  EXPECT_NE(spec.seed, 0u);
  EXPECT_EQ(spec.request_id, r->request_id);
  EXPECT_EQ(r->preview_every, 0);
}

TEST_F(RequestConverterTest, ImageIUsesSeedPlusI) {
  v1::GenerateRequest in;
  in.set_seed(1000);
  in.set_num_images(3);
  absl::StatusOr<GenerationRequest> r = converter_.Convert(in);
  ASSERT_TRUE(r.ok()) << r.status();
  ASSERT_EQ(r->images.size(), 3u);
  for (size_t i = 0; i < 3; ++i) EXPECT_EQ(r->images[i].seed, 1000 + i);
}

TEST_F(RequestConverterTest, SeedZeroPicksADifferentRandomSeedEachTime) {
  v1::GenerateRequest in;
  in.set_num_images(2);
  absl::StatusOr<GenerationRequest> a = converter_.Convert(in);
  absl::StatusOr<GenerationRequest> b = converter_.Convert(in);
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_NE(a->images[0].seed, 0u);
  EXPECT_EQ(a->images[1].seed, a->images[0].seed + 1);
  EXPECT_NE(a->images[0].seed, b->images[0].seed);
  EXPECT_LT(a->images[0].seed, uint64_t{1} << 53);
}

TEST_F(RequestConverterTest, ConvertsEveryFieldItCarries) {
  v1::GenerateRequest in;
  in.set_model("other");
  in.set_request_id("client-7");
  in.set_prompt("a red circle");
  in.set_negative_prompt("blurry");
  in.set_class_name("green circle");
  in.set_width(128);
  in.set_height(96);
  in.set_steps(12);
  in.set_guidance_scale(7.5f);
  in.set_sampler(v1::DDIM);
  in.set_eta(0.5f);
  in.set_preview_every(4);
  in.set_preview_quality(v1::FULL);
  in.set_priority(3);
  in.set_clip_skip(1);
  absl::StatusOr<GenerationRequest> r = converter_.Convert(in);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->model, "other");
  EXPECT_EQ(r->request_id, "client-7");
  EXPECT_EQ(r->preview_every, 4);
  EXPECT_EQ(r->preview_quality, PreviewQuality::kFull);
  EXPECT_EQ(r->priority, 3);
  const JobSpec& s = r->images.at(0);
  EXPECT_EQ(s.prompt, "a red circle");
  EXPECT_EQ(s.negative_prompt, "blurry");
  EXPECT_EQ(s.class_label, 1);
  EXPECT_EQ(s.width, 128);
  EXPECT_EQ(s.height, 96);
  EXPECT_EQ(s.steps, 12);
  EXPECT_DOUBLE_EQ(s.guidance_scale, 7.5);
  EXPECT_EQ(s.sampler, "ddim");
  EXPECT_DOUBLE_EQ(s.eta, 0.5);
  EXPECT_EQ(s.clip_skip, 1);
}

TEST_F(RequestConverterTest, SemanticMapPngDecodesToLabelIndices) {
  Image8 labels{8, 8, 1, std::vector<uint8_t>(64, 0)};
  labels.pixels[9] = 1;
  absl::StatusOr<std::string> png = EncodePng(labels);
  ASSERT_TRUE(png.ok());
  v1::GenerateRequest in;
  in.mutable_semantic_map()->set_png(*png);  // 64x64 image -> 8x8 latent-size map
  absl::StatusOr<GenerationRequest> r = converter_.Convert(in);
  ASSERT_TRUE(r.ok()) << r.status();
  const LabelMap& map = *r->images.at(0).semantic_map;
  EXPECT_EQ(map.width, 8);
  EXPECT_EQ(map.height, 8);
  EXPECT_EQ(map.labels, labels.pixels);
}

TEST_F(RequestConverterTest, RawSemanticMapAtImageSizeIsAccepted) {
  v1::GenerateRequest in;
  in.mutable_semantic_map()->set_width(64);
  in.mutable_semantic_map()->set_height(64);
  in.mutable_semantic_map()->set_labels(std::string(64 * 64, '\1'));
  absl::StatusOr<GenerationRequest> r = converter_.Convert(in);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->images.at(0).semantic_map->labels.size(), 64u * 64u);
}

TEST_F(RequestConverterTest, ErrorsNameTheRequestIdAndTheField) {
  v1::GenerateRequest in;
  in.set_request_id("abc");
  in.set_steps(5000);
  absl::StatusOr<GenerationRequest> r = converter_.Convert(in);
  ASSERT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(r.status().message(), HasSubstr("request abc"));
  EXPECT_THAT(r.status().message(), HasSubstr("steps"));
  EXPECT_THAT(r.status().message(), HasSubstr("[1, 1000]"));
}

TEST_F(RequestConverterTest, AModelWithoutANullClassRequiresAClassUpFront) {
  ModelInfo info = testing::FakeEngine::DefaultInfo("strict");
  info.class_required = true;
  ModelCatalog catalog({{"strict", info}}, "strict");
  RequestConverter converter(&catalog);
  v1::GenerateRequest in;
  in.set_request_id("r9");
  absl::StatusOr<GenerationRequest> r = converter.Convert(in);
  ASSERT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(r.status().message(), HasSubstr("request r9"));
  EXPECT_THAT(r.status().message(), HasSubstr("class_label"));
  in.set_class_label(1);
  EXPECT_TRUE(converter.Convert(in).ok());
}

TEST_F(RequestConverterTest, UnknownModelIsNotFound) {
  v1::GenerateRequest in;
  in.set_model("nope");
  EXPECT_EQ(converter_.Convert(in).status().code(), absl::StatusCode::kNotFound);
}

}  // namespace
}  // namespace ldm::server
