#include "core/pipeline/model_extras.h"

#include <gtest/gtest.h>

namespace ldm {
namespace model_extras_test {

ModelConfig Make(const char* text) {
  return ModelConfig(nlohmann::json::parse(text), "ldm_model.json");
}

TEST(ModelExtrasTest, ParsesEveryField) {
  auto e = ModelExtras::FromConfig(Make(R"({
    "class_names": ["a", "b"], "null_class_label": 2, "semantic_labels": ["bg", "x"],
    "latent_rgb_factors": [[1, 0, 0], [0, 1, 0]], "latent_rgb_bias": [0.1, 0.2, 0.3],
    "cfg_unconditional": {"class": "null", "semantic_map": "zero"},
    "default_sampler": "ddim", "default_steps": 30, "default_guidance_scale": 4.5, "default_eta": 0.5,
    "default_guidance_scale_map_only": 2.0, "decode_latent_padding": 2,
    "semantic_map_subcells": 2, "max_size": 256})"));
  ASSERT_TRUE(e.ok()) << e.status();
  EXPECT_EQ(e->class_names.size(), 2u);
  EXPECT_EQ(*e->null_class_label, 2);
  EXPECT_TRUE(e->uncond_null_class);
  EXPECT_TRUE(e->uncond_zero_map);
  EXPECT_EQ(e->latent_rgb_factors.size(), 2u);
  EXPECT_EQ(e->default_steps, 30);
  EXPECT_DOUBLE_EQ(e->default_eta, 0.5);
  EXPECT_EQ(e->default_guidance_scale_map_only, 2.0);
  EXPECT_EQ(e->decode_latent_padding, 2);
  EXPECT_EQ(e->semantic_map_subcells, 2);
  EXPECT_EQ(e->max_size, 256);
}

TEST(ModelExtrasTest, DefaultsKeepConditionsInTheUnconditionalRow) {
  auto e = ModelExtras::FromConfig(Make("{}"));
  ASSERT_TRUE(e.ok());
  EXPECT_FALSE(e->uncond_null_class);
  EXPECT_FALSE(e->uncond_zero_map);
  EXPECT_DOUBLE_EQ(e->default_eta, 0.0);  // deterministic DDIM, as diffusers
  EXPECT_FALSE(e->default_guidance_scale_map_only.has_value());
  EXPECT_EQ(e->decode_latent_padding, 0);  // decode latents as they are, as diffusers
  EXPECT_EQ(e->semantic_map_subcells, 1);  // one area fraction per label and latent cell
}

TEST(ModelExtrasTest, MalformedFieldsNameTheField) {
  auto bad_rows = ModelExtras::FromConfig(Make(R"({"latent_rgb_factors": [[1, 2]]})"));
  EXPECT_NE(bad_rows.status().message().find("latent_rgb_factors"), std::string::npos);
  auto null_without_label =
      ModelExtras::FromConfig(Make(R"({"cfg_unconditional": {"class": "null"}})"));
  EXPECT_NE(null_without_label.status().message().find("null_class_label"), std::string::npos);
  auto bad_mode =
      ModelExtras::FromConfig(Make(R"({"cfg_unconditional": {"semantic_map": "drop"}})"));
  EXPECT_FALSE(bad_mode.ok());
  // Each malformed field is named in the error.
  for (const char* bad : {R"({"default_guidance_scale_map_only": -1})",
                          R"({"default_guidance_scale": 31})", R"({"default_guidance_scale": -2})",
                          R"({"default_steps": 0})", R"({"default_steps": 1001})",
                          R"({"decode_latent_padding": -1})", R"({"decode_latent_padding": 9})",
                          R"({"decode_latent_padding": 1.5})", R"({"decode_latent_padding": "1"})",
                          R"({"semantic_map_subcells": 0})", R"({"semantic_map_subcells": 9})",
                          R"({"semantic_map_subcells": 2.5})", R"({"semantic_map_subcells": "2"})",
                          R"({"default_eta": 1.5})", R"({"default_eta": -0.1})"}) {
    auto bad_field = ModelExtras::FromConfig(Make(bad));
    ASSERT_FALSE(bad_field.ok()) << bad;
    const std::string field = nlohmann::json::parse(bad).begin().key();
    EXPECT_NE(bad_field.status().message().find(field), std::string::npos) << bad_field.status();
  }
}

TEST(ModelExtrasTest, LowResImageMarksASuperResolutionModel) {
  auto none = ModelExtras::FromConfig(Make("{}"));
  ASSERT_TRUE(none.ok());
  EXPECT_FALSE(none->low_res_image.has_value());
  auto sr = ModelExtras::FromConfig(
      Make(R"({"low_res_image": {"upscale_factor": 4, "to_latent": "pixel_unshuffle"}})"));
  ASSERT_TRUE(sr.ok()) << sr.status();
  ASSERT_TRUE(sr->low_res_image.has_value());
  EXPECT_EQ(sr->low_res_image->upscale_factor, 4);
  EXPECT_EQ(sr->low_res_image->back_projection, 0);
  auto bp = ModelExtras::FromConfig(
      Make(R"({"low_res_image": {"upscale_factor": 4, "back_projection": 5}})"));
  ASSERT_TRUE(bp.ok()) << bp.status();
  EXPECT_EQ(bp->low_res_image->back_projection, 5);
  EXPECT_EQ(bp->low_res_image->init, LowResImageExtras::Init::kNoise);
  auto init = ModelExtras::FromConfig(
      Make(R"({"low_res_image": {"upscale_factor": 4, "init": "noised_input"}})"));
  ASSERT_TRUE(init.ok()) << init.status();
  EXPECT_EQ(init->low_res_image->init, LowResImageExtras::Init::kNoisedInput);
}

TEST(ModelExtrasTest, MalformedLowResImageNamesTheField) {
  for (const char* text : {R"({"low_res_image": 4})", R"({"low_res_image": {}})",
                           R"({"low_res_image": {"upscale_factor": 0}})",
                           R"({"low_res_image": {"upscale_factor": 2.5}})",
                           R"({"low_res_image": {"upscale_factor": 4, "back_projection": -1}})",
                           R"({"low_res_image": {"upscale_factor": 4, "init": "image"}})"}) {
    auto e = ModelExtras::FromConfig(Make(text));
    ASSERT_FALSE(e.ok()) << text;
    EXPECT_NE(e.status().message().find("low_res_image"), std::string::npos) << e.status();
  }
  auto resize = ModelExtras::FromConfig(
      Make(R"({"low_res_image": {"upscale_factor": 4, "to_latent": "resize"}})"));
  ASSERT_FALSE(resize.ok());
  EXPECT_NE(resize.status().message().find("low_res_image.to_latent"), std::string::npos);
}

}  // namespace model_extras_test
}  // namespace ldm
