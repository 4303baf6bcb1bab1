// The CLIP byte-level BPE tokenizer, as Stable Diffusion pipelines call it.
//
// Encode() reproduces HuggingFace transformers' slow `CLIPTokenizer` (4.38) called as
// `tokenizer(text, padding="max_length", max_length=model_max_length, truncation=True)` on its
// **fallback path** (the one taken when `ftfy` is not importable, which is what a plain
// `pip install diffusers transformers` gives and what every reference in the fixtures uses):
//
//   1. Added-token split: literal occurrences of the special tokens (bos, eos, unk, pad and any
//      additional special tokens) become those tokens. This matters when the pad token is an
//      ordinary character: SD 2.x pads with "!", so a literal "!" becomes the pad id, not BPE.
//   2. Every other segment goes through BERT's BasicTokenizer(do_lower_case=True,
//      strip_accents=False, do_split_on_punc=False): drop NUL, U+FFFD and all C* characters
//      except \t \n \r (as of Unicode 14.0, Python 3.11's database), map whitespace (incl. Zs) to
//      spaces, surround CJK ideographs with spaces, NFC, split on whitespace, lowercase, and
//      join with single spaces. No ftfy, no HTML unescaping, no accent stripping.
//   3. The CLIP pre-tokenizer regex
//      `<\|startoftext\|>|<\|endoftext\|>|'s|'t|'re|'ve|'m|'ll|'d|\p{L}+|\p{N}|[^\s\p{L}\p{N}]+`
//      (case-insensitive), then byte-level BPE with the merges in rank order.
//   4. bos + the first model_max_length-2 ids + eos, padded with the pad id to model_max_length.
//
// Ownership: a ClipTokenizer is a cheap handle; copies share the immutable vocabulary and one
// BPE cache.
// Thread safety: all const methods, Encode() and Tokenize() included, are safe to call
// concurrently from any number of threads (the BPE cache is internally synchronised).
// Input: text is UTF-8; invalid byte sequences are treated as U+FFFD and therefore dropped.
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace ldm {

class ClipTokenizer {
 public:
  struct Encoding {
    // Exactly model_max_length() entries each.
    std::vector<int64_t> input_ids;
    std::vector<int64_t> attention_mask;  // 1 for bos, tokens and eos; 0 for padding
    // bos + every BPE/added token + eos, before truncation.
    int num_tokens_untruncated = 0;
    bool truncated = false;  // num_tokens_untruncated > model_max_length()
  };

  // Loads a diffusers/transformers `tokenizer/` folder:
  //   vocab.json             required; JSON object token -> non-negative integer id
  //   merges.txt             required; a "#version" header line, then "<a> <b>" per line
  //   tokenizer_config.json  required; `model_max_length` (integer >= 2) and optionally the
  //                          special tokens (plain strings or AddedToken objects with "content")
  //   special_tokens_map.json  optional; overrides the special tokens of tokenizer_config.json
  // Missing special tokens take CLIP's defaults (bos <|startoftext|>, eos/unk/pad <|endoftext|>).
  // A special token absent from the vocabulary gets the next free id, as transformers does.
  // Like transformers' CLIPTokenizer, at most 48,894 merges (openai's vocabulary size) are read.
  // Errors: NOT_FOUND for a missing required file; INVALID_ARGUMENT naming the file (and line or
  // field) for malformed content.
  static absl::StatusOr<ClipTokenizer> Load(const std::filesystem::path& tokenizer_dir);

  // See the file comment. Never fails.
  Encoding Encode(absl::string_view text) const;

  // Steps 1-3 only: the token ids of `text` without bos/eos, truncation or padding (what
  // `tokenizer(text, add_special_tokens=False).input_ids` gives).
  std::vector<int64_t> Tokenize(absl::string_view text) const;

  int model_max_length() const;
  int64_t bos_id() const;
  int64_t eos_id() const;
  int64_t pad_id() const;
  int64_t unk_id() const;
  // Number of ids: the vocabulary plus special tokens that were not in it.
  int64_t vocab_size() const;
  // The token string of `id` (byte-level encoded, with "</w>" word ends); empty if unknown.
  std::string IdToToken(int64_t id) const;

 private:
  struct Data;
  struct Cache;
  ClipTokenizer(std::shared_ptr<const Data> data, std::shared_ptr<Cache> cache);

  // BPE ids of one pre-tokenized word (raw UTF-8), through the cache.
  void AppendWordIds(const std::string& word, std::vector<int64_t>& out) const;
  // Steps 2-3 for one segment between added tokens.
  void AppendSegmentIds(absl::string_view segment, std::vector<int64_t>& out) const;

  std::shared_ptr<const Data> data_;
  std::shared_ptr<Cache> cache_;
};

}  // namespace ldm
