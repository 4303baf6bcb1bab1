#include "core/io/json_reader.h"

#include <cmath>
#include <fstream>
#include <limits>
#include <sstream>
#include <string>
#include <string_view>

#include "absl/strings/str_cat.h"

namespace ldm {
namespace {

// Placeholders are JSON strings that cannot appear in real configs; after parsing they are
// replaced by the double they stand for.
constexpr std::string_view kPosInf = R"("\u0001ldm:+inf")";
constexpr std::string_view kNegInf = R"("\u0001ldm:-inf")";
constexpr std::string_view kNaN = R"("\u0001ldm:nan")";

// Rewrites Infinity / -Infinity / NaN tokens that stand outside string literals.
std::string RewriteNonFiniteTokens(std::string_view text, bool* rewrote) {
  std::string out;
  out.reserve(text.size());
  bool in_string = false;
  for (size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (in_string) {
      out.push_back(c);
      if (c == '\\' && i + 1 < text.size()) {
        out.push_back(text[++i]);
      } else if (c == '"') {
        in_string = false;
      }
      continue;
    }
    if (c == '"') {
      in_string = true;
      out.push_back(c);
      continue;
    }
    auto starts = [&](std::string_view token) { return text.substr(i, token.size()) == token; };
    if (starts("-Infinity")) {
      out.append(kNegInf);
      i += 8;
      *rewrote = true;
    } else if (starts("Infinity")) {
      out.append(kPosInf);
      i += 7;
      *rewrote = true;
    } else if (starts("NaN")) {
      out.append(kNaN);
      i += 2;
      *rewrote = true;
    } else {
      out.push_back(c);
    }
  }
  return out;
}

void RestoreNonFinite(nlohmann::json& j) {
  if (j.is_string()) {
    const std::string& s = j.get_ref<const std::string&>();
    if (s.size() > 1 && s[0] == '\x01') {
      if (s == "\x01ldm:+inf") j = std::numeric_limits<double>::infinity();
      else if (s == "\x01ldm:-inf") j = -std::numeric_limits<double>::infinity();
      else if (s == "\x01ldm:nan") j = std::numeric_limits<double>::quiet_NaN();
    }
  } else if (j.is_array() || j.is_object()) {
    for (auto& child : j) RestoreNonFinite(child);
  }
}

}  // namespace

absl::StatusOr<nlohmann::json> ParseJsonLenient(absl::string_view text, absl::string_view source) {
  bool rewrote = false;
  std::string rewritten = RewriteNonFiniteTokens(std::string_view(text.data(), text.size()), &rewrote);
  try {
    nlohmann::json j = nlohmann::json::parse(rewritten);
    if (rewrote) RestoreNonFinite(j);
    return j;
  } catch (const nlohmann::json::exception& e) {
    return absl::InvalidArgumentError(absl::StrCat(source, ": malformed JSON: ", e.what()));
  }
}

absl::StatusOr<nlohmann::json> ReadJsonFile(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    std::error_code ec;
    if (!std::filesystem::exists(path, ec)) {
      return absl::NotFoundError(absl::StrCat(path.string(), ": no such file"));
    }
    return absl::InternalError(absl::StrCat(path.string(), ": cannot read"));
  }
  std::stringstream buffer;
  buffer << in.rdbuf();
  return ParseJsonLenient(buffer.str(), path.string());
}

}  // namespace ldm
