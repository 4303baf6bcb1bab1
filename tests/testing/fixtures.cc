#include "tests/testing/fixtures.h"

#include <cstdlib>
#include <fstream>
#include <unistd.h>

#include "absl/strings/str_cat.h"
#include "core/common/status_macros.h"
#include "core/io/json_reader.h"

namespace ldm::testing {

absl::StatusOr<std::filesystem::path> FixturesDir() {
  std::filesystem::path dir;
  if (const char* env = std::getenv("LDM_FIXTURES_DIR"); env != nullptr && *env != '\0') {
    dir = env;
  } else {
    dir = std::filesystem::path(LDM_SOURCE_DIR) / ".." / "shared" / "fixtures";
  }
  std::error_code ec;
  if (!std::filesystem::is_directory(dir, ec)) {
    return absl::NotFoundError(absl::StrCat("conformance fixtures not found at ", dir.string(),
                                            " (set LDM_FIXTURES_DIR)"));
  }
  return std::filesystem::canonical(dir);
}

absl::StatusOr<std::vector<std::string>> ModelVariants() {
  LDM_ASSIGN_OR_RETURN(std::filesystem::path root, FixturesDir());
  std::vector<std::string> variants;
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator(root / "models", ec)) {
    if (!entry.is_directory()) continue;
    const std::string name = entry.path().filename().string();
    if (std::filesystem::exists(root / "references" / name / "index.json")) {
      variants.push_back(name);
    }
  }
  if (ec) return absl::NotFoundError(absl::StrCat((root / "models").string(), ": ", ec.message()));
  std::sort(variants.begin(), variants.end());
  if (variants.empty()) {
    return absl::NotFoundError(absl::StrCat(root.string(), ": no model variants with references"));
  }
  return variants;
}

absl::StatusOr<nlohmann::json> ReadFixtureJson(const std::filesystem::path& relative) {
  LDM_ASSIGN_OR_RETURN(std::filesystem::path root, FixturesDir());
  return ReadJsonFile(root / relative);
}

absl::StatusOr<std::vector<nlohmann::json>> ReadJsonLines(const std::filesystem::path& path) {
  std::ifstream in(path);
  if (!in) return absl::NotFoundError(absl::StrCat(path.string(), ": cannot open"));
  std::vector<nlohmann::json> out;
  std::string line;
  int line_no = 0;
  while (std::getline(in, line)) {
    ++line_no;
    if (line.empty()) continue;
    auto j = ParseJsonLenient(line, absl::StrCat(path.string(), ":", line_no));
    if (!j.ok()) return j.status();
    out.push_back(*std::move(j));
  }
  return out;
}

std::filesystem::path TempDir(const std::string& name) {
  const char* base = std::getenv("TEST_TMPDIR");
  std::filesystem::path dir = std::filesystem::path(base ? base : "/tmp") /
                              absl::StrCat("ldm-test-", ::getpid(), "-", name);
  std::filesystem::create_directories(dir);
  return dir;
}

}  // namespace ldm::testing
