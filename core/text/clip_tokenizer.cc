#include "core/text/clip_tokenizer.h"

#include <unicode/errorcode.h>
#include <unicode/locid.h>
#include <unicode/normalizer2.h>
#include <unicode/uchar.h>
#include <unicode/unistr.h>
#include <unicode/utf8.h>

#include <array>
#include <fstream>
#include <limits>
#include <mutex>
#include <optional>
#include <shared_mutex>
#include <sstream>
#include <unordered_map>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "core/common/status_macros.h"
#include "core/io/json_reader.h"
#include "nlohmann/json.hpp"

namespace ldm {
namespace {

// transformers' CLIPTokenizer reads merges.txt lines [1 : 49152 - 256 - 2 + 1], i.e. it skips
// the "#version" header and keeps at most this many merges (openai's vocabulary budget).
constexpr size_t kMaxMerges = 49152 - 256 - 2;
// Bounded so that a stream of unique prompts cannot grow memory without limit; when full the
// cache is simply cleared (words repeat heavily, so it refills with the useful ones).
constexpr size_t kMaxCacheEntries = 1 << 16;
constexpr char kEndOfWord[] = "</w>";
constexpr absl::string_view kStartOfText = "<|startoftext|>";
constexpr absl::string_view kEndOfText = "<|endoftext|>";

// ---------------------------------------------------------------------------------------------
// Unicode helpers. The reference ran on Python 3.11, whose unicodedata is Unicode 14.0; ICU 72
// knows Unicode 15.0. Characters assigned after 14.0 were "Cn" (unassigned) to the reference and
// BasicTokenizer dropped them, so they are treated as unassigned here as well.

bool AssignedAfterUnicode14(UChar32 c) {
  UVersionInfo age;
  u_charAge(c, age);
  return age[0] > 14 || (age[0] == 14 && age[1] > 0);
}

// BasicTokenizer._is_control: every C* category except \t \n \r.
bool IsBertControl(UChar32 c) {
  if (c == '\t' || c == '\n' || c == '\r') return false;
  if ((U_GET_GC_MASK(c) & U_GC_C_MASK) != 0) return true;
  return AssignedAfterUnicode14(c);
}

// BasicTokenizer._is_whitespace: space, \t \n \r, and category Zs.
bool IsBertWhitespace(UChar32 c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || u_charType(c) == U_SPACE_SEPARATOR;
}

// BasicTokenizer._is_chinese_char: the CJK Unified Ideographs blocks (not kana or hangul).
bool IsCjkIdeograph(UChar32 c) {
  return (c >= 0x4E00 && c <= 0x9FFF) || (c >= 0x3400 && c <= 0x4DBF) ||
         (c >= 0x20000 && c <= 0x2A6DF) || (c >= 0x2A700 && c <= 0x2B73F) ||
         (c >= 0x2B740 && c <= 0x2B81F) || (c >= 0x2B820 && c <= 0x2CEAF) ||
         (c >= 0xF900 && c <= 0xFAFF) || (c >= 0x2F800 && c <= 0x2FA1F);
}

// Python's str.isspace(), which str.split() uses (bidi class WS/B/S or category Zs).
bool IsPythonSpace(UChar32 c) {
  return (c >= 0x09 && c <= 0x0D) || (c >= 0x1C && c <= 0x20) || c == 0x85 || c == 0xA0 ||
         c == 0x1680 || (c >= 0x2000 && c <= 0x200A) || c == 0x2028 || c == 0x2029 || c == 0x202F ||
         c == 0x205F || c == 0x3000;
}

// The CLIP regex is compiled with IGNORECASE by the `regex` module. \p{L} and \p{N} still test
// the character itself, but the negated class [^\s\p{L}\p{N}] also rejects a character whose
// case variant is a letter or number. Such a character (U+0345 COMBINING GREEK YPOGEGRAMMENI,
// which folds to iota, is the only one) is matched by no alternative and silently skipped.
bool IsRegexLetter(UChar32 c) { return (U_GET_GC_MASK(c) & U_GC_L_MASK) != 0; }
bool IsRegexNumber(UChar32 c) { return (U_GET_GC_MASK(c) & U_GC_N_MASK) != 0; }
bool IsRegexSpace(UChar32 c) { return u_hasBinaryProperty(c, UCHAR_WHITE_SPACE) != 0; }
bool IsRegexUnmatchable(UChar32 c) {
  const UChar32 folded = u_foldCase(c, U_FOLD_CASE_DEFAULT);
  return folded != c && !IsRegexLetter(c) && !IsRegexNumber(c) &&
         (IsRegexLetter(folded) || IsRegexNumber(folded) || IsRegexSpace(folded));
}

void AppendUtf8(UChar32 c, std::string& out) {
  char buf[U8_MAX_LENGTH];
  int32_t n = 0;
  U8_APPEND_UNSAFE(buf, n, c);
  out.append(buf, n);
}

// Decodes UTF-8 into code points; invalid sequences become U+FFFD.
std::vector<UChar32> DecodeUtf8(absl::string_view s) {
  std::vector<UChar32> out;
  out.reserve(s.size());
  const auto* p = reinterpret_cast<const uint8_t*>(s.data());
  const int32_t n = static_cast<int32_t>(s.size());
  int32_t i = 0;
  while (i < n) {
    UChar32 c;
    U8_NEXT(p, i, n, c);
    out.push_back(c < 0 ? 0xFFFD : c);
  }
  return out;
}

// GPT-2/CLIP bytes_to_unicode(): printable Latin-1 bytes map to themselves, the other 68 bytes to
// U+0100.. in byte order, so that every byte is a visible, non-space character.
const std::array<std::string, 256>& ByteToUnicode() {
  static const std::array<std::string, 256> table = [] {
    std::array<std::string, 256> t;
    int next = 0;
    for (int b = 0; b < 256; ++b) {
      const bool printable = (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE);
      AppendUtf8(printable ? b : 256 + next++, t[b]);
    }
    return t;
  }();
  return table;
}

// Lowercases like Python's str.lower() (full mappings, final sigma): ICU's root locale.
void AppendLowercased(const icu::UnicodeString& word, std::vector<UChar32>& out) {
  icu::UnicodeString lower(word);
  lower.toLower(icu::Locale::getRoot());
  for (int32_t i = 0; i < lower.length();) {
    const UChar32 c = lower.char32At(i);
    out.push_back(c);
    i += U16_LENGTH(c);
  }
}

// BasicTokenizer(do_lower_case=True, strip_accents=False, do_split_on_punc=False).tokenize(),
// joined with single spaces (what CLIPTokenizer._tokenize does with its result).
std::vector<UChar32> BasicTokenizerNormalize(absl::string_view text) {
  std::vector<UChar32> out;
  bool ascii = true;
  for (char ch : text) ascii &= static_cast<unsigned char>(ch) < 0x80;
  if (ascii) {
    // Same rules, without ICU: NFC and lowercasing are trivial on ASCII.
    bool pending_space = false;
    for (char ch : text) {
      const unsigned char c = static_cast<unsigned char>(ch);
      if (c == ' ' || c == '\t' || c == '\n' || c == '\r') {
        pending_space = true;
      } else if (c < 0x20 || c == 0x7F) {
        continue;  // Cc, dropped (so "a\x01b" stays one word, as in the reference)
      } else {
        if (pending_space && !out.empty()) out.push_back(' ');
        pending_space = false;
        out.push_back(c >= 'A' && c <= 'Z' ? c + ('a' - 'A') : c);
      }
    }
    return out;
  }

  // _clean_text and _tokenize_chinese_chars.
  icu::UnicodeString cleaned;
  for (UChar32 c : DecodeUtf8(text)) {
    if (c == 0 || c == 0xFFFD || IsBertControl(c)) continue;
    if (IsBertWhitespace(c)) {
      cleaned.append(static_cast<UChar32>(' '));
    } else if (IsCjkIdeograph(c)) {
      cleaned.append(static_cast<UChar32>(' ')).append(c).append(static_cast<UChar32>(' '));
    } else {
      cleaned.append(c);
    }
  }
  // NFC, then whitespace_tokenize (str.split()), then lowercase each word.
  icu::ErrorCode status;
  const icu::Normalizer2* nfc = icu::Normalizer2::getNFCInstance(status);
  icu::UnicodeString normalized = nfc->normalize(cleaned, status);
  if (status.isFailure()) normalized = cleaned;  // cannot happen for valid code points
  icu::UnicodeString word;
  auto flush = [&] {
    if (word.isEmpty()) return;
    if (!out.empty()) out.push_back(' ');
    AppendLowercased(word, out);
    word.remove();
  };
  for (int32_t i = 0; i < normalized.length();) {
    const UChar32 c = normalized.char32At(i);
    i += U16_LENGTH(c);
    if (IsPythonSpace(c)) {
      flush();
    } else {
      word.append(c);
    }
  }
  flush();
  return out;
}

// Length of a case-insensitive match of ASCII `literal` at text[i], or 0.
size_t MatchLiteralIgnoreCase(const std::vector<UChar32>& text, size_t i,
                              absl::string_view literal) {
  if (text.size() - i < literal.size()) return 0;
  for (size_t k = 0; k < literal.size(); ++k) {
    const UChar32 c = text[i + k];
    if (c != literal[k] && u_foldCase(c, U_FOLD_CASE_DEFAULT) != literal[k]) return 0;
  }
  return literal.size();
}

// re.findall of the CLIP pattern over `text`, as half-open [begin, end) code point ranges.
// Alternatives are tried in pattern order at each start, as a backtracking regex engine does.
std::vector<std::pair<size_t, size_t>> ClipPreTokenize(const std::vector<UChar32>& text) {
  static constexpr absl::string_view kContractions[] = {"'s", "'t",  "'re", "'ve",
                                                        "'m", "'ll", "'d"};
  std::vector<std::pair<size_t, size_t>> spans;
  size_t i = 0;
  while (i < text.size()) {
    size_t len = MatchLiteralIgnoreCase(text, i, kStartOfText);
    if (len == 0) len = MatchLiteralIgnoreCase(text, i, kEndOfText);
    if (len == 0 && text[i] == '\'') {
      for (absl::string_view c : kContractions) {
        if ((len = MatchLiteralIgnoreCase(text, i, c)) != 0) break;
      }
    }
    if (len == 0) {
      const UChar32 c = text[i];
      if (IsRegexLetter(c)) {
        len = 1;
        while (i + len < text.size() && IsRegexLetter(text[i + len])) ++len;
      } else if (IsRegexNumber(c)) {
        len = 1;
      } else if (IsRegexSpace(c) || IsRegexUnmatchable(c)) {
        ++i;  // no alternative matches here; findall moves on
        continue;
      } else {
        len = 1;
        while (i + len < text.size()) {
          const UChar32 d = text[i + len];
          if (IsRegexSpace(d) || IsRegexLetter(d) || IsRegexNumber(d) || IsRegexUnmatchable(d)) {
            break;
          }
          ++len;
        }
      }
    }
    spans.emplace_back(i, i + len);
    i += len;
  }
  return spans;
}

// ---------------------------------------------------------------------------------------------
// Loading helpers.

absl::StatusOr<std::string> ReadTextFile(const std::filesystem::path& path) {
  std::error_code ec;
  if (!std::filesystem::is_regular_file(path, ec)) {
    return absl::NotFoundError(absl::StrCat(path.string(), ": file not found"));
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) return absl::NotFoundError(absl::StrCat(path.string(), ": cannot open"));
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

struct TokenSpec {
  std::string content;
  bool lstrip = false;
  bool rstrip = false;
};

// A special-token field: a plain string or an AddedToken object {"content": ..., "lstrip": ...}.
// Absent or null gives nullopt.
absl::StatusOr<std::optional<TokenSpec>> ParseTokenSpec(const nlohmann::json& value,
                                                        const std::string& source,
                                                        const std::string& field) {
  if (value.is_null()) return std::nullopt;
  TokenSpec spec;
  if (value.is_string()) {
    spec.content = value.get<std::string>();
  } else if (value.is_object()) {
    auto content = value.find("content");
    if (content == value.end() || !content->is_string()) {
      return absl::InvalidArgumentError(
          absl::StrCat(source, ": '", field, ".content' must be a string"));
    }
    spec.content = content->get<std::string>();
    for (const char* flag : {"lstrip", "rstrip"}) {
      auto it = value.find(flag);
      if (it == value.end() || it->is_null()) continue;
      if (!it->is_boolean()) {
        return absl::InvalidArgumentError(
            absl::StrCat(source, ": '", field, ".", flag, "' must be a boolean"));
      }
      (std::string(flag) == "lstrip" ? spec.lstrip : spec.rstrip) = it->get<bool>();
    }
  } else {
    return absl::InvalidArgumentError(absl::StrCat(
        source, ": '", field, "' must be a string or an AddedToken object, got ", value.dump()));
  }
  if (spec.content.empty()) {
    return absl::InvalidArgumentError(absl::StrCat(source, ": '", field, "' is empty"));
  }
  return spec;
}

// Python's str.lstrip()/rstrip() on UTF-8.
std::string StripPythonSpace(absl::string_view s, bool left, bool right) {
  std::vector<UChar32> cps = DecodeUtf8(s);
  size_t b = 0, e = cps.size();
  while (left && b < e && IsPythonSpace(cps[b])) ++b;
  while (right && e > b && IsPythonSpace(cps[e - 1])) --e;
  std::string out;
  for (size_t i = b; i < e; ++i) AppendUtf8(cps[i], out);
  return out;
}

}  // namespace

// ---------------------------------------------------------------------------------------------

struct ClipTokenizer::Data {
  struct AddedToken {
    std::string content;
    int64_t id = 0;
    bool lstrip = false;
    bool rstrip = false;
  };

  std::unordered_map<std::string, int64_t> vocab;
  std::vector<std::string> id_to_token;
  // "first second" -> rank (lower merges first). Byte-level symbols never contain a space.
  std::unordered_map<std::string, int> merge_ranks;
  std::vector<AddedToken> added;  // longest content first, so the first match is the longest
  int model_max_length = 77;
  int64_t bos_id = 0, eos_id = 0, pad_id = 0, unk_id = 0;
};

struct ClipTokenizer::Cache {
  std::shared_mutex mu;
  std::unordered_map<std::string, std::vector<int64_t>> words;
};

ClipTokenizer::ClipTokenizer(std::shared_ptr<const Data> data, std::shared_ptr<Cache> cache)
    : data_(std::move(data)), cache_(std::move(cache)) {}

absl::StatusOr<ClipTokenizer> ClipTokenizer::Load(const std::filesystem::path& tokenizer_dir) {
  auto data = std::make_shared<Data>();

  // vocab.json
  const std::filesystem::path vocab_path = tokenizer_dir / "vocab.json";
  LDM_ASSIGN_OR_RETURN(nlohmann::json vocab, ReadJsonFile(vocab_path));
  if (!vocab.is_object() || vocab.empty()) {
    return absl::InvalidArgumentError(absl::StrCat(
        vocab_path.string(), ": must be a non-empty JSON object mapping token to integer id"));
  }
  int64_t max_id = -1;
  for (const auto& [token, id] : vocab.items()) {
    if (!id.is_number_integer() || id.get<int64_t>() < 0 ||
        id.get<int64_t>() > std::numeric_limits<int32_t>::max()) {
      return absl::InvalidArgumentError(
          absl::StrCat(vocab_path.string(), ": token '", token,
                       "' must map to a non-negative integer id, got ", id.dump()));
    }
    data->vocab[token] = id.get<int64_t>();
    max_id = std::max(max_id, id.get<int64_t>());
  }
  data->id_to_token.resize(max_id + 1);
  for (const auto& [token, id] : data->vocab) data->id_to_token[id] = token;

  // merges.txt: like the reference, the text is stripped and the first line (the "#version"
  // header) is skipped unconditionally.
  const std::filesystem::path merges_path = tokenizer_dir / "merges.txt";
  LDM_ASSIGN_OR_RETURN(std::string merges_text, ReadTextFile(merges_path));
  std::vector<absl::string_view> lines = absl::StrSplit(merges_text, '\n');
  while (!lines.empty() && absl::StripAsciiWhitespace(lines.back()).empty()) lines.pop_back();
  if (lines.empty() || !absl::StartsWith(absl::StripLeadingAsciiWhitespace(lines[0]), "#")) {
    return absl::InvalidArgumentError(
        absl::StrCat(merges_path.string(), ": line 1 must be the '#version' header"));
  }
  for (size_t n = 1; n < lines.size() && n <= kMaxMerges; ++n) {
    std::vector<absl::string_view> parts =
        absl::StrSplit(lines[n], absl::ByAnyChar(" \t\r"), absl::SkipEmpty());
    if (parts.size() != 2) {
      return absl::InvalidArgumentError(
          absl::StrCat(merges_path.string(), ":", n + 1,
                       ": expected two space-separated symbols, got '", lines[n], "'"));
    }
    // A repeated merge keeps its last rank, as dict(zip(merges, range(...))) does.
    data->merge_ranks[absl::StrCat(parts[0], " ", parts[1])] = static_cast<int>(n - 1);
  }

  // tokenizer_config.json, then special_tokens_map.json (which wins, as in from_pretrained).
  const std::filesystem::path config_path = tokenizer_dir / "tokenizer_config.json";
  LDM_ASSIGN_OR_RETURN(nlohmann::json config, ReadJsonFile(config_path));
  if (!config.is_object()) {
    return absl::InvalidArgumentError(
        absl::StrCat(config_path.string(), ": root must be a JSON object"));
  }
  {
    auto it = config.find("model_max_length");
    if (it == config.end() || !it->is_number_integer() || it->get<int64_t>() < 2 ||
        it->get<int64_t>() > (1 << 20)) {
      return absl::InvalidArgumentError(absl::StrCat(
          config_path.string(), ": 'model_max_length' must be an integer in [2, 1048576], got ",
          it == config.end() ? std::string("nothing") : it->dump()));
    }
    data->model_max_length = static_cast<int>(it->get<int64_t>());
  }

  // Tokens with explicit ids (the newer "added_tokens_decoder" layout).
  auto add_token = [&](const TokenSpec& spec, int64_t id) {
    for (const auto& t : data->added) {
      if (t.content == spec.content) return;
    }
    data->added.push_back({spec.content, id, spec.lstrip, spec.rstrip});
  };
  if (auto it = config.find("added_tokens_decoder"); it != config.end() && !it->is_null()) {
    if (!it->is_object()) {
      return absl::InvalidArgumentError(
          absl::StrCat(config_path.string(), ": 'added_tokens_decoder' must be an object"));
    }
    for (const auto& [key, value] : it->items()) {
      const std::string field = absl::StrCat("added_tokens_decoder.", key);
      int64_t id = -1;
      if (!absl::SimpleAtoi(key, &id) || id < 0 || id > std::numeric_limits<int32_t>::max()) {
        return absl::InvalidArgumentError(
            absl::StrCat(config_path.string(), ": '", field, "' key must be a token id"));
      }
      LDM_ASSIGN_OR_RETURN(std::optional<TokenSpec> spec,
                           ParseTokenSpec(value, config_path.string(), field));
      if (spec) add_token(*spec, id);
    }
  }

  // The special tokens in transformers' SPECIAL_TOKENS_ATTRIBUTES order, which is also the order
  // in which tokens missing from the vocabulary get new ids.
  std::map<std::string, std::optional<TokenSpec>> specials = {
      {"bos_token", TokenSpec{std::string(kStartOfText)}},
      {"eos_token", TokenSpec{std::string(kEndOfText)}},
      {"unk_token", TokenSpec{std::string(kEndOfText)}},
      {"pad_token", TokenSpec{std::string(kEndOfText)}},
  };
  std::vector<TokenSpec> additional;
  auto read_specials = [&](const nlohmann::json& j, const std::string& source) -> absl::Status {
    for (auto& [field, spec] : specials) {
      auto it = j.find(field);
      if (it == j.end()) continue;
      LDM_ASSIGN_OR_RETURN(spec, ParseTokenSpec(*it, source, field));
    }
    if (auto it = j.find("additional_special_tokens"); it != j.end() && !it->is_null()) {
      if (!it->is_array()) {
        return absl::InvalidArgumentError(
            absl::StrCat(source, ": 'additional_special_tokens' must be a list"));
      }
      additional.clear();
      for (size_t k = 0; k < it->size(); ++k) {
        LDM_ASSIGN_OR_RETURN(
            std::optional<TokenSpec> spec,
            ParseTokenSpec((*it)[k], source, absl::StrCat("additional_special_tokens[", k, "]")));
        if (spec) additional.push_back(*spec);
      }
    }
    return absl::OkStatus();
  };
  LDM_RETURN_IF_ERROR(read_specials(config, config_path.string()));
  const std::filesystem::path map_path = tokenizer_dir / "special_tokens_map.json";
  if (std::filesystem::exists(map_path)) {
    LDM_ASSIGN_OR_RETURN(nlohmann::json map, ReadJsonFile(map_path));
    if (!map.is_object()) {
      return absl::InvalidArgumentError(
          absl::StrCat(map_path.string(), ": root must be a JSON object"));
    }
    LDM_RETURN_IF_ERROR(read_specials(map, map_path.string()));
  }

  int64_t next_id = static_cast<int64_t>(data->id_to_token.size());
  for (const auto& t : data->added) next_id = std::max(next_id, t.id + 1);
  auto resolve = [&](const TokenSpec& spec) -> int64_t {
    for (const auto& t : data->added) {
      if (t.content == spec.content) return t.id;
    }
    int64_t id;
    if (auto v = data->vocab.find(spec.content); v != data->vocab.end()) {
      id = v->second;
    } else {
      id = next_id++;
    }
    add_token(spec, id);
    return id;
  };
  std::array<int64_t*, 4> ids = {&data->bos_id, &data->eos_id, &data->unk_id, &data->pad_id};
  const std::array<const char*, 4> order = {"bos_token", "eos_token", "unk_token", "pad_token"};
  for (size_t k = 0; k < order.size(); ++k) {
    const std::optional<TokenSpec>& spec = specials[order[k]];
    if (!spec) {
      return absl::InvalidArgumentError(absl::StrCat(config_path.string(), ": '", order[k],
                                                     "' is null; ldm needs it to encode prompts"));
    }
    *ids[k] = resolve(*spec);
  }
  for (const auto& spec : additional) resolve(spec);

  for (const auto& t : data->added) {
    if (t.id >= static_cast<int64_t>(data->id_to_token.size())) data->id_to_token.resize(t.id + 1);
    if (data->id_to_token[t.id].empty()) data->id_to_token[t.id] = t.content;
  }
  std::stable_sort(data->added.begin(), data->added.end(), [](const auto& a, const auto& b) {
    return a.content.size() > b.content.size();
  });
  return ClipTokenizer(std::move(data), std::make_shared<Cache>());
}

int ClipTokenizer::model_max_length() const { return data_->model_max_length; }
int64_t ClipTokenizer::bos_id() const { return data_->bos_id; }
int64_t ClipTokenizer::eos_id() const { return data_->eos_id; }
int64_t ClipTokenizer::pad_id() const { return data_->pad_id; }
int64_t ClipTokenizer::unk_id() const { return data_->unk_id; }
int64_t ClipTokenizer::vocab_size() const {
  return static_cast<int64_t>(data_->id_to_token.size());
}

std::string ClipTokenizer::IdToToken(int64_t id) const {
  if (id < 0 || id >= vocab_size()) return "";
  return data_->id_to_token[id];
}

void ClipTokenizer::AppendWordIds(const std::string& word, std::vector<int64_t>& out) const {
  {
    std::shared_lock lock(cache_->mu);
    auto it = cache_->words.find(word);
    if (it != cache_->words.end()) {
      out.insert(out.end(), it->second.begin(), it->second.end());
      return;
    }
  }
  const Data& d = *data_;
  std::vector<int64_t> ids;
  auto lookup = [&](const std::string& token) {
    auto it = d.vocab.find(token);
    return it == d.vocab.end() ? d.unk_id : it->second;
  };
  if (word == kStartOfText || word == kEndOfText) {
    // CLIPTokenizer seeds its BPE cache with these two, so they map to themselves (no "</w>").
    ids.push_back(lookup(word));
  } else {
    // Byte-level symbols, the last one marked as the end of the word.
    std::vector<std::string> symbols;
    symbols.reserve(word.size());
    for (unsigned char b : word) symbols.push_back(ByteToUnicode()[b]);
    symbols.back() += kEndOfWord;
    // Repeatedly merge the best-ranked adjacent pair, every non-overlapping occurrence left to
    // right, until no adjacent pair is a known merge.
    std::string key;
    while (symbols.size() > 1) {
      int best_rank = std::numeric_limits<int>::max();
      size_t best = 0;
      for (size_t i = 0; i + 1 < symbols.size(); ++i) {
        key.assign(symbols[i]).append(" ").append(symbols[i + 1]);
        auto it = d.merge_ranks.find(key);
        if (it != d.merge_ranks.end() && it->second < best_rank) {
          best_rank = it->second;
          best = i;
        }
      }
      if (best_rank == std::numeric_limits<int>::max()) break;
      const std::string first = symbols[best], second = symbols[best + 1];
      std::vector<std::string> merged;
      merged.reserve(symbols.size());
      for (size_t i = 0; i < symbols.size();) {
        if (i + 1 < symbols.size() && symbols[i] == first && symbols[i + 1] == second) {
          merged.push_back(first + second);
          i += 2;
        } else {
          merged.push_back(std::move(symbols[i]));
          ++i;
        }
      }
      symbols = std::move(merged);
    }
    for (const auto& s : symbols) ids.push_back(lookup(s));
  }
  out.insert(out.end(), ids.begin(), ids.end());
  std::unique_lock lock(cache_->mu);
  if (cache_->words.size() >= kMaxCacheEntries) cache_->words.clear();
  cache_->words.emplace(word, std::move(ids));
}

void ClipTokenizer::AppendSegmentIds(absl::string_view segment, std::vector<int64_t>& out) const {
  const std::vector<UChar32> text = BasicTokenizerNormalize(segment);
  std::string word;
  for (const auto& [begin, end] : ClipPreTokenize(text)) {
    word.clear();
    for (size_t i = begin; i < end; ++i) AppendUtf8(text[i], word);
    AppendWordIds(word, out);
  }
}

std::vector<int64_t> ClipTokenizer::Tokenize(absl::string_view text) const {
  // Split around added tokens: at each position the longest added token that starts there wins
  // (transformers' Trie.split). Special tokens are matched case-sensitively on the raw text.
  struct Piece {
    absl::string_view text;
    const Data::AddedToken* token = nullptr;  // null for ordinary text
  };
  std::vector<Piece> pieces;
  size_t start = 0;
  for (size_t i = 0; i < text.size();) {
    const Data::AddedToken* match = nullptr;
    for (const auto& t : data_->added) {
      if (text.substr(i, t.content.size()) == t.content) {
        match = &t;
        break;
      }
    }
    if (match == nullptr) {
      ++i;
      continue;
    }
    if (i > start) pieces.push_back({text.substr(start, i - start), nullptr});
    pieces.push_back({text.substr(i, match->content.size()), match});
    i += match->content.size();
    start = i;
  }
  if (start < text.size()) pieces.push_back({text.substr(start), nullptr});

  std::vector<int64_t> ids;
  for (size_t k = 0; k < pieces.size(); ++k) {
    const Piece& p = pieces[k];
    if (p.token != nullptr) {
      ids.push_back(p.token->id);
      continue;
    }
    // AddedToken.rstrip / lstrip eat the whitespace next to the token.
    const bool strip_left = k > 0 && pieces[k - 1].token != nullptr && pieces[k - 1].token->rstrip;
    const bool strip_right =
        k + 1 < pieces.size() && pieces[k + 1].token != nullptr && pieces[k + 1].token->lstrip;
    if (strip_left || strip_right) {
      AppendSegmentIds(StripPythonSpace(p.text, strip_left, strip_right), ids);
    } else {
      AppendSegmentIds(p.text, ids);
    }
  }
  return ids;
}

ClipTokenizer::Encoding ClipTokenizer::Encode(absl::string_view text) const {
  const std::vector<int64_t> ids = Tokenize(text);
  const size_t max_len = static_cast<size_t>(data_->model_max_length);
  const size_t kept = std::min(ids.size(), max_len - 2);
  Encoding enc;
  enc.num_tokens_untruncated = static_cast<int>(ids.size() + 2);
  enc.truncated = ids.size() + 2 > max_len;
  enc.input_ids.reserve(max_len);
  enc.input_ids.push_back(data_->bos_id);
  enc.input_ids.insert(enc.input_ids.end(), ids.begin(), ids.begin() + kept);
  enc.input_ids.push_back(data_->eos_id);
  enc.attention_mask.assign(enc.input_ids.size(), 1);
  enc.input_ids.resize(max_len, data_->pad_id);
  enc.attention_mask.resize(max_len, 0);
  return enc;
}

}  // namespace ldm
