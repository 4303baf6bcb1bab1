// Locating the conformance fixtures (../shared/fixtures, see its README.md).
//
// The directory is $LDM_FIXTURES_DIR when set, else ../shared/fixtures beside the repo root.
// Conformance tests must fail, not skip, when it is missing: use ASSERT_OK on FixturesDir().
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "nlohmann/json.hpp"

namespace ldm::testing {

// The fixtures root; NOT_FOUND (with the path tried) when it does not exist.
absl::StatusOr<std::filesystem::path> FixturesDir();

// Every model variant: the sub-folders of models/ that have references/<variant>/index.json.
absl::StatusOr<std::vector<std::string>> ModelVariants();

// Reads a JSON file under the fixtures root (lenient: Infinity/NaN accepted).
absl::StatusOr<nlohmann::json> ReadFixtureJson(const std::filesystem::path& relative);

// Every line of a .jsonl file, parsed.
absl::StatusOr<std::vector<nlohmann::json>> ReadJsonLines(const std::filesystem::path& path);

// A writable scratch directory unique to the calling test (created; removed by the OS later).
std::filesystem::path TempDir(const std::string& name);

}  // namespace ldm::testing
