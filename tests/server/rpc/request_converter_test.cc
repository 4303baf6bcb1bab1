// RequestConverter: defaults, seeds and conversion. Every validation error is exercised over the
// wire in image_generation_service_test.cc.
#include "server/rpc/request_converter.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>
#include <functional>

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

TEST_F(RequestConverterTest, AMapOnlyRequestGetsTheModelsMapOnlyGuidance) {
  ModelInfo info = testing::FakeEngine::DefaultInfo("maps");
  info.default_guidance = 5.0;
  info.default_guidance_map_only = 2.0;
  ModelCatalog catalog({{"maps", info}, {"plain", testing::FakeEngine::DefaultInfo("plain")}},
                       "maps");
  RequestConverter converter(&catalog);
  v1::GenerateRequest in;
  in.mutable_semantic_map()->set_width(64);
  in.mutable_semantic_map()->set_height(64);
  in.mutable_semantic_map()->set_labels(std::string(64 * 64, '\1'));
  EXPECT_DOUBLE_EQ(converter.Convert(in)->images[0].guidance_scale, 2.0);
  // With text or a class besides the map, the general default.
  v1::GenerateRequest with_text = in;
  with_text.set_prompt("a red circle");
  EXPECT_DOUBLE_EQ(converter.Convert(with_text)->images[0].guidance_scale, 5.0);
  v1::GenerateRequest with_class = in;
  with_class.set_class_label(1);
  EXPECT_DOUBLE_EQ(converter.Convert(with_class)->images[0].guidance_scale, 5.0);
  // Without a map, the general default; an explicit scale always wins.
  EXPECT_DOUBLE_EQ(converter.Convert(v1::GenerateRequest())->images[0].guidance_scale, 5.0);
  in.set_guidance_scale(7.0f);
  EXPECT_DOUBLE_EQ(converter.Convert(in)->images[0].guidance_scale, 7.0);
  // A model without a map-only default uses its general one for maps too.
  in.clear_guidance_scale();
  in.set_model("plain");
  EXPECT_DOUBLE_EQ(converter.Convert(in)->images[0].guidance_scale,
                   testing::FakeEngine::DefaultInfo("plain").default_guidance);
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

TEST_F(RequestConverterTest, UnsetEtaIsTheModelsDefaultForDdimOnly) {
  ModelInfo info = testing::FakeEngine::DefaultInfo("stochastic");
  info.default_eta = 0.75;
  ModelCatalog catalog({{"stochastic", info}}, "stochastic");
  RequestConverter converter(&catalog);
  v1::GenerateRequest in;
  absl::StatusOr<GenerationRequest> r = converter.Convert(in);  // the default sampler, DDIM
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_DOUBLE_EQ(r->images[0].eta, 0.75);
  in.set_sampler(v1::DDIM);
  EXPECT_DOUBLE_EQ(converter.Convert(in)->images[0].eta, 0.75);
  // An explicit value, 0 included, overrides the default.
  in.set_eta(0.0f);
  EXPECT_DOUBLE_EQ(converter.Convert(in)->images[0].eta, 0.0);
  in.set_eta(0.25f);
  EXPECT_DOUBLE_EQ(converter.Convert(in)->images[0].eta, 0.25);
  // Other samplers have no eta: the default does not apply and is no error.
  in.clear_eta();
  in.set_sampler(v1::EULER);
  r = converter.Convert(in);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_DOUBLE_EQ(r->images[0].eta, 0.0);
}

TEST_F(RequestConverterTest, ClassifierScaleNeedsAModelClassifierAndAClassLabel) {
  ModelInfo info = testing::FakeEngine::DefaultInfo("guided");
  info.has_classifier = true;
  ModelCatalog catalog({{"guided", info}, {"plain", testing::FakeEngine::DefaultInfo("plain")}},
                       "guided");
  RequestConverter converter(&catalog);
  v1::GenerateRequest in;
  in.set_request_id("cg1");
  in.set_class_name("green circle");
  in.set_classifier_scale(3.0f);
  in.set_num_images(2);
  absl::StatusOr<GenerationRequest> ok = converter.Convert(in);
  ASSERT_TRUE(ok.ok()) << ok.status();
  for (const JobSpec& spec : ok->images) {
    EXPECT_DOUBLE_EQ(spec.classifier_scale, 3.0);
    EXPECT_EQ(spec.class_label, 1);
  }
  // Without a class label there is nothing to guide towards.
  v1::GenerateRequest no_class = in;
  no_class.clear_class_name();
  absl::StatusOr<GenerationRequest> r = converter.Convert(no_class);
  ASSERT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(r.status().message(), HasSubstr("request cg1: classifier_scale"));
  EXPECT_THAT(r.status().message(), HasSubstr("class label"));
  // A model without a classifier refuses it, naming the field.
  v1::GenerateRequest plain = in;
  plain.set_model("plain");
  r = converter.Convert(plain);
  ASSERT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(r.status().message(), HasSubstr("classifier_scale"));
  EXPECT_THAT(r.status().message(), HasSubstr("has_classifier"));
  // Out of range, negative and NaN scales.
  for (float bad : {-1.0f, 101.0f, std::nanf("")}) {
    v1::GenerateRequest out_of_range = in;
    out_of_range.set_classifier_scale(bad);
    r = converter.Convert(out_of_range);
    ASSERT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument) << bad;
    EXPECT_THAT(r.status().message(), HasSubstr("classifier_scale"));
    EXPECT_THAT(r.status().message(), HasSubstr("[0, 100]"));
  }
  // 0 (the default) is off and needs neither.
  plain.set_classifier_scale(0.0f);
  plain.clear_class_name();
  ok = converter.Convert(plain);
  ASSERT_TRUE(ok.ok()) << ok.status();
  EXPECT_DOUBLE_EQ(ok->images[0].classifier_scale, 0.0);
}

// ---------------------------------------------------------------------------------------------
// Super-resolution: low_res_image and upscale.

std::string RgbPng(int w, int h) {
  Image8 img{w, h, 3, std::vector<uint8_t>(static_cast<size_t>(w) * h * 3, 200)};
  return EncodePng(img).value();
}

class SuperResolutionConverterTest : public ::testing::Test {
 protected:
  SuperResolutionConverterTest()
      : catalog_({{"base", testing::FakeEngine::DefaultInfo("base")},
                  {"sr", testing::FakeEngine::SuperResolutionInfo("sr")}},
                 "base"),
        converter_(&catalog_) {}
  ModelCatalog catalog_;
  RequestConverter converter_;
  ModelCatalog catalog_only_base_{{{"base", testing::FakeEngine::DefaultInfo("base")}}, "base"};
};

TEST_F(SuperResolutionConverterTest, LowResImageSetsTheOutputSizeToItsSizeTimesTheFactor) {
  v1::GenerateRequest in;
  in.set_model("sr");
  in.set_low_res_image(RgbPng(32, 24));
  in.set_num_images(2);
  absl::StatusOr<GenerationRequest> r = converter_.Convert(in);
  ASSERT_TRUE(r.ok()) << r.status();
  ASSERT_EQ(r->images.size(), 2u);
  for (const JobSpec& spec : r->images) {
    ASSERT_TRUE(spec.low_res_image.has_value());
    EXPECT_EQ(spec.low_res_image->channels, 3);
    EXPECT_EQ(spec.low_res_image->width, 32);
    EXPECT_EQ(spec.width, 128);
    EXPECT_EQ(spec.height, 96);
    EXPECT_DOUBLE_EQ(spec.guidance_scale, 1.0);  // the upscaler's default
  }
  // A gray PNG is converted to RGB.
  Image8 gray{32, 32, 1, std::vector<uint8_t>(32 * 32, 9)};
  in.set_low_res_image(EncodePng(gray).value());
  r = converter_.Convert(in);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->images[0].low_res_image->channels, 3);
}

TEST_F(SuperResolutionConverterTest, BadLowResImagesAreInvalidArgumentsNamingTheField) {
  struct Case {
    std::string name;
    std::function<void(v1::GenerateRequest&)> mutate;
    std::string expected;
  };
  const std::vector<Case> cases = {
      {"not a png", [](v1::GenerateRequest& r) { r.set_low_res_image("garbage"); },
       "low_res_image does not decode as a PNG"},
      {"missing", [](v1::GenerateRequest& r) { r.clear_low_res_image(); },
       "low_res_image is required by model sr"},
      {"wrong size",
       [](v1::GenerateRequest& r) {
         r.set_width(256);
         r.set_height(256);
       },
       "needs a 64x64 image"},
      {"base model", [](v1::GenerateRequest& r) { r.set_model("base"); },
       "low_res_image is not accepted by model base"},
  };
  for (const Case& c : cases) {
    v1::GenerateRequest in;
    in.set_request_id("sr-7");
    in.set_model("sr");
    in.set_low_res_image(RgbPng(32, 32));
    c.mutate(in);
    absl::StatusOr<GenerationRequest> r = converter_.Convert(in);
    ASSERT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument) << c.name;
    EXPECT_THAT(r.status().message(), HasSubstr("request sr-7: ")) << c.name;
    EXPECT_THAT(r.status().message(), HasSubstr(c.expected)) << c.name;
  }
}

TEST_F(SuperResolutionConverterTest, UpscaleChainsTheDefaultUpscalerWithItsDefaults) {
  v1::GenerateRequest in;
  in.set_prompt("a red circle");
  EXPECT_FALSE(converter_.Convert(in)->upscale.has_value());
  in.set_upscale(true);
  absl::StatusOr<GenerationRequest> r = converter_.Convert(in);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->model, "base");
  ASSERT_TRUE(r->upscale.has_value());
  EXPECT_EQ(r->upscale->model, "sr");
  EXPECT_EQ(r->upscale->steps, 3);
  EXPECT_DOUBLE_EQ(r->upscale->guidance_scale, 1.0);
  in.set_upscale_model("sr");
  in.set_upscale_steps(7);
  r = converter_.Convert(in);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->upscale->steps, 7);
}

TEST_F(SuperResolutionConverterTest, BadUpscaleOptionsNameTheField) {
  struct Case {
    std::string name;
    std::function<void(v1::GenerateRequest&)> mutate;
    std::string expected;
  };
  const std::vector<Case> cases = {
      {"not an upscaler", [](v1::GenerateRequest& r) { r.set_upscale_model("base"); },
       "upscale_model = 'base' is not a loaded super-resolution model (loaded: sr)"},
      {"unknown", [](v1::GenerateRequest& r) { r.set_upscale_model("nope"); }, "upscale_model"},
      {"steps", [](v1::GenerateRequest& r) { r.set_upscale_steps(5000); }, "upscale_steps"},
      {"too large",
       [](v1::GenerateRequest& r) {
         r.set_width(256);
         r.set_height(256);
       },
       "above model sr's max_size 512"},
      {"options without upscale",
       [](v1::GenerateRequest& r) {
         r.set_upscale(false);
         r.set_upscale_steps(3);
       },
       "upscale_steps is set but upscale is false"},
  };
  for (const Case& c : cases) {
    v1::GenerateRequest in;
    in.set_request_id("up-1");
    in.set_upscale(true);
    c.mutate(in);
    absl::StatusOr<GenerationRequest> r = converter_.Convert(in);
    ASSERT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument) << c.name;
    EXPECT_THAT(r.status().message(), HasSubstr("request up-1: ")) << c.name;
    EXPECT_THAT(r.status().message(), HasSubstr(c.expected)) << c.name << ": " << r.status();
  }
  // Without any upscaler loaded, upscale says so.
  v1::GenerateRequest in;
  in.set_request_id("up-2");
  in.set_upscale(true);
  absl::StatusOr<GenerationRequest> r = RequestConverter(&catalog_only_base_).Convert(in);
  ASSERT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(r.status().message(),
              HasSubstr("request up-2: upscale needs a super-resolution model"));
}

TEST_F(RequestConverterTest, UnknownModelIsNotFound) {
  v1::GenerateRequest in;
  in.set_model("nope");
  EXPECT_EQ(converter_.Convert(in).status().code(), absl::StatusCode::kNotFound);
}

}  // namespace
}  // namespace ldm::server
