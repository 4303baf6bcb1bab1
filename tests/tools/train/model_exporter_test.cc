#include "tools/train/model_exporter.h"

#include <gtest/gtest.h>

#include <fstream>

#include "core/io/model_config.h"
#include "core/pipeline/pipeline.h"
#include "tests/testing/fixtures.h"
#include "tests/tools/train/tiny_model.h"

namespace ldm::train {
namespace {
namespace fs = std::filesystem;

nlohmann::json ReadJson(const fs::path& p) {
  std::ifstream in(p);
  return nlohmann::json::parse(in);
}

std::set<std::string> Keys(const nlohmann::json& j) {
  std::set<std::string> keys;
  for (auto it = j.begin(); it != j.end(); ++it) keys.insert(it.key());
  return keys;
}

TEST(ModelExporterTest, ExportLoadsAndGeneratesWithEveryCondition) {
  const fs::path dir = ldm::testing::TempDir("model_exporter_export");
  absl::Status s = testing::ExportTinyModel(dir / "work", dir / "model");
  ASSERT_TRUE(s.ok()) << s;
  auto pipeline = Pipeline::Load(dir / "model");
  ASSERT_TRUE(pipeline.ok()) << pipeline.status();
  const ModelInfo& info = (*pipeline)->info();
  EXPECT_TRUE(info.supports_text);
  EXPECT_TRUE(info.supports_class);
  EXPECT_TRUE(info.supports_semantic_map);
  EXPECT_EQ(info.num_classes, 18);
  EXPECT_EQ(info.semantic_channels, 7);
  EXPECT_EQ(info.native_width, 64);
  EXPECT_EQ(info.default_sampler, "ddim");
  EXPECT_EQ((*pipeline)->extras().class_names.size(), 18u);
  EXPECT_EQ((*pipeline)->extras().class_names[7], "green square");

  GenerateOptions g;
  g.spec.prompt = "a red circle";
  g.spec.class_label = 0;
  g.spec.semantic_map = LabelMap{8, 8, std::vector<uint8_t>(64, 1)};
  g.spec.steps = 2;
  g.spec.guidance_scale = 3.0;
  g.spec.seed = 5;
  auto images = (*pipeline)->Generate(g);
  ASSERT_TRUE(images.ok()) << images.status();
  ASSERT_EQ(images->size(), 1u);
  EXPECT_EQ((*images)[0].width, 64);
  EXPECT_EQ((*images)[0].height, 64);
  EXPECT_EQ((*images)[0].channels, 3);
}

TEST(ModelExporterTest, ConfigsHaveDiffusersKeysAndHalfWeights) {
  const fs::path dir = ldm::testing::TempDir("model_exporter_keys");
  absl::Status s = testing::ExportTinyModel(dir / "work", dir / "model");
  ASSERT_TRUE(s.ok()) << s;
  const fs::path m = dir / "model";
  auto fixtures = ldm::testing::FixturesDir();
  ASSERT_TRUE(fixtures.ok()) << fixtures.status();
  const fs::path ref = *fixtures / "models" / "ldm-cond-tiny";
  for (const char* file :
       {"model_index.json", "unet/config.json", "vae/config.json", "text_encoder/config.json",
        "scheduler/scheduler_config.json", "tokenizer/tokenizer_config.json"}) {
    EXPECT_EQ(Keys(ReadJson(m / file)), Keys(ReadJson(ref / file))) << file;
  }
  nlohmann::json extras = ReadJson(m / "ldm_model.json");
  EXPECT_EQ(extras["null_class_label"], 18);
  EXPECT_EQ(extras["cfg_unconditional"]["class"], "null");
  EXPECT_EQ(extras["cfg_unconditional"]["semantic_map"], "zero");
  EXPECT_EQ(extras["semantic_labels"][0], "background");
  EXPECT_EQ(extras["semantic_labels"][6], "cyan");
  EXPECT_EQ(extras["default_sampler"], "ddim");
  EXPECT_EQ(extras["default_eta"], 1.0);
  EXPECT_EQ(extras["default_guidance_scale_map_only"], 2.0);
  EXPECT_EQ(extras["decode_latent_padding"], 0);  // decode as diffusers unless the run says so
  EXPECT_EQ(ReadJson(m / "tokenizer/tokenizer_config.json")["model_max_length"], 16);
  // fp16 UNet weights: the header names F16.
  std::ifstream unet(m / "unet/diffusion_pytorch_model.safetensors", std::ios::binary);
  std::string head(4096, '\0');
  unet.read(head.data(), static_cast<std::streamsize>(head.size()));
  EXPECT_NE(head.find("\"F16\""), std::string::npos);
}

TEST(ModelExporterTest, RefusesSubcellsThatDoNotFitTheUNet) {
  const fs::path dir = ldm::testing::TempDir("model_exporter_subcells");
  auto in = testing::TinyExportInputs(dir / "work");  // in_channels 4 + 7: one fraction per cell
  ASSERT_TRUE(in.ok()) << in.status();
  in->semantic_map_subcells = 2;
  absl::Status s = ModelExporter::Export(*in, dir / "model");
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument) << s;
  EXPECT_NE(s.message().find("semantic_map_subcells 2"), std::string::npos) << s;
  EXPECT_FALSE(fs::exists(dir / "model"));
}

TEST(ModelExporterTest, RefusesToReplaceAForeignDirectory) {
  const fs::path dir = ldm::testing::TempDir("model_exporter_refuse");
  fs::create_directories(dir / "model");
  std::ofstream(dir / "model" / "notes.txt") << "mine";
  absl::Status s = testing::ExportTinyModel(dir / "work", dir / "model");
  EXPECT_EQ(s.code(), absl::StatusCode::kFailedPrecondition) << s;
  EXPECT_TRUE(fs::exists(dir / "model" / "notes.txt"));
}

}  // namespace
}  // namespace ldm::train
