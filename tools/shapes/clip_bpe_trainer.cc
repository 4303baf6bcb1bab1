#include "tools/shapes/clip_bpe_trainer.h"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <set>
#include <tuple>

#include "absl/strings/str_cat.h"
#include "nlohmann/json.hpp"

namespace ldm::shapes {
namespace {

constexpr std::string_view kWordEnd = "</w>";
constexpr std::string_view kBos = "<|startoftext|>";
constexpr std::string_view kEos = "<|endoftext|>";

std::string Utf8(uint32_t cp) {
  std::string out;
  if (cp < 0x80) {
    out += static_cast<char>(cp);
  } else if (cp < 0x800) {
    out += static_cast<char>(0xC0 | (cp >> 6));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else {
    out += static_cast<char>(0xE0 | (cp >> 12));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  }
  return out;
}

// bytes_to_unicode order: printable Latin-1 bytes map to themselves and come first; the other 68
// bytes map to U+0100.. in byte order and follow.
bool IsPrintableByte(int b) {
  return (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF);
}

std::vector<int> BytesInVocabOrder() {
  std::vector<int> order;
  for (int b = 0; b < 256; ++b) {
    if (IsPrintableByte(b)) order.push_back(b);
  }
  for (int b = 0; b < 256; ++b) {
    if (!IsPrintableByte(b)) order.push_back(b);
  }
  return order;
}

bool IsLetter(unsigned char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c >= 0x80;
}
bool IsDigit(unsigned char c) { return c >= '0' && c <= '9'; }
bool IsSpace(unsigned char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

std::string JsonString(const std::string& s) {
  return nlohmann::json(s).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

nlohmann::json AddedToken(std::string_view content, bool with_type) {
  nlohmann::json t = {{"content", std::string(content)},
                      {"lstrip", false},
                      {"normalized", true},
                      {"rstrip", false},
                      {"single_word", false}};
  if (with_type) t["__type"] = "AddedToken";
  return t;
}

absl::Status WriteFile(const std::filesystem::path& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << text;
  out.close();
  if (!out) return absl::InternalError(absl::StrCat("cannot write ", path.string()));
  return absl::OkStatus();
}

}  // namespace

ClipBpeTrainer::ClipBpeTrainer(ClipBpeTrainerOptions options) : options_(options) {}

const std::array<std::string, 256>& ClipBpeTrainer::ByteToSymbol() {
  static const std::array<std::string, 256> kTable = [] {
    // Printable bytes keep their Latin-1 code point; the others get U+0100, U+0101, ... in byte
    // order, which is what makes every symbol a visible character.
    std::array<std::string, 256> table;
    uint32_t next_extra = 256;
    for (int b = 0; b < 256; ++b) {
      table[b] = Utf8(IsPrintableByte(b) ? static_cast<uint32_t>(b) : next_extra++);
    }
    return table;
  }();
  return kTable;
}

const std::vector<std::string>& ClipBpeTrainer::ByteSymbolsInVocabOrder() {
  static const std::vector<std::string> kSymbols = [] {
    std::vector<std::string> symbols;
    for (int b : BytesInVocabOrder()) symbols.push_back(ByteToSymbol()[b]);
    return symbols;
  }();
  return kSymbols;
}

std::vector<std::string> ClipBpeTrainer::PreTokenize(std::string_view text) {
  std::string s;
  for (char c : text) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    s += c;
  }
  std::vector<std::string> words;
  static constexpr std::string_view kContractions[] = {"'s", "'t", "'re", "'ve", "'m", "'ll", "'d"};
  size_t i = 0;
  while (i < s.size()) {
    const auto c = static_cast<unsigned char>(s[i]);
    if (IsSpace(c)) {
      ++i;
      continue;
    }
    // Alternatives in CLIP's regex order: special tokens, contractions, letters, one digit,
    // punctuation run.
    size_t len = 0;
    for (std::string_view special : {kBos, kEos}) {
      if (s.compare(i, special.size(), special) == 0) len = special.size();
    }
    for (std::string_view contraction : kContractions) {
      if (len == 0 && s.compare(i, contraction.size(), contraction) == 0) len = contraction.size();
    }
    if (len == 0 && IsLetter(c)) {
      while (i + len < s.size() && IsLetter(static_cast<unsigned char>(s[i + len]))) ++len;
    } else if (len == 0 && IsDigit(c)) {
      len = 1;
    } else if (len == 0) {
      while (i + len < s.size()) {
        const auto d = static_cast<unsigned char>(s[i + len]);
        if (IsSpace(d) || IsLetter(d) || IsDigit(d)) break;
        ++len;
      }
    }
    words.push_back(s.substr(i, len));
    i += len;
  }
  return words;
}

std::vector<std::string> ClipBpeTrainer::InitialSymbols(std::string_view word) {
  std::vector<std::string> symbols;
  for (char c : word) symbols.push_back(ByteToSymbol()[static_cast<unsigned char>(c)]);
  if (!symbols.empty()) symbols.back() += kWordEnd;
  return symbols;
}

void ClipBpeTrainer::AddText(std::string_view text) {
  for (std::string& w : PreTokenize(text)) {
    if (w == kBos || w == kEos) continue;  // special tokens are added whole, never learned
    ++word_counts_[std::move(w)];
  }
}

void ClipBpeTrainer::AddTexts(const std::vector<std::string>& texts) {
  for (const std::string& t : texts) AddText(t);
}

void ClipBpeTrainer::Train() {
  merges_.clear();
  std::vector<std::pair<std::vector<std::string>, int64_t>> words;
  for (const auto& [w, n] : word_counts_) words.emplace_back(InitialSymbols(w), n);
  std::set<std::string> tokens(ByteSymbolsInVocabOrder().begin(), ByteSymbolsInVocabOrder().end());
  for (const std::string& s : ByteSymbolsInVocabOrder()) tokens.insert(s + std::string(kWordEnd));

  // The corpus of a caption grammar has few distinct words, so a full recount per merge is cheap
  // and keeps the tie-breaking obviously deterministic.
  while (static_cast<int>(merges_.size()) < options_.num_merges) {
    std::map<std::pair<std::string, std::string>, int64_t> pair_counts;
    for (const auto& [symbols, n] : words) {
      for (size_t i = 0; i + 1 < symbols.size(); ++i)
        pair_counts[{symbols[i], symbols[i + 1]}] += n;
    }
    const std::pair<std::string, std::string>* best = nullptr;
    int64_t best_count = 0;
    // std::map iterates pairs in lexicographic order, so keeping the first maximum breaks ties
    // towards the smallest pair.
    for (const auto& [pair, n] : pair_counts) {
      if (n > best_count && tokens.count(pair.first + pair.second) == 0) {
        best = &pair;
        best_count = n;
      }
    }
    if (best == nullptr || best_count < options_.min_pair_frequency) break;
    const auto [left, right] = *best;
    merges_.emplace_back(left, right);
    tokens.insert(left + right);
    for (auto& [symbols, n] : words) {
      std::vector<std::string> merged;
      for (size_t i = 0; i < symbols.size(); ++i) {
        if (i + 1 < symbols.size() && symbols[i] == left && symbols[i + 1] == right) {
          merged.push_back(left + right);
          ++i;
        } else {
          merged.push_back(symbols[i]);
        }
      }
      symbols = std::move(merged);
    }
  }
}

std::vector<std::string> ClipBpeTrainer::Vocabulary() const {
  std::vector<std::string> vocab = ByteSymbolsInVocabOrder();
  for (const std::string& s : ByteSymbolsInVocabOrder()) vocab.push_back(s + std::string(kWordEnd));
  for (const auto& [a, b] : merges_) vocab.push_back(a + b);
  vocab.emplace_back(kBos);
  vocab.emplace_back(kEos);
  return vocab;
}

std::vector<std::string> ClipBpeTrainer::EncodeWord(std::string_view word) const {
  std::map<std::pair<std::string, std::string>, size_t> ranks;
  for (size_t r = 0; r < merges_.size(); ++r) ranks.emplace(merges_[r], r);
  std::vector<std::string> symbols = InitialSymbols(word);
  while (symbols.size() > 1) {
    size_t best_rank = merges_.size();
    for (size_t i = 0; i + 1 < symbols.size(); ++i) {
      auto it = ranks.find({symbols[i], symbols[i + 1]});
      if (it != ranks.end()) best_rank = std::min(best_rank, it->second);
    }
    if (best_rank == merges_.size()) break;
    const auto& [left, right] = merges_[best_rank];
    std::vector<std::string> merged;
    for (size_t i = 0; i < symbols.size(); ++i) {
      if (i + 1 < symbols.size() && symbols[i] == left && symbols[i + 1] == right) {
        merged.push_back(left + right);
        ++i;
      } else {
        merged.push_back(symbols[i]);
      }
    }
    symbols = std::move(merged);
  }
  return symbols;
}

absl::Status ClipBpeTrainer::WriteTokenizerDir(const std::string& dir) const {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) return absl::InternalError(absl::StrCat("cannot create ", dir, ": ", ec.message()));
  const std::filesystem::path root(dir);

  // vocab.json is written by hand: nlohmann::json sorts object keys, but the file lists tokens in
  // id order like the original CLIP vocabulary.
  const std::vector<std::string> vocab = Vocabulary();
  std::string vocab_text = "{";
  for (size_t id = 0; id < vocab.size(); ++id) {
    if (id > 0) vocab_text += ",";
    absl::StrAppend(&vocab_text, JsonString(vocab[id]), ":", id);
  }
  vocab_text += "}\n";
  if (absl::Status s = WriteFile(root / "vocab.json", vocab_text); !s.ok()) return s;

  std::string merges_text = "#version: 0.2\n";
  for (const auto& [a, b] : merges_) absl::StrAppend(&merges_text, a, " ", b, "\n");
  if (absl::Status s = WriteFile(root / "merges.txt", merges_text); !s.ok()) return s;

  const nlohmann::json config = {
      {"add_prefix_space", false},
      {"bos_token", AddedToken(kBos, true)},
      {"do_lower_case", true},
      {"eos_token", AddedToken(kEos, true)},
      {"errors", "replace"},
      {"model_max_length", options_.model_max_length},
      {"pad_token", std::string(kEos)},
      {"special_tokens_map_file", "./special_tokens_map.json"},
      {"tokenizer_class", "CLIPTokenizer"},
      {"unk_token", AddedToken(kEos, true)},
  };
  if (absl::Status s = WriteFile(root / "tokenizer_config.json", config.dump(2) + "\n"); !s.ok()) {
    return s;
  }
  const nlohmann::json special = {
      {"bos_token", AddedToken(kBos, false)},
      {"eos_token", AddedToken(kEos, false)},
      {"pad_token", std::string(kEos)},
      {"unk_token", AddedToken(kEos, false)},
  };
  return WriteFile(root / "special_tokens_map.json", special.dump(2) + "\n");
}

}  // namespace ldm::shapes
