// Prometheus text exposition format, version 0.0.4
// (https://prometheus.io/docs/instrumenting/exposition_formats/).
//
// Output, per family, in the order given:
//   # HELP <name> <help, with \ and newline escaped>      (omitted when help is empty)
//   # TYPE <name> counter|gauge|histogram
//   <name>{<label>="<value>",...} <value>                  (counter, gauge; no braces if no labels)
//   <name>_bucket{...,le="<bound>"} <cumulative count>     (histogram, one per bound, then
//   le="+Inf") <name>_sum{...} <sum> <name>_count{...} <count>
// Label values escape \ as \\, " as \" and newline as \n. Numbers use the shortest text that reads
// back to the same double; non-finite values are +Inf, -Inf and NaN.
//
// All functions are pure and thread-safe.
#pragma once

#include <string>
#include <vector>

#include "absl/strings/string_view.h"
#include "server/metrics/metric_family_snapshot.h"

namespace ldm::metrics {

// The Content-Type of SerializeTextFormat's output.
inline constexpr char kTextFormatContentType[] = "text/plain; version=0.0.4; charset=utf-8";

std::string SerializeTextFormat(const std::vector<MetricFamilySnapshot>& families);

// Escapes \, " and newline for a label value.
std::string EscapeLabelValue(absl::string_view value);
// Escapes \ and newline for a HELP line.
std::string EscapeHelp(absl::string_view help);
// Shortest round-trip decimal form, or +Inf / -Inf / NaN.
std::string FormatValue(double value);

}  // namespace ldm::metrics
