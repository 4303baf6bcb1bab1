// Unit tests of ClipTokenizer on small synthetic tokenizer folders: loading errors, BPE and
// added-token behaviour, and concurrent use.
#include "core/text/clip_tokenizer.h"

#include <gtest/gtest.h>

#include <atomic>
#include <fstream>
#include <thread>

#include "nlohmann/json.hpp"
#include "tests/testing/fixtures.h"
#include "tests/testing/tensor_matchers.h"

namespace ldm {
namespace clip_tokenizer_test {

// The 256 byte-level symbols in bytes_to_unicode() order, as UTF-8.
std::vector<std::string> ByteSymbols() {
  std::vector<int> bs;
  for (int b = '!'; b <= '~'; ++b) bs.push_back(b);
  for (int b = 0xA1; b <= 0xAC; ++b) bs.push_back(b);
  for (int b = 0xAE; b <= 0xFF; ++b) bs.push_back(b);
  std::vector<int> cs = bs;
  int n = 0;
  for (int b = 0; b < 256; ++b) {
    if (std::find(bs.begin(), bs.end(), b) == bs.end()) {
      bs.push_back(b);
      cs.push_back(256 + n++);
    }
  }
  std::vector<std::string> out;
  for (int c : cs) {
    std::string s;
    if (c < 0x80) {
      s += static_cast<char>(c);
    } else {
      s += static_cast<char>(0xC0 | (c >> 6));
      s += static_cast<char>(0x80 | (c & 0x3F));
    }
    out.push_back(s);
  }
  return out;
}

void WriteFile(const std::filesystem::path& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary);
  out << text;
}

// A CLIP-shaped tokenizer: the 512 byte symbols, the merges below, then the two specials.
struct SyntheticTokenizer {
  std::filesystem::path dir;
  nlohmann::json vocab = nlohmann::json::object();
  std::vector<std::pair<std::string, std::string>> merges = {
      {"l", "o"}, {"lo", "w</w>"}, {"h", "e"}, {"he", "l"}};
  nlohmann::json config = {
      {"model_max_length", 8},
      {"bos_token", {{"__type", "AddedToken"}, {"content", "<|startoftext|>"}}},
      {"eos_token", "<|endoftext|>"},
      {"unk_token", "<|endoftext|>"},
      {"pad_token", "<|endoftext|>"}};

  explicit SyntheticTokenizer(const std::string& name) : dir(testing::TempDir(name)) {
    int64_t id = 0;
    for (const auto& s : ByteSymbols()) vocab[s] = id++;
    for (const auto& s : ByteSymbols()) vocab[s + "</w>"] = id++;
    for (const auto& [a, b] : merges) vocab[a + b] = id++;
    vocab["<|startoftext|>"] = id++;
    vocab["<|endoftext|>"] = id++;
  }
  int64_t Id(const std::string& token) const { return vocab.at(token).get<int64_t>(); }

  std::filesystem::path Write() const {
    WriteFile(dir / "vocab.json", vocab.dump());
    std::string m = "#version: 0.2\n";
    for (const auto& [a, b] : merges) m += a + " " + b + "\n";
    WriteFile(dir / "merges.txt", m);
    WriteFile(dir / "tokenizer_config.json", config.dump());
    return dir;
  }
};

TEST(ClipTokenizerTest, BytePairEncodingFollowsMergeRanks) {
  SyntheticTokenizer s("tok-bpe");
  LDM_ASSERT_OK_AND_ASSIGN(ClipTokenizer tok, ClipTokenizer::Load(s.Write()));
  EXPECT_EQ(tok.vocab_size(), 512 + 4 + 2);
  // "low" -> l o w</w> -> lo w</w> -> low</w>
  EXPECT_EQ(tok.Tokenize("low"), (std::vector<int64_t>{s.Id("low</w>")}));
  // "hello" -> he l l o</w> -> hel l o</w>; "lo" never forms because "l o</w>" is not a merge.
  EXPECT_EQ(tok.Tokenize("Hello"), (std::vector<int64_t>{s.Id("hel"), s.Id("l"), s.Id("o</w>")}));
  // Punctuation runs are one pre-token; digits are split one by one.
  EXPECT_EQ(tok.Tokenize("!? 12"),
            (std::vector<int64_t>{s.Id("!"), s.Id("?</w>"), s.Id("1</w>"), s.Id("2</w>")}));
  EXPECT_EQ(tok.IdToToken(s.Id("low</w>")), "low</w>");
}

TEST(ClipTokenizerTest, EncodePadsAndTruncates) {
  SyntheticTokenizer s("tok-pad");
  LDM_ASSERT_OK_AND_ASSIGN(ClipTokenizer tok, ClipTokenizer::Load(s.Write()));
  const int64_t bos = s.Id("<|startoftext|>"), eos = s.Id("<|endoftext|>");
  EXPECT_EQ(tok.bos_id(), bos);
  EXPECT_EQ(tok.eos_id(), eos);
  EXPECT_EQ(tok.pad_id(), eos);
  ClipTokenizer::Encoding e = tok.Encode("low");
  EXPECT_EQ(e.input_ids,
            (std::vector<int64_t>{bos, s.Id("low</w>"), eos, eos, eos, eos, eos, eos}));
  EXPECT_EQ(e.attention_mask, (std::vector<int64_t>{1, 1, 1, 0, 0, 0, 0, 0}));
  EXPECT_EQ(e.num_tokens_untruncated, 3);
  EXPECT_FALSE(e.truncated);
  e = tok.Encode("1 2 3 4 5 6 7");  // 7 tokens + bos/eos > 8
  EXPECT_EQ(e.input_ids.size(), 8u);
  EXPECT_EQ(e.input_ids[6], s.Id("6</w>"));
  EXPECT_EQ(e.input_ids[7], eos);
  EXPECT_EQ(e.num_tokens_untruncated, 9);
  EXPECT_TRUE(e.truncated);
  e = tok.Encode("1 2 3 4 5 6");  // exactly 8
  EXPECT_FALSE(e.truncated);
  EXPECT_EQ(e.attention_mask, std::vector<int64_t>(8, 1));
}

TEST(ClipTokenizerTest, SpecialPadTokenSplitsTheText) {
  SyntheticTokenizer s("tok-bang");
  s.config["pad_token"] = "!";
  LDM_ASSERT_OK_AND_ASSIGN(ClipTokenizer tok, ClipTokenizer::Load(s.Write()));
  EXPECT_EQ(tok.pad_id(), s.Id("!"));
  // A literal "!" is the special token (id of "!", not "!</w>"), and splits "low!low".
  EXPECT_EQ(tok.Tokenize("low!low"),
            (std::vector<int64_t>{s.Id("low</w>"), s.Id("!"), s.Id("low</w>")}));
  EXPECT_EQ(tok.Tokenize("<|endoftext|>x"),
            (std::vector<int64_t>{s.Id("<|endoftext|>"), s.Id("x</w>")}));
}

TEST(ClipTokenizerTest, SpecialTokensMapOverridesAndNewTokensGetFreshIds) {
  SyntheticTokenizer s("tok-map");
  const auto dir = s.Write();
  WriteFile(dir / "special_tokens_map.json",
            R"({"pad_token": {"content": "<pad>", "lstrip": true, "rstrip": true}})");
  LDM_ASSERT_OK_AND_ASSIGN(ClipTokenizer tok, ClipTokenizer::Load(dir));
  EXPECT_EQ(tok.pad_id(), 518);
  EXPECT_EQ(tok.vocab_size(), 519);
  EXPECT_EQ(tok.IdToToken(518), "<pad>");
  // rstrip/lstrip remove the whitespace around the token; text is otherwise unaffected.
  EXPECT_EQ(tok.Tokenize("x  <pad>  x"), (std::vector<int64_t>{s.Id("x</w>"), 518, s.Id("x</w>")}));
}

TEST(ClipTokenizerTest, NormalizesLikeBasicTokenizer) {
  SyntheticTokenizer s("tok-norm");
  LDM_ASSERT_OK_AND_ASSIGN(ClipTokenizer tok, ClipTokenizer::Load(s.Write()));
  // Zero-width space (Cf) and soft hyphen are dropped; NBSP and tabs separate words.
  EXPECT_EQ(tok.Tokenize("lo\xE2\x80\x8Bw"), tok.Tokenize("low"));
  EXPECT_EQ(tok.Tokenize("LOW\xC2\xA0\tlow"), tok.Tokenize("low low"));
  // Decomposed e + U+0301 composes (NFC) to U+00E9, then is BPE'd as its two UTF-8 bytes.
  EXPECT_EQ(tok.Tokenize("e\xCC\x81"), tok.Tokenize("\xC3\xA9"));
  // CJK ideographs become separate words; kana do not.
  EXPECT_EQ(tok.Tokenize("\xE4\xB8\x80\xE4\xB8\x80"), tok.Tokenize("\xE4\xB8\x80 \xE4\xB8\x80"));
  EXPECT_NE(tok.Tokenize("\xE3\x81\x82\xE3\x81\x82"), tok.Tokenize("\xE3\x81\x82 \xE3\x81\x82"));
  // Invalid UTF-8 is dropped like U+FFFD.
  EXPECT_EQ(tok.Tokenize("lo\xFFw"), tok.Tokenize("low"));
  EXPECT_TRUE(tok.Tokenize(" \t\r\n").empty());
}

TEST(ClipTokenizerTest, MissingFilesAreNotFoundNamingTheFile) {
  SyntheticTokenizer s("tok-missing");
  const auto dir = s.Write();
  std::filesystem::remove(dir / "merges.txt");
  auto r = ClipTokenizer::Load(dir);
  ASSERT_EQ(r.status().code(), absl::StatusCode::kNotFound) << r.status();
  EXPECT_NE(r.status().message().find("merges.txt"), absl::string_view::npos) << r.status();
  r = ClipTokenizer::Load(dir / "nonexistent");
  ASSERT_EQ(r.status().code(), absl::StatusCode::kNotFound) << r.status();
  EXPECT_NE(r.status().message().find("vocab.json"), absl::string_view::npos) << r.status();
}

void ExpectInvalid(const std::filesystem::path& dir, const std::vector<std::string>& needles) {
  auto r = ClipTokenizer::Load(dir);
  ASSERT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument) << r.status();
  for (const auto& n : needles) {
    EXPECT_NE(r.status().message().find(n), absl::string_view::npos)
        << "'" << n << "' not in: " << r.status();
  }
}

TEST(ClipTokenizerTest, MalformedVocabIsInvalidArgument) {
  SyntheticTokenizer s("tok-badvocab");
  const auto dir = s.Write();
  WriteFile(dir / "vocab.json", "[1, 2]");
  ExpectInvalid(dir, {"vocab.json", "JSON object"});
  WriteFile(dir / "vocab.json", R"({"a": 0, "b": "one"})");
  ExpectInvalid(dir, {"vocab.json", "'b'", "integer"});
  WriteFile(dir / "vocab.json", R"({"a": 0,)");
  ExpectInvalid(dir, {"vocab.json"});
}

TEST(ClipTokenizerTest, MalformedMergesIsInvalidArgumentWithLine) {
  SyntheticTokenizer s("tok-badmerges");
  const auto dir = s.Write();
  WriteFile(dir / "merges.txt", "#version: 0.2\nl o\nlo w</w> extra\n");
  ExpectInvalid(dir, {"merges.txt:3", "two"});
  WriteFile(dir / "merges.txt", "l o\n");
  ExpectInvalid(dir, {"merges.txt", "header"});
}

TEST(ClipTokenizerTest, MalformedConfigIsInvalidArgumentNamingTheField) {
  SyntheticTokenizer s("tok-badconfig");
  s.config.erase("model_max_length");
  ExpectInvalid(s.Write(), {"tokenizer_config.json", "model_max_length"});
  s.config["model_max_length"] = "77";
  ExpectInvalid(s.Write(), {"tokenizer_config.json", "model_max_length"});
  s.config["model_max_length"] = 77;
  s.config["pad_token"] = 5;
  ExpectInvalid(s.Write(), {"tokenizer_config.json", "pad_token"});
  s.config["pad_token"] = {{"lstrip", false}};
  ExpectInvalid(s.Write(), {"tokenizer_config.json", "pad_token.content"});
  s.config["pad_token"] = "<|endoftext|>";
  const auto dir = s.Write();
  WriteFile(dir / "special_tokens_map.json", R"({"eos_token": ["x"]})");
  ExpectInvalid(dir, {"special_tokens_map.json", "eos_token"});
  WriteFile(dir / "special_tokens_map.json", "not json");
  ExpectInvalid(dir, {"special_tokens_map.json"});
}

TEST(ClipTokenizerTest, EncodeIsSafeFromManyThreads) {
  SyntheticTokenizer s("tok-threads");
  s.config["model_max_length"] = 77;
  LDM_ASSERT_OK_AND_ASSIGN(ClipTokenizer tok, ClipTokenizer::Load(s.Write()));
  std::vector<std::string> prompts;
  for (int i = 0; i < 200; ++i) {
    prompts.push_back(absl::StrCat("hello low ", i, " w\xC3\xB6rd", i % 7, " caf\xC3\xA9 ", i * 31,
                                   " \xE6\x97\xA5\xE6\x9C\xAC ", std::string(i % 5, 'l')));
  }
  // Expected results from a fresh tokenizer (its own cache), computed single-threaded.
  LDM_ASSERT_OK_AND_ASSIGN(ClipTokenizer reference, ClipTokenizer::Load(s.dir));
  std::vector<std::vector<int64_t>> expected;
  for (const auto& p : prompts) expected.push_back(reference.Encode(p).input_ids);

  std::atomic<int> mismatches{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&, t] {
      const ClipTokenizer copy = tok;  // copies share the cache
      for (int round = 0; round < 5; ++round) {
        for (size_t i = 0; i < prompts.size(); ++i) {
          const size_t k = (i * 7 + t * 13 + round) % prompts.size();
          const std::vector<int64_t> ids = (t % 2 ? copy : tok).Encode(prompts[k]).input_ids;
          if (ids != expected[k]) ++mismatches;
        }
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(mismatches.load(), 0);
}

}  // namespace
}  // namespace ldm
