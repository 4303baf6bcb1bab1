#include "tools/bench/random_model_writer.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <fstream>

#include "core/io/json_reader.h"
#include "core/pipeline/pipeline.h"
#include "tests/testing/fixtures.h"

namespace ldm::bench {
namespace random_model_writer_test {

namespace fs = std::filesystem;

absl::Status WriteTiny(const fs::path& out, const std::string& dtype = "fp32", uint64_t seed = 0) {
  MakeModelOptions o;
  o.arch = "tiny";
  o.out = out;
  o.dtype = dtype;
  o.seed = seed;
  return RandomModelWriter::Write(o);
}

TEST(RandomModelWriterTest, TinyFolderLoadsInThePipelineAndGeneratesFiniteImages) {
  const fs::path out = testing::TempDir("rmw-tiny") / "model";
  ASSERT_TRUE(WriteTiny(out).ok());
  for (const char* f : {"model_index.json", "ldm_model.json", "unet/config.json", "vae/config.json",
                        "text_encoder/config.json", "tokenizer/vocab.json", "tokenizer/merges.txt",
                        "scheduler/scheduler_config.json"}) {
    EXPECT_TRUE(fs::exists(out / f)) << f;
  }
  auto pipeline = Pipeline::Load(out);
  ASSERT_TRUE(pipeline.ok()) << pipeline.status();
  const ModelInfo& info = (*pipeline)->info();
  EXPECT_TRUE(info.supports_text);
  EXPECT_TRUE(info.supports_class);
  EXPECT_TRUE(info.supports_semantic_map);
  EXPECT_EQ(info.native_width, 64);
  // The shipped model's 32 token positions, with the CLIP vocabulary.
  EXPECT_EQ(info.max_prompt_tokens, 32);
  EXPECT_FALSE(fs::exists(out.string() + ".tmp-tokenizer"));

  GenerateOptions g;
  g.spec.prompt = "a red circle";
  g.spec.steps = 3;
  g.spec.guidance_scale = 5;
  g.spec.seed = 1;
  g.num_images = 2;
  auto images = (*pipeline)->Generate(g);
  ASSERT_TRUE(images.ok()) << images.status();
  ASSERT_EQ(images->size(), 2u);
  // Random weights still give an image with some variation (no NaN collapse to one value).
  const std::vector<uint8_t>& px = (*images)[0].pixels;
  EXPECT_NE(*std::min_element(px.begin(), px.end()), *std::max_element(px.begin(), px.end()));
}

TEST(RandomModelWriterTest, LatentsAndTextEmbeddingsKeepAUnitScale) {
  const fs::path out = testing::TempDir("rmw-scale") / "model";
  ASSERT_TRUE(WriteTiny(out).ok());
  auto pipeline = Pipeline::Load(out);
  ASSERT_TRUE(pipeline.ok()) << pipeline.status();
  auto emb = (*pipeline)->EncodePrompt("a large blue square", 0);
  ASSERT_TRUE(emb.ok()) << emb.status();
  EXPECT_TRUE(torch::isfinite(*emb).all().item<bool>());
  const double std = emb->std().item<double>();
  EXPECT_GT(std, 0.1);
  EXPECT_LT(std, 10.0);
}

TEST(RandomModelWriterTest, SameSeedGivesTheSameWeightsAndFp16HalvesTheUnet) {
  const fs::path dir = testing::TempDir("rmw-seed");
  ASSERT_TRUE(WriteTiny(dir / "a", "fp32", 5).ok());
  ASSERT_TRUE(WriteTiny(dir / "b", "fp32", 5).ok());
  ASSERT_TRUE(WriteTiny(dir / "c", "fp16", 5).ok());
  auto bytes = [](const fs::path& p) {
    std::ifstream in(p, std::ios::binary);
    return std::string(std::istreambuf_iterator<char>(in), {});
  };
  const fs::path unet = "unet/diffusion_pytorch_model.safetensors";
  EXPECT_EQ(bytes(dir / "a" / unet), bytes(dir / "b" / unet));
  const auto size32 = fs::file_size(dir / "a" / unet);
  const auto size16 = fs::file_size(dir / "c" / unet);
  EXPECT_LT(size16, size32 * 6 / 10);
  EXPECT_TRUE(Pipeline::Load(dir / "c").ok());
}

TEST(RandomModelWriterTest, RejectsUnknownArchDtypeAndAMissingTokenizer) {
  MakeModelOptions o;
  o.out = testing::TempDir("rmw-bad") / "model";
  o.arch = "sdxl";
  EXPECT_EQ(RandomModelWriter::Write(o).code(), absl::StatusCode::kInvalidArgument);
  o.arch = "tiny";
  o.dtype = "int8";
  EXPECT_EQ(RandomModelWriter::Write(o).code(), absl::StatusCode::kInvalidArgument);
  o.dtype = "fp32";
  o.tokenizer_dir = testing::TempDir("rmw-no-tokenizer");
  const absl::Status s = RandomModelWriter::Write(o);
  EXPECT_EQ(s.code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(std::string(s.message()), ::testing::HasSubstr("vocab.json"));
}

TEST(RandomModelWriterTest, RefusesToReplaceAFolderThatIsNotAModel) {
  const fs::path out = testing::TempDir("rmw-occupied");
  std::ofstream(out / "notes.txt") << "keep me";
  const absl::Status s = WriteTiny(out);
  EXPECT_EQ(s.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_TRUE(fs::exists(out / "notes.txt"));
}

}  // namespace random_model_writer_test
}  // namespace ldm::bench
