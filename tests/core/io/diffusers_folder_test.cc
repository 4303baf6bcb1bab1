#include "core/io/diffusers_folder.h"

#include <fstream>

#include <gtest/gtest.h>

#include "tests/testing/fixtures.h"
#include "tests/testing/tensor_matchers.h"

namespace ldm {
namespace diffusers_folder_test {

TEST(DiffusersFolderTest, OpensEveryFixtureVariantAndFindsItsComponents) {
  LDM_ASSERT_OK_AND_ASSIGN(auto root, testing::FixturesDir());
  LDM_ASSERT_OK_AND_ASSIGN(auto variants, testing::ModelVariants());
  for (const auto& v : variants) {
    LDM_ASSERT_OK_AND_ASSIGN(auto folder, DiffusersFolder::Open(root / "models" / v));
    EXPECT_EQ(folder.pipeline_class(), "StableDiffusionPipeline") << v;
    for (const char* c : {"unet", "vae", "text_encoder", "tokenizer", "scheduler"}) {
      EXPECT_TRUE(folder.HasComponent(c)) << v << " " << c;
    }
    EXPECT_FALSE(folder.HasComponent("safety_checker"));
    LDM_ASSERT_OK_AND_ASSIGN(auto sched, folder.ComponentConfig("scheduler"));
    EXPECT_TRUE(sched.Has("beta_schedule"));
    LDM_ASSERT_OK_AND_ASSIGN(auto weights, folder.WeightsFile("unet"));
    EXPECT_EQ(weights.filename(), "diffusion_pytorch_model.safetensors");
    LDM_ASSERT_OK_AND_ASSIGN(auto te, folder.WeightsFile("text_encoder"));
    EXPECT_EQ(te.filename(), "model.safetensors");
  }
}

TEST(DiffusersFolderTest, MissingFolderAndIndexAreNotFound) {
  EXPECT_EQ(DiffusersFolder::Open("/nonexistent/model").status().code(),
            absl::StatusCode::kNotFound);
  auto dir = testing::TempDir("folder-empty");
  EXPECT_EQ(DiffusersFolder::Open(dir).status().code(), absl::StatusCode::kNotFound);
}

TEST(DiffusersFolderTest, PickleOnlyWeightsAreRefusedWithAReason) {
  auto dir = testing::TempDir("folder-pickle");
  std::filesystem::create_directories(dir / "unet");
  std::ofstream(dir / "model_index.json") << R"({"_class_name": "X", "unet": ["diffusers", "U"]})";
  std::ofstream(dir / "unet" / "diffusion_pytorch_model.bin") << "x";
  LDM_ASSERT_OK_AND_ASSIGN(auto folder, DiffusersFolder::Open(dir));
  auto r = folder.WeightsFile("unet");
  EXPECT_EQ(r.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_NE(r.status().message().find("safetensors"), std::string::npos);
}

}  // namespace
}  // namespace ldm
