#include "client/output_path_pattern.h"

#include <filesystem>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"

namespace ldm::client {

OutputPathPattern::OutputPathPattern(std::string pattern, uint32_t num_images)
    : pattern_(std::move(pattern)) {
  const bool has_placeholder =
      pattern_.find("{i}") != std::string::npos || pattern_.find("{seed}") != std::string::npos;
  if (num_images > 1 && !has_placeholder) {
    // Only the file name's extension counts: "dir.v2/out" has none.
    const std::filesystem::path path(pattern_);
    const std::string ext = path.extension().string();
    const std::string stem = pattern_.substr(0, pattern_.size() - ext.size());
    pattern_ = absl::StrCat(stem, "-{i}", ext);
  }
}

std::string OutputPathPattern::PathFor(uint32_t index, uint64_t seed) const {
  return absl::StrReplaceAll(pattern_,
                             {{"{i}", absl::StrCat(index)}, {"{seed}", absl::StrCat(seed)}});
}

}  // namespace ldm::client
