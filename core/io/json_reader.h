// Lenient JSON reading for model configs.
//
// Real diffusers configs contain the non-standard tokens Infinity, -Infinity and NaN (Python's
// json module writes them). They are accepted outside string literals and become the
// corresponding double values. Everything else must be standard JSON.
// Errors: NOT_FOUND if the file is missing; INVALID_ARGUMENT with the file name and parser
// message for malformed content.
#pragma once

#include <filesystem>
#include "absl/strings/string_view.h"

#include "absl/status/statusor.h"
#include "nlohmann/json.hpp"

namespace ldm {

absl::StatusOr<nlohmann::json> ParseJsonLenient(absl::string_view text, absl::string_view source);
absl::StatusOr<nlohmann::json> ReadJsonFile(const std::filesystem::path& path);

}  // namespace ldm
