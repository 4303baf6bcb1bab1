// Label sets and Prometheus naming rules shared by every part of ldm::metrics.
//
// Naming rules (Prometheus data model):
//   metric name: [a-zA-Z_:][a-zA-Z0-9_:]*
//   label name:  [a-zA-Z_][a-zA-Z0-9_]*, and not starting with "__" (reserved for Prometheus
//   itself).
// Label values may be any UTF-8 text; they are escaped on output (see text_format.h).
//
// All functions here are pure and thread-safe.
#pragma once

#include <map>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"

namespace ldm::metrics {

// A label set: label name -> label value. Ordered, so a label set has one canonical form and the
// exposition output is deterministic.
using Labels = std::map<std::string, std::string>;

// OK, or INVALID_ARGUMENT naming the offending metric name.
absl::Status ValidateMetricName(absl::string_view name);

// OK, or INVALID_ARGUMENT naming the offending label name (bad characters or reserved "__" prefix).
absl::Status ValidateLabelName(absl::string_view name);

// Validates every name in `labels`.
absl::Status ValidateLabelNames(const Labels& labels);

}  // namespace ldm::metrics
