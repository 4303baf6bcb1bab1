#include "tools/shapes/clip_bpe_trainer.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>

#include "nlohmann/json.hpp"
#include "tools/shapes/shapes_dataset.h"

namespace ldm::shapes {
namespace {

std::string ReadFile(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

TEST(ClipBpeTrainerTest, PreTokenizesLikeClip) {
  EXPECT_EQ(ClipBpeTrainer::PreTokenize("  A Red-circle,  it's 42!!  "),
            (std::vector<std::string>{"a", "red", "-", "circle", ",", "it", "'s", "4", "2", "!!"}));
  EXPECT_EQ(ClipBpeTrainer::PreTokenize("<|startoftext|>hi"),
            (std::vector<std::string>{"<|startoftext|>", "hi"}));
}

TEST(ClipBpeTrainerTest, ByteSymbolsMatchClipTable) {
  const auto& order = ClipBpeTrainer::ByteSymbolsInVocabOrder();
  ASSERT_EQ(order.size(), 256u);
  EXPECT_EQ(order[0], "!");
  EXPECT_EQ(order[93], "~");
  EXPECT_EQ(order[94], "\xC2\xA1");                            // U+00A1
  EXPECT_EQ(order[188], "\xC4\x80");                           // byte 0 -> U+0100
  EXPECT_EQ(ClipBpeTrainer::ByteToSymbol()[' '], "\xC4\xA0");  // U+0120 "Ġ"
  EXPECT_EQ(order[255], "\xC5\x83");  // U+0143 "Ń", last as in CLIP's vocab
  EXPECT_EQ(std::set<std::string>(order.begin(), order.end()).size(), 256u);
}

TEST(ClipBpeTrainerTest, MergesAreDeterministicWithLexicographicTies) {
  ClipBpeTrainer trainer({.num_merges = 10});
  // "ab" and "cd" occur equally often: ("a","b</w>") sorts before ("c","d</w>").
  trainer.AddText("ab cd ab cd");
  trainer.Train();
  ASSERT_EQ(trainer.merges().size(), 2u);
  EXPECT_EQ(trainer.merges()[0], (std::pair<std::string, std::string>{"a", "b</w>"}));
  EXPECT_EQ(trainer.merges()[1], (std::pair<std::string, std::string>{"c", "d</w>"}));
  EXPECT_EQ(trainer.EncodeWord("ab"), std::vector<std::string>{"ab</w>"});
  EXPECT_EQ(trainer.EncodeWord("ba"), (std::vector<std::string>{"b", "a</w>"}));
}

TEST(ClipBpeTrainerTest, WritesALoadableTokenizerFolderForTheCaptions) {
  const std::vector<std::string> corpus = ShapesDataset({.seed = 0}).CaptionCorpus(3000);
  ClipBpeTrainer trainer({.num_merges = 1000, .min_pair_frequency = 1, .model_max_length = 32});
  trainer.AddTexts(corpus);
  trainer.Train();
  ClipBpeTrainer again({.num_merges = 1000, .min_pair_frequency = 1, .model_max_length = 32});
  again.AddTexts(corpus);
  again.Train();
  EXPECT_EQ(trainer.merges(), again.merges());
  EXPECT_GT(trainer.merges().size(), 50u);

  const std::filesystem::path dir =
      std::filesystem::path(testing::TempDir()) / "ldm_shapes_tokenizer_test";
  std::filesystem::remove_all(dir);
  ASSERT_TRUE(trainer.WriteTokenizerDir(dir.string()).ok());

  // vocab.json: ids 0..N-1 in file order; byte symbols, their </w> forms, merges, specials last.
  const std::string vocab_text = ReadFile(dir / "vocab.json");
  const nlohmann::json vocab = nlohmann::json::parse(vocab_text);
  const size_t n = 512 + trainer.merges().size() + 2;
  ASSERT_EQ(vocab.size(), n);
  const std::vector<std::string> expected = trainer.Vocabulary();
  std::set<int> ids;
  for (size_t id = 0; id < n; ++id) {
    ASSERT_TRUE(vocab.contains(expected[id])) << expected[id];
    EXPECT_EQ(vocab[expected[id]].get<int>(), static_cast<int>(id));
    ids.insert(vocab[expected[id]].get<int>());
  }
  EXPECT_EQ(ids.size(), n);
  EXPECT_EQ(vocab["!"], 0);
  EXPECT_EQ(vocab["!</w>"], 256);
  EXPECT_EQ(vocab["<|startoftext|>"], static_cast<int>(n - 2));
  EXPECT_EQ(vocab["<|endoftext|>"], static_cast<int>(n - 1));
  // File order equals id order (a CLIP loader may rely on either).
  EXPECT_LT(vocab_text.find("\"!\":0"), vocab_text.find("\"a\":"));
  EXPECT_EQ(vocab_text.back(), '\n');

  // merges.txt: header then "left right" per merge, each merge's tokens already in the vocab and
  // its result at id 512 + rank.
  std::istringstream merges(ReadFile(dir / "merges.txt"));
  std::string line;
  std::getline(merges, line);
  EXPECT_EQ(line, "#version: 0.2");
  size_t rank = 0;
  while (std::getline(merges, line)) {
    const size_t space = line.find(' ');
    ASSERT_NE(space, std::string::npos) << line;
    const std::string left = line.substr(0, space), right = line.substr(space + 1);
    ASSERT_LT(rank, trainer.merges().size());
    EXPECT_LT(vocab[left].get<int>(), static_cast<int>(512 + rank)) << line;
    EXPECT_LT(vocab[right].get<int>(), static_cast<int>(512 + rank)) << line;
    EXPECT_EQ(vocab[left + right].get<int>(), static_cast<int>(512 + rank)) << line;
    ++rank;
  }
  EXPECT_EQ(rank, trainer.merges().size());

  const nlohmann::json config = nlohmann::json::parse(ReadFile(dir / "tokenizer_config.json"));
  EXPECT_EQ(config["model_max_length"], 32);
  EXPECT_EQ(config["do_lower_case"], true);
  EXPECT_EQ(config["tokenizer_class"], "CLIPTokenizer");
  EXPECT_EQ(config["bos_token"]["content"], "<|startoftext|>");
  EXPECT_EQ(config["eos_token"]["content"], "<|endoftext|>");
  EXPECT_EQ(config["unk_token"]["content"], "<|endoftext|>");
  EXPECT_EQ(config["pad_token"], "<|endoftext|>");
  const nlohmann::json special = nlohmann::json::parse(ReadFile(dir / "special_tokens_map.json"));
  EXPECT_EQ(special["bos_token"]["content"], "<|startoftext|>");
  EXPECT_EQ(special["pad_token"], "<|endoftext|>");

  // Every word of every caption (including ones not in the training corpus) encodes to known
  // tokens; the caption vocabulary is small enough that each word becomes one token, and a
  // caption fits model_max_length with BOS/EOS.
  const std::vector<std::string> unseen = ShapesDataset({.seed = 99}).CaptionCorpus(500);
  for (const std::string& caption : unseen) {
    size_t tokens = 2;
    for (const std::string& word : ClipBpeTrainer::PreTokenize(caption)) {
      const std::vector<std::string> pieces = trainer.EncodeWord(word);
      EXPECT_EQ(pieces.size(), 1u) << word;
      for (const std::string& piece : pieces) EXPECT_TRUE(vocab.contains(piece)) << piece;
      tokens += pieces.size();
    }
    EXPECT_LE(tokens, 32u) << caption;
  }
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace ldm::shapes
