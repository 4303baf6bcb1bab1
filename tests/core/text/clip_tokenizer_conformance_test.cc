// Conformance of ClipTokenizer with transformers' CLIPTokenizer (fallback path), on every case of
// the fixtures: tokenizer/cases.jsonl with tokenizer/, every models/<variant>/tokenizer with
// references/<variant>/tokenizer_cases.jsonl, and the prompts of every text encoder reference.
#include <gtest/gtest.h>

#include <sstream>

#include "core/io/safetensors_file.h"
#include "core/text/clip_tokenizer.h"
#include "tests/testing/fixtures.h"
#include "tests/testing/tensor_matchers.h"

namespace ldm {
namespace clip_tokenizer_conformance_test {

std::string Escaped(const std::string& s) { return nlohmann::json(s).dump(); }

std::string Ids(const std::vector<int64_t>& v, size_t from, size_t count) {
  std::ostringstream os;
  for (size_t i = from; i < v.size() && i < from + count; ++i) os << (i > from ? " " : "") << v[i];
  return os.str();
}

// Empty when equal, else where and how the sequences first differ.
std::string FirstDifference(const std::vector<int64_t>& actual,
                            const std::vector<int64_t>& expected) {
  if (actual == expected) return "";
  size_t i = 0;
  while (i < actual.size() && i < expected.size() && actual[i] == expected[i]) ++i;
  const size_t from = i >= 3 ? i - 3 : 0;
  std::ostringstream os;
  os << "first difference at position " << i << " (sizes " << actual.size() << " vs "
     << expected.size() << "); from position " << from << ": actual [" << Ids(actual, from, 8)
     << "] expected [" << Ids(expected, from, 8) << "]";
  return os.str();
}

// Checks every case of one .jsonl file and adds the number of cases to *checked.
void CheckCases(const ClipTokenizer& tokenizer, const std::filesystem::path& cases_path,
                size_t* checked) {
  LDM_ASSERT_OK_AND_ASSIGN(std::vector<nlohmann::json> cases, testing::ReadJsonLines(cases_path));
  ASSERT_FALSE(cases.empty()) << cases_path;
  for (const nlohmann::json& c : cases) {
    ASSERT_TRUE(c.contains("prompt") && c.contains("input_ids") && c.contains("attention_mask"))
        << cases_path << ": malformed case " << c.dump().substr(0, 200);
    const std::string prompt = c["prompt"].get<std::string>();
    const std::string where = absl::StrCat(cases_path.filename().string(), " case ",
                                           c.value("id", -1), " ", Escaped(prompt));
    const auto expected_ids = c["input_ids"].get<std::vector<int64_t>>();
    const auto expected_mask = c["attention_mask"].get<std::vector<int64_t>>();
    const ClipTokenizer::Encoding enc = tokenizer.Encode(prompt);
    const std::string ids_diff = FirstDifference(enc.input_ids, expected_ids);
    EXPECT_TRUE(ids_diff.empty()) << where << ": input_ids " << ids_diff;
    const std::string mask_diff = FirstDifference(enc.attention_mask, expected_mask);
    EXPECT_TRUE(mask_diff.empty()) << where << ": attention_mask " << mask_diff;
    if (c.contains("num_tokens_untruncated")) {
      EXPECT_EQ(enc.num_tokens_untruncated, c["num_tokens_untruncated"].get<int>()) << where;
    }
    if (c.contains("truncated")) {
      EXPECT_EQ(enc.truncated, c["truncated"].get<bool>()) << where;
    } else {
      EXPECT_EQ(enc.truncated, enc.num_tokens_untruncated > tokenizer.model_max_length()) << where;
    }
    // The untruncated BPE tokens, when the case lists them.
    if (c.contains("tokens")) {
      std::vector<std::string> tokens;
      for (int64_t id : tokenizer.Tokenize(prompt)) tokens.push_back(tokenizer.IdToToken(id));
      EXPECT_EQ(tokens, c["tokens"].get<std::vector<std::string>>()) << where;
    }
    ++*checked;
  }
}

TEST(ClipTokenizerConformanceTest, SharedTokenizerMatchesEveryCase) {
  LDM_ASSERT_OK_AND_ASSIGN(std::filesystem::path root, testing::FixturesDir());
  LDM_ASSERT_OK_AND_ASSIGN(ClipTokenizer tokenizer, ClipTokenizer::Load(root / "tokenizer"));
  EXPECT_EQ(tokenizer.model_max_length(), 77);
  size_t checked = 0;
  CheckCases(tokenizer, root / "tokenizer" / "cases.jsonl", &checked);
  EXPECT_GT(checked, 0u);
}

TEST(ClipTokenizerConformanceTest, KnownAnchor) {
  LDM_ASSERT_OK_AND_ASSIGN(std::filesystem::path root, testing::FixturesDir());
  LDM_ASSERT_OK_AND_ASSIGN(ClipTokenizer tokenizer, ClipTokenizer::Load(root / "tokenizer"));
  EXPECT_EQ(tokenizer.Tokenize("a photo of a cat"),
            (std::vector<int64_t>{320, 1125, 539, 320, 2368}));
  EXPECT_EQ(tokenizer.bos_id(), 49406);
  EXPECT_EQ(tokenizer.eos_id(), 49407);
  EXPECT_EQ(tokenizer.vocab_size(), 49408);
}

TEST(ClipTokenizerConformanceTest, VariantTokenizersMatchTheirCases) {
  LDM_ASSERT_OK_AND_ASSIGN(std::filesystem::path root, testing::FixturesDir());
  size_t variants = 0;
  for (const auto& entry : std::filesystem::directory_iterator(root / "models")) {
    if (!entry.is_directory()) continue;
    const std::string variant = entry.path().filename().string();
    const std::filesystem::path cases = root / "references" / variant / "tokenizer_cases.jsonl";
    if (!std::filesystem::exists(cases)) continue;
    SCOPED_TRACE(variant);
    LDM_ASSERT_OK_AND_ASSIGN(ClipTokenizer tokenizer,
                             ClipTokenizer::Load(entry.path() / "tokenizer"));
    size_t checked = 0;
    CheckCases(tokenizer, cases, &checked);
    EXPECT_GT(checked, 0u);
    ++variants;
  }
  // The README promises at least one variant with its own cases (sd2-tiny pads with "!").
  EXPECT_GT(variants, 0u);
}

// The prompts of each text encoder reference, tokenized by the variant's tokenizer, give the
// reference's input_ids and attention_mask.
TEST(ClipTokenizerConformanceTest, TextEncoderReferencePromptsMatchTheirIds) {
  LDM_ASSERT_OK_AND_ASSIGN(std::filesystem::path root, testing::FixturesDir());
  LDM_ASSERT_OK_AND_ASSIGN(std::vector<std::string> variants, testing::ModelVariants());
  for (const std::string& variant : variants) {
    SCOPED_TRACE(variant);
    const std::filesystem::path ref = root / "references" / variant / "text_encoder.safetensors";
    if (!std::filesystem::exists(ref)) continue;
    LDM_ASSERT_OK_AND_ASSIGN(auto file, SafeTensorsFile::Open(ref));
    auto meta = file->metadata().find("prompts");
    ASSERT_NE(meta, file->metadata().end()) << ref << ": no 'prompts' metadata";
    const auto prompts = nlohmann::json::parse(meta->second).get<std::vector<std::string>>();
    LDM_ASSERT_OK_AND_ASSIGN(ClipTokenizer tokenizer,
                             ClipTokenizer::Load(root / "models" / variant / "tokenizer"));
    LDM_ASSERT_OK_AND_ASSIGN(torch::Tensor ids, file->Get("input_ids"));
    LDM_ASSERT_OK_AND_ASSIGN(torch::Tensor mask, file->Get("attention_mask"));
    ASSERT_EQ(ids.size(0), static_cast<int64_t>(prompts.size()));
    for (size_t i = 0; i < prompts.size(); ++i) {
      const ClipTokenizer::Encoding enc = tokenizer.Encode(prompts[i]);
      const torch::Tensor row = ids[i].contiguous();
      const torch::Tensor mrow = mask[i].contiguous();
      const std::vector<int64_t> expected(row.data_ptr<int64_t>(),
                                          row.data_ptr<int64_t>() + row.numel());
      const std::vector<int64_t> expected_mask(mrow.data_ptr<int64_t>(),
                                               mrow.data_ptr<int64_t>() + mrow.numel());
      EXPECT_TRUE(FirstDifference(enc.input_ids, expected).empty())
          << Escaped(prompts[i]) << ": " << FirstDifference(enc.input_ids, expected);
      EXPECT_TRUE(FirstDifference(enc.attention_mask, expected_mask).empty())
          << Escaped(prompts[i]) << ": " << FirstDifference(enc.attention_mask, expected_mask);
    }
  }
}

}  // namespace
}  // namespace ldm
