#include "server/metrics/labels.h"

#include "absl/strings/str_cat.h"

namespace ldm::metrics {
namespace {

// Hand-written character classes rather than std::isalpha: the rules are ASCII-only and must not
// depend on the process locale.
bool IsAsciiLetter(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
bool IsAsciiDigit(char c) { return c >= '0' && c <= '9'; }

}  // namespace

absl::Status ValidateMetricName(absl::string_view name) {
  if (name.empty()) return absl::InvalidArgumentError("metric name must not be empty");
  for (size_t i = 0; i < name.size(); ++i) {
    const char c = name[i];
    const bool ok = IsAsciiLetter(c) || c == '_' || c == ':' || (i > 0 && IsAsciiDigit(c));
    if (!ok) {
      return absl::InvalidArgumentError(
          absl::StrCat("invalid metric name \"", name, "\": must match [a-zA-Z_:][a-zA-Z0-9_:]*"));
    }
  }
  return absl::OkStatus();
}

absl::Status ValidateLabelName(absl::string_view name) {
  if (name.empty()) return absl::InvalidArgumentError("label name must not be empty");
  for (size_t i = 0; i < name.size(); ++i) {
    const char c = name[i];
    const bool ok = IsAsciiLetter(c) || c == '_' || (i > 0 && IsAsciiDigit(c));
    if (!ok) {
      return absl::InvalidArgumentError(
          absl::StrCat("invalid label name \"", name, "\": must match [a-zA-Z_][a-zA-Z0-9_]*"));
    }
  }
  if (name.size() >= 2 && name[0] == '_' && name[1] == '_') {
    return absl::InvalidArgumentError(
        absl::StrCat("invalid label name \"", name, "\": names starting with __ are reserved"));
  }
  return absl::OkStatus();
}

absl::Status ValidateLabelNames(const Labels& labels) {
  for (const auto& [name, value] : labels) {
    absl::Status status = ValidateLabelName(name);
    if (!status.ok()) return status;
  }
  return absl::OkStatus();
}

}  // namespace ldm::metrics
