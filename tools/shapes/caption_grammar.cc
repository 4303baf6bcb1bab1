#include "tools/shapes/caption_grammar.h"

#include <algorithm>
#include <array>
#include <optional>
#include <sstream>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

namespace ldm::shapes {
namespace {

std::string S(std::string_view v) { return std::string(v); }

std::string BackgroundWord(Background bg, ShapesRng* rng) {
  // "grey" is a spelling variant only; the parser maps it back to gray.
  if (bg == Background::kGray && rng != nullptr && rng->Bernoulli(0.25)) return "grey";
  return S(BackgroundName(bg));
}

std::string ObjectPhrase(const ParsedObject& o, ShapesRng* rng) {
  std::string out = (rng != nullptr && rng->Bernoulli(0.25)) ? "one" : "a";
  if (o.size) out += " " + S(SizeName(*o.size));
  out += " " + S(ColorName(o.color)) + " " + S(ShapeName(o.shape));
  return out;
}

std::string PositionSuffix(const ParsedObject& o) {
  return o.position ? " " + S(PositionPhrase(*o.position)) : std::string();
}

std::string ObjectsPhrase(const ParsedCaption& facts, ShapesRng* rng) {
  std::vector<std::string> parts;
  for (const ParsedObject& o : facts.objects)
    parts.push_back(ObjectPhrase(o, rng) + PositionSuffix(o));
  return absl::StrJoin(parts, " and ");
}

std::vector<std::string> Words(std::string_view text) {
  std::string cleaned;
  for (char c : text) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    cleaned += (c >= 'a' && c <= 'z') ? c : ' ';
  }
  std::istringstream in(cleaned);
  std::vector<std::string> words;
  for (std::string w; in >> w;) words.push_back(w);
  return words;
}

template <typename E, int N>
std::optional<E> FindName(const std::string& word, std::string_view (*name)(E)) {
  for (int i = 0; i < N; ++i) {
    if (word == name(static_cast<E>(i))) return static_cast<E>(i);
  }
  return std::nullopt;
}

}  // namespace

std::string CaptionGrammar::Generate(const ParsedCaption& facts, ShapesRng& rng) {
  static constexpr std::array<std::string_view, 3> kPrefixes = {"a picture of ", "an image of ",
                                                                "a drawing of "};
  static constexpr std::array<std::string_view, 3> kBgPrepositions = {"on", "with", "against"};
  const std::string prefix = rng.Bernoulli(0.2) ? S(kPrefixes[rng.UniformInt(3)]) : "";
  if (!facts.background) return prefix + ObjectsPhrase(facts, &rng);

  const std::string bg = BackgroundWord(*facts.background, &rng);
  const int form = rng.UniformInt(facts.objects.size() == 1 ? 3 : 2);
  if (form == 1) return absl::StrCat("a ", bg, " background with ", ObjectsPhrase(facts, &rng));
  const std::string bg_phrase =
      absl::StrCat(S(kBgPrepositions[rng.UniformInt(3)]), " a ", bg, " background");
  if (form == 2) {
    // One object only: "a red circle on a black background at the top left".
    const ParsedObject& o = facts.objects.front();
    return absl::StrCat(prefix, ObjectPhrase(o, &rng), " ", bg_phrase, PositionSuffix(o));
  }
  return absl::StrCat(prefix, ObjectsPhrase(facts, &rng), " ", bg_phrase);
}

std::string CaptionGrammar::Canonical(const ParsedCaption& facts) {
  std::string out = ObjectsPhrase(facts, nullptr);
  if (facts.background) {
    absl::StrAppend(&out, " on a ", S(BackgroundName(*facts.background)), " background");
  }
  return out;
}

absl::StatusOr<ParsedCaption> CaptionGrammar::Parse(std::string_view caption) {
  const std::vector<std::string> words = Words(caption);
  // Position phrases as word lists, longest first so "at the top left" wins over "at the top".
  std::vector<std::pair<std::vector<std::string>, Position>> phrases;
  for (int p = 0; p < kNumPositions; ++p) {
    phrases.emplace_back(Words(PositionPhrase(static_cast<Position>(p))), static_cast<Position>(p));
  }
  std::stable_sort(phrases.begin(), phrases.end(),
                   [](const auto& a, const auto& b) { return a.first.size() > b.first.size(); });

  ParsedCaption out;
  for (size_t i = 0; i < words.size();) {
    const std::string& w = words[i];
    bool matched_phrase = false;
    for (const auto& [phrase, position] : phrases) {
      if (i + phrase.size() <= words.size() &&
          std::equal(phrase.begin(), phrase.end(), words.begin() + i)) {
        if (out.objects.empty()) {
          return absl::InvalidArgumentError(
              absl::StrCat("position phrase before any object in \"", S(caption), "\""));
        }
        out.objects.back().position = position;
        i += phrase.size();
        matched_phrase = true;
        break;
      }
    }
    if (matched_phrase) continue;

    if (i + 1 < words.size() && words[i + 1] == "background") {
      std::optional<Background> bg = FindName<Background, kNumBackgrounds>(w, BackgroundName);
      if (w == "grey") bg = Background::kGray;
      if (bg) {
        out.background = bg;
        i += 2;
        continue;
      }
    }
    if (auto shape = FindName<Shape, kNumShapes>(w, ShapeName)) {
      std::optional<Color> color;
      if (i > 0) color = FindName<Color, kNumColors>(words[i - 1], ColorName);
      if (!color) {
        return absl::InvalidArgumentError(
            absl::StrCat("shape \"", w, "\" without a color in \"", S(caption), "\""));
      }
      ParsedObject o;
      o.shape = *shape;
      o.color = *color;
      if (i > 1) o.size = FindName<Size, kNumSizes>(words[i - 2], SizeName);
      out.objects.push_back(o);
    }
    ++i;
  }
  if (out.objects.empty()) {
    return absl::InvalidArgumentError(absl::StrCat("no object in caption \"", S(caption), "\""));
  }
  return out;
}

}  // namespace ldm::shapes
