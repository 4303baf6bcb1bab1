// TextEncoderPretrainer: caption facts -> targets, learning and resume on real parsed captions,
// bad input, and its place in ldm-train (the text-pretrain stage feeding the diffusion stage).
#include "tools/train/text_encoder_pretrainer.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

#include <fstream>

#include "core/io/safetensors_file.h"
#include "core/io/state_dict_loader.h"
#include "core/text/clip_tokenizer.h"
#include "nlohmann/json.hpp"
#include "tests/testing/fixtures.h"
#include "tests/tools/train/tiny_model.h"
#include "tools/shapes/caption_grammar.h"
#include "tools/shapes/shapes_dataset.h"
#include "tools/train/diffusion_trainer.h"
#include "tools/train/stop_signal.h"
#include "tools/train/toy_model_configs.h"
#include "tools/train/training_run.h"

namespace ldm::train {
namespace text_encoder_pretrainer_test {
namespace fs = std::filesystem;
using P = TextEncoderPretrainer;

TEST(TextEncoderPretrainerTest, TargetsStateWhatTheCaptionSaysAndIgnoreTheRest) {
  auto facts = shapes::CaptionGrammar::Parse(
      "a small red circle at the top left and a blue square on a black background");
  ASSERT_TRUE(facts.ok()) << facts.status();
  const auto t = P::Targets(*facts);
  const std::array<int64_t, P::kNumHeads> want = {1, 2, 0, 0, 0, 0, 1, 2, -1, -1};
  EXPECT_EQ(t, want);
  auto one = shapes::CaptionGrammar::Parse("a large cyan triangle in the center");
  ASSERT_TRUE(one.ok());
  const std::array<int64_t, P::kNumHeads> want_one = {0, -1, 2, 5, 1, 4, -1, -1, -1, -1};
  EXPECT_EQ(P::Targets(*one), want_one);
}

struct Corpus {
  torch::Tensor ids, targets;
  ClipTextConfig text;
};

// Real dataset captions, tokenized with a tiny learned tokenizer.
Corpus MakeCorpus(const fs::path& dir, int64_t n) {
  EXPECT_TRUE(testing::WriteTinyTokenizer(dir / "tok").ok());
  auto tok = ClipTokenizer::Load(dir / "tok");
  EXPECT_TRUE(tok.ok()) << tok.status();
  shapes::ShapesDataset dataset;
  const auto captions = dataset.CaptionCorpus(static_cast<size_t>(n));
  Corpus c;
  c.ids = torch::empty({n, tok->model_max_length()}, torch::kInt64);
  c.targets = torch::empty({n, P::kNumHeads}, torch::kInt64);
  for (int64_t i = 0; i < n; ++i) {
    auto facts = shapes::CaptionGrammar::Parse(captions[i]);
    EXPECT_TRUE(facts.ok()) << captions[i];
    const auto row = tok->Encode(captions[i]).input_ids;
    std::copy(row.begin(), row.end(), c.ids[i].data_ptr<int64_t>());
    const auto t = P::Targets(*facts);
    std::copy(t.begin(), t.end(), c.targets[i].data_ptr<int64_t>());
  }
  c.text = ToyModelConfigs::Tiny().text;
  c.text.vocab_size = tok->vocab_size();
  c.text.eos_token_id = tok->eos_id();
  c.text.max_position_embeddings = tok->model_max_length();
  return c;
}

TextEncoderPretrainerOptions Options(const Corpus& c, int64_t steps) {
  TextEncoderPretrainerOptions o;
  o.text = c.text;
  o.text.hidden_size = 32;
  o.text.intermediate_size = 64;
  o.steps = steps;
  o.batch_size = 32;
  o.lr = {.peak_lr = 3e-3, .warmup_steps = 5, .total_steps = steps, .final_fraction = 0.1};
  o.holdout = 64;
  o.log_every = 1000;
  return o;
}

TEST(TextEncoderPretrainerTest, LearnsTheFactsAndResumesExactly) {
  StopSignal::Set(false);
  const fs::path dir = ldm::testing::TempDir("text_pretrain_learn");
  Corpus c = MakeCorpus(dir, 512);
  auto a = P::Create(Options(c, 120), c.ids, c.targets, dir / "a");
  ASSERT_TRUE(a.ok()) << a.status();
  torch::Tensor first = torch::arange(0, 64, torch::kInt64);
  const double before = (*a)->Loss(first).item<double>();
  ASSERT_TRUE(*(*a)->Train(false));
  EXPECT_LT((*a)->Loss(first).item<double>(), 0.5 * before);
  auto acc = (*a)->Evaluate();
  ASSERT_TRUE(acc.ok()) << acc.status();
  // Colors are stated in every caption: far above the 1/6 of chance on held-out captions.
  EXPECT_GT((*acc)[3], 0.5);
  EXPECT_GT((*acc)[0], 0.8);  // one or two objects
  ASSERT_TRUE((*a)->WriteFinal().ok());
  std::ifstream in(dir / "a" / "final" / "metrics.json");
  nlohmann::json m = nlohmann::json::parse(in);
  EXPECT_EQ(m["steps"], 120);
  EXPECT_NEAR(m["holdout_accuracy"]["color0"].get<double>(), (*acc)[3], 1e-12);

  // 2 steps + resume to 4 == 4 steps.
  auto full = P::Create(Options(c, 4), c.ids, c.targets, dir / "full");
  ASSERT_TRUE(*(*full)->Train(false));
  auto part = P::Create(Options(c, 4), c.ids, c.targets, dir / "part");
  EXPECT_FALSE(*(*part)->Train(false, 2));
  auto resumed = P::Create(Options(c, 4), c.ids, c.targets, dir / "part");
  ASSERT_TRUE(*(*resumed)->Train(true));
  EXPECT_EQ((*resumed)->last_loss(), (*full)->last_loss());
}

TEST(TextEncoderPretrainerTest, RejectsBadTargetsAndTooFewCaptions) {
  const fs::path dir = ldm::testing::TempDir("text_pretrain_bad");
  Corpus c = MakeCorpus(dir, 100);
  torch::Tensor bad = c.targets.clone();
  bad[5][5] = 9;  // position0 has 9 classes: 0..8
  auto s = P::Create(Options(c, 2), c.ids, bad, dir / "x");
  ASSERT_EQ(s.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(s.status().message().find("position0"), std::string::npos) << s.status();
  TextEncoderPretrainerOptions o = Options(c, 2);
  o.holdout = 100;
  EXPECT_EQ(P::Create(o, c.ids, c.targets, dir / "y").status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(P::Create(o, c.ids, c.targets.narrow(1, 0, 4), dir / "z").status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST(TextEncoderPretrainerTest, TheDiffusionStageStartsFromThePretrainedTextEncoder) {
  StopSignal::Set(false);
  const fs::path dir = ldm::testing::TempDir("text_pretrain_run");
  TrainingRunOptions o = testing::TinyRunOptions(dir);
  o.text_pretrain_steps = 3;
  o.text_pretrain_batch = 8;
  o.text_pretrain_corpus = 200;
  // Without the pretrained weights the diffusion stage refuses to start.
  ASSERT_TRUE(TrainingRun(o).Run("tokenizer").ok());
  ASSERT_TRUE(TrainingRun(o).Run("autoencoder").ok());
  absl::Status s = TrainingRun(o).Run("diffusion");
  EXPECT_EQ(s.code(), absl::StatusCode::kFailedPrecondition) << s;
  EXPECT_NE(s.message().find("text-pretrain"), std::string::npos) << s;
  s = TrainingRun(o).Run("all");
  ASSERT_TRUE(s.ok()) << s;
  EXPECT_TRUE(fs::exists(dir / "work" / "text-pretrain" / "final" / "metrics.json"));

  // InitTextEncoder loads exactly those weights.
  auto file =
      SafeTensorsFile::Open(dir / "work" / "text-pretrain" / "final" / "text_encoder.safetensors");
  ASSERT_TRUE(file.ok()) << file.status();
  auto tok = ClipTokenizer::Load(dir / "work" / "tokenizer");
  ASSERT_TRUE(tok.ok());
  DiffusionTrainerOptions d;
  d.unet = o.configs.unet;
  d.text = o.configs.text;
  d.text.vocab_size = tok->vocab_size();
  d.text.eos_token_id = tok->eos_id();
  d.text.max_position_embeddings = tok->model_max_length();
  d.scheduler = o.configs.scheduler;
  LatentCache cache;
  DiffusionTrainer trainer(d, &cache, tok->Encode("").input_ids, dir / "d");
  ASSERT_TRUE(
      trainer.InitTextEncoder(dir / "work" / "text-pretrain" / "final" / "text_encoder.safetensors")
          .ok());
  for (const auto& [name, t] : StateDictOf(*trainer.model()->text_encoder)) {
    auto stored = (*file)->Get(name);
    ASSERT_TRUE(stored.ok()) << name;
    EXPECT_TRUE(torch::equal(t, stored->to(t.dtype()))) << name;
  }
}

}  // namespace text_encoder_pretrainer_test
}  // namespace ldm::train
