// ClipBpeTrainer: learns a byte-level BPE vocabulary on a caption corpus and writes a tokenizer
// folder in the layout of CLIP's Hugging Face tokenizer (vocab.json, merges.txt,
// tokenizer_config.json, special_tokens_map.json), so ldm's CLIP tokenizer loads it unchanged.
//
// Pre-tokenization follows CLIP: whitespace is collapsed, text lower-cased (ASCII), then split
// into words: the contractions 's 't 're 've 'm 'll 'd, runs of letters (bytes >= 0x80 count as
// letters), single digits, runs of other non-space characters. Each word is mapped byte by byte
// through CLIP's bytes_to_unicode table, and its last symbol carries the "</w>" suffix.
//
// Vocabulary order (ids): the 256 byte symbols in bytes_to_unicode order, the same 256 with
// "</w>", one token per merge in merge order, then "<|startoftext|>" and "<|endoftext|>".
//
// Training is deterministic: at each step the most frequent adjacent pair is merged, ties broken
// by the lexicographically smallest (left, right) pair; a pair whose concatenation is already a
// token is skipped so every token (and id) is unique. Training stops after num_merges merges or
// when no pair occurs at least min_pair_frequency times (a small caption language runs out of
// pairs long before 1000 merges: once every word is a single token nothing is left to merge).
//
// Not thread-safe for mutation (AddText/Train); const methods may be called concurrently.
#pragma once

#include <array>
#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/status.h"

namespace ldm::shapes {

struct ClipBpeTrainerOptions {
  // Upper bound on the number of merges learned.
  int num_merges = 800;
  // Pairs seen fewer times than this are not merged.
  int min_pair_frequency = 1;
  // Written to tokenizer_config.json as model_max_length (sequence length incl. BOS/EOS).
  int model_max_length = 32;
};

class ClipBpeTrainer {
 public:
  explicit ClipBpeTrainer(ClipBpeTrainerOptions options = {});

  // Adds a text's words to the corpus statistics.
  void AddText(std::string_view text);
  void AddTexts(const std::vector<std::string>& texts);
  // Learns merges from all text added so far (from scratch; callable again after more AddText).
  void Train();

  const std::vector<std::pair<std::string, std::string>>& merges() const { return merges_; }
  // Tokens in id order (see the class comment); 512 + merges + 2 entries.
  std::vector<std::string> Vocabulary() const;
  // The BPE tokens of one pre-tokenized word under the learned merges, applied as CLIP's tokenizer
  // does (repeatedly merge the lowest-ranked adjacent pair).
  std::vector<std::string> EncodeWord(std::string_view word) const;

  // Writes the four tokenizer files into `dir`, creating it if needed. INTERNAL on I/O failure.
  absl::Status WriteTokenizerDir(const std::string& dir) const;

  // CLIP's pre-tokenization of a text into words (no "</w>", not byte-mapped).
  static std::vector<std::string> PreTokenize(std::string_view text);
  // The 256 byte symbols (UTF-8 strings) in vocabulary order, and the symbol of each byte value.
  static const std::vector<std::string>& ByteSymbolsInVocabOrder();
  static const std::array<std::string, 256>& ByteToSymbol();

 private:
  // The word as byte symbols with "</w>" on the last one.
  static std::vector<std::string> InitialSymbols(std::string_view word);

  ClipBpeTrainerOptions options_;
  std::map<std::string, int64_t> word_counts_;
  std::vector<std::pair<std::string, std::string>> merges_;
};

}  // namespace ldm::shapes
