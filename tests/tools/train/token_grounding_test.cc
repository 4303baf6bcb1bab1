// TokenGrounding: token -> object assignment on real captions, object masks, the loss, and the
// diffusion trainer's use of it.
#include "tools/train/token_grounding.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

#include "tests/testing/fixtures.h"
#include "tests/tools/train/tiny_model.h"
#include "tools/shapes/caption_grammar.h"
#include "tools/shapes/clip_bpe_trainer.h"
#include "tools/shapes/shapes_dataset.h"
#include "tools/train/diffusion_trainer.h"
#include "tools/train/stop_signal.h"

namespace ldm::train {
namespace {
namespace fs = std::filesystem;

// A tokenizer with room for the longest captions (no truncation) and few merges, so some words
// span several tokens.
ClipTokenizer LongTokenizer(const fs::path& dir) {
  shapes::ShapesDataset dataset;
  shapes::ClipBpeTrainer trainer(
      {.num_merges = 60, .min_pair_frequency = 1, .model_max_length = 64});
  trainer.AddTexts(dataset.CaptionCorpus(300));
  trainer.Train();
  EXPECT_TRUE(trainer.WriteTokenizerDir(dir.string()).ok());
  auto tok = ClipTokenizer::Load(dir);
  EXPECT_TRUE(tok.ok()) << tok.status();
  return *std::move(tok);
}

torch::Tensor Ids(const ClipTokenizer& tok, const std::vector<std::string>& captions) {
  torch::Tensor ids =
      torch::empty({static_cast<int64_t>(captions.size()), tok.model_max_length()}, torch::kInt64);
  for (size_t i = 0; i < captions.size(); ++i) {
    const auto row = tok.Encode(captions[i]).input_ids;
    std::copy(row.begin(), row.end(), ids[static_cast<int64_t>(i)].data_ptr<int64_t>());
  }
  return ids;
}

// The words of row r whose tokens name object k, rebuilt from the token strings.
std::string GroundedWords(const ClipTokenizer& tok, const torch::Tensor& ids,
                          const TokenGrounding::Assignment& a, int64_t r, int64_t k) {
  std::string out;
  for (int64_t j = 0; j < ids.size(1); ++j) {
    if (a.token_object[r][j].item<int64_t>() != k) continue;
    std::string piece = tok.IdToToken(ids[r][j].item<int64_t>());
    const bool end = piece.size() >= 4 && piece.substr(piece.size() - 4) == "</w>";
    out += end ? piece.substr(0, piece.size() - 4) + " " : piece;
  }
  return out;
}

TEST(TokenGroundingTest, ObjectWordsOfEachPartNameThatObject) {
  const fs::path dir = ldm::testing::TempDir("grounding_assign");
  ClipTokenizer tok = LongTokenizer(dir / "tok");
  TokenGrounding g(tok);
  const std::vector<std::string> captions = {
      "a red circle on the left",
      "a large blue square against a white background at the top right",
      "a gray background with one green circle and a small purple triangle at the bottom",
      "a cyan triangle on the left and a red square on the right",
  };
  torch::Tensor ids = Ids(tok, captions);
  TokenGrounding::Assignment a = g.Assign(ids);
  EXPECT_EQ(GroundedWords(tok, ids, a, 0, 0), "red circle left ");
  EXPECT_EQ(GroundedWords(tok, ids, a, 0, 1), "");
  EXPECT_EQ(GroundedWords(tok, ids, a, 1, 0), "large blue square top right ");
  EXPECT_EQ(GroundedWords(tok, ids, a, 2, 0), "green circle ");
  EXPECT_EQ(GroundedWords(tok, ids, a, 2, 1), "small purple triangle bottom ");
  EXPECT_EQ(GroundedWords(tok, ids, a, 3, 0), "cyan triangle left ");
  EXPECT_EQ(GroundedWords(tok, ids, a, 3, 1), "red square right ");
  using shapes::Color;
  using shapes::ColorLabel;
  EXPECT_EQ(a.object_label[0][0].item<int64_t>(), ColorLabel(Color::kRed));
  EXPECT_EQ(a.object_label[0][1].item<int64_t>(), 0);
  EXPECT_EQ(a.object_label[2][1].item<int64_t>(), ColorLabel(Color::kPurple));
  EXPECT_EQ(a.object_label[3][1].item<int64_t>(), ColorLabel(Color::kRed));
  // bos, eos and padding are never grounded.
  EXPECT_EQ(a.token_object[0][0].item<int64_t>(), -1);
  EXPECT_EQ(a.token_object[0][ids.size(1) - 1].item<int64_t>(), -1);
}

TEST(TokenGroundingTest, LabelsAgreeWithTheGrammarOnTheDatasetCorpus) {
  const fs::path dir = ldm::testing::TempDir("grounding_corpus");
  ClipTokenizer tok = LongTokenizer(dir / "tok");
  TokenGrounding g(tok);
  shapes::ShapesDataset dataset;
  const auto captions = dataset.CaptionCorpus(400);
  TokenGrounding::Assignment a = g.Assign(Ids(tok, captions));
  for (size_t i = 0; i < captions.size(); ++i) {
    auto facts = shapes::CaptionGrammar::Parse(captions[i]);
    ASSERT_TRUE(facts.ok()) << captions[i];
    for (int k = 0; k < TokenGrounding::kMaxObjects; ++k) {
      const int64_t want = k < static_cast<int>(facts->objects.size())
                               ? shapes::ColorLabel(facts->objects[k].color)
                               : 0;
      EXPECT_EQ(a.object_label[static_cast<int64_t>(i)][k].item<int64_t>(), want) << captions[i];
    }
  }
}

TEST(TokenGroundingTest, MasksAreTheCellsAnObjectsLabelTouches) {
  torch::Tensor counts = torch::zeros({1, 7, 4, 4}, torch::kUInt8);
  counts[0][1][0][0] = 3;   // red in cell (0, 0)
  counts[0][1][0][1] = 64;  // and (0, 1)
  counts[0][5][3][3] = 1;   // purple in (3, 3)
  torch::Tensor masks = TokenGrounding::ObjectMasks(counts, torch::tensor({{1, 0}}));
  ASSERT_EQ(masks.sizes(), (std::vector<int64_t>{1, 2, 4, 4}));
  EXPECT_EQ(masks[0][0].sum().item<float>(), 2.0f);
  EXPECT_EQ(masks[0][0][0][1].item<float>(), 1.0f);
  EXPECT_EQ(masks[0][1].sum().item<float>(), 0.0f);  // label 0: no object, no mask
  EXPECT_EQ(TokenGrounding::ObjectMasks(counts, torch::tensor({{5, 1}}))[0][0][3][3].item<float>(),
            1.0f);
}

TEST(TokenGroundingTest, LossIsZeroInsideTheMaskOneOutsideAndIgnoresOtherTokens) {
  // One example, 3 tokens (token 1 names object 0), a 4x4 map whose object is cell 5.
  torch::Tensor tokens = torch::tensor({{-1, 0, -1}});
  torch::Tensor masks = torch::zeros({1, 2, 4, 4});
  masks[0][0][1][1] = 1;
  auto maps_with = [](int64_t cell, double mass) {
    torch::Tensor p = torch::full({1, 2, 16, 3}, 0.5);  // [B, heads, Lq, L]
    p.select(3, 1).fill_(0.0);
    p.select(3, 1).select(2, cell).fill_(mass);
    return p;
  };
  EXPECT_NEAR(TokenGrounding::Loss({maps_with(5, 0.9)}, tokens, masks).item<double>(), 0.0, 1e-5);
  EXPECT_NEAR(TokenGrounding::Loss({maps_with(0, 0.9)}, tokens, masks).item<double>(), 1.0, 1e-5);
  // Spread evenly: the inside share is 1/16.
  torch::Tensor even = torch::full({1, 2, 16, 3}, 1.0 / 3);
  EXPECT_NEAR(TokenGrounding::Loss({even}, tokens, masks).item<double>(),
              std::pow(1.0 - 1.0 / 16, 2), 1e-5);
  // Coarser layers see the max-pooled mask: cell 5 of 4x4 is cell 0 of 2x2.
  torch::Tensor coarse = torch::zeros({1, 1, 4, 3});
  coarse.select(3, 1).select(2, 0).fill_(1.0);
  EXPECT_NEAR(TokenGrounding::Loss({coarse}, tokens, masks).item<double>(), 0.0, 1e-5);
  // No grounded token: zero.
  EXPECT_EQ(TokenGrounding::Loss({even}, torch::full({1, 3}, -1), masks).item<double>(), 0.0);
  // Gradients reach the attention maps.
  torch::Tensor p = even.clone().requires_grad_();
  TokenGrounding::Loss({p}, tokens, masks).backward();
  EXPECT_GT(p.grad().abs().sum().item<double>(), 0.0);
  EXPECT_THROW(TokenGrounding::Loss({torch::zeros({1, 2, 9, 3})}, tokens, masks), c10::Error);
}

TEST(DiffusionTrainerGroundingTest, GroundingTrainsOnCrossAttentionOfKeptCaptionsOnly) {
  StopSignal::Set(false);
  const fs::path dir = ldm::testing::TempDir("diffusion_grounding");
  const testing::GroundedCache grounded = testing::GroundedFakeCache();
  const LatentCache& cache = grounded.cache;
  const TokenGrounding::Assignment& a = grounded.assignment;
  DiffusionTrainerOptions o = testing::TinyDiffusion(3);
  o.grounding_weight = 0.5;
  DiffusionTrainer missing(o, &cache, testing::EmptyIds(), dir / "missing");
  EXPECT_EQ(missing.Train(false).status().code(), absl::StatusCode::kFailedPrecondition);

  DiffusionTrainer t(o, &cache, testing::EmptyIds(), dir / "a");
  EXPECT_FALSE(t.SetGrounding({a.token_object.narrow(0, 0, 3), a.object_label}).ok());
  ASSERT_TRUE(t.SetGrounding(a).ok());
  int kept = 0, dropped = 0;
  for (int64_t step = 0; step < 12; ++step) {
    DiffusionBatch b = t.MakeBatch(step);
    ASSERT_TRUE(b.grounding_tokens.defined());
    ASSERT_EQ(b.object_masks.sizes(), (std::vector<int64_t>{3, 2, 8, 8}));
    for (int64_t i = 0; i < 3; ++i) {
      // A dropped caption (the empty prompt's ids) grounds nothing.
      const bool empty = torch::equal(b.token_ids[i], torch::tensor(testing::EmptyIds()));
      EXPECT_EQ(b.grounding_tokens[i].ge(0).any().item<bool>(), !empty);
      ++(empty ? dropped : kept);
    }
  }
  EXPECT_GT(kept, 0);
  EXPECT_GT(dropped, 0);
  // Captions always kept, so every step has grounded tokens.
  DiffusionTrainerOptions always = o;
  always.dropout = {.drop_all_probability = 0.0, .keep_probability = 1.0};
  DiffusionTrainer k(always, &cache, testing::EmptyIds(), dir / "kept");
  ASSERT_TRUE(k.SetGrounding(a).ok());
  ASSERT_TRUE(*k.Train(false));
  EXPECT_GT(k.last_grounding_loss(), 0.0);
  EXPECT_LE(k.last_grounding_loss(), 1.0);
  // No parameters of its own: a plain run's checkpoint resumes with grounding on.
  DiffusionTrainerOptions plain = testing::TinyDiffusion(3);
  DiffusionTrainer first(plain, &cache, testing::EmptyIds(), dir / "b");
  EXPECT_FALSE(*first.Train(false, 2));
  DiffusionTrainer resumed(o, &cache, testing::EmptyIds(), dir / "b");
  ASSERT_TRUE(resumed.SetGrounding(a).ok());
  EXPECT_TRUE(*resumed.Train(true));
}

TEST(DiffusionTrainerGroundingTest, TextEncoderPassTrainsWithTheGroundingLossOfEveryCaption) {
  StopSignal::Set(false);
  const fs::path dir = ldm::testing::TempDir("text_pass_grounding");
  const testing::GroundedCache grounded = testing::GroundedFakeCache();
  DiffusionTrainerOptions o = testing::TinyDiffusion(3);
  o.tuned = DiffusionTrainerOptions::TunedPart::kTextEncoder;
  o.weight_decay = 0.0;
  o.ema_decay = 0.0;
  o.grounding_weight = 0.5;
  DiffusionTrainer t(o, &grounded.cache, testing::EmptyIds(), dir / "a");
  ASSERT_TRUE(t.SetGrounding(grounded.assignment).ok());
  // Every example keeps its caption, so every one has grounded tokens.
  DiffusionBatch b = t.MakeBatch(0);
  ASSERT_TRUE(b.grounding_tokens.defined());
  EXPECT_TRUE(b.grounding_tokens.ge(0).any(1).all().item<bool>());
  ASSERT_TRUE(*t.Train(false));
  EXPECT_GT(t.last_grounding_loss(), 0.0);
  // The class pass trains no attention: grounding is refused there.
  o.tuned = DiffusionTrainerOptions::TunedPart::kClassEmbeddings;
  EXPECT_THROW(DiffusionTrainer(o, &grounded.cache, testing::EmptyIds(), dir / "class"),
               c10::Error);
}

TEST(DiffusionTrainerGroundingTest, GroundingLossStartsAtItsStartStep) {
  StopSignal::Set(false);
  const fs::path dir = ldm::testing::TempDir("diffusion_grounding_start");
  const testing::GroundedCache grounded = testing::GroundedFakeCache();
  const LatentCache& cache = grounded.cache;
  const TokenGrounding::Assignment& a = grounded.assignment;
  DiffusionTrainerOptions o = testing::TinyDiffusion(4);
  o.grounding_weight = 0.5;
  o.grounding_start_step = 2;
  o.dropout = {.drop_all_probability = 0.0, .keep_probability = 1.0};
  DiffusionTrainer t(o, &cache, testing::EmptyIds(), dir);
  ASSERT_TRUE(t.SetGrounding(a).ok());
  // Batches before the start carry no grounding (nothing is computed for them).
  EXPECT_FALSE(t.GroundingAt(1));
  EXPECT_FALSE(t.MakeBatch(1).object_masks.defined());
  EXPECT_TRUE(t.GroundingAt(2));
  EXPECT_TRUE(t.MakeBatch(2).object_masks.defined());
  EXPECT_FALSE(*t.Train(false, 2));  // steps 0 and 1: before the start
  EXPECT_EQ(t.last_grounding_loss(), 0.0);
  DiffusionTrainer resumed(o, &cache, testing::EmptyIds(), dir);
  ASSERT_TRUE(resumed.SetGrounding(a).ok());
  EXPECT_FALSE(*resumed.Train(true, 1));  // step 2
  EXPECT_GT(resumed.last_grounding_loss(), 0.0);
  DiffusionTrainerOptions bad = o;
  bad.grounding_start_step = -1;
  EXPECT_THROW(DiffusionTrainer(bad, &cache, testing::EmptyIds(), dir / "bad"), c10::Error);
}

}  // namespace
}  // namespace ldm::train
