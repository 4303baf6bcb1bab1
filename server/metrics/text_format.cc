#include "server/metrics/text_format.h"

#include <charconv>
#include <cmath>
#include <system_error>

#include "absl/strings/str_cat.h"

namespace ldm::metrics {
namespace {

// Appends {a="x",b="y"} (or nothing for an empty set), with an optional extra label last — the
// histogram's "le", which by convention follows the others.
void AppendLabels(std::string* out, const Labels& labels, absl::string_view extra_name = {},
                  absl::string_view extra_value = {}) {
  if (labels.empty() && extra_name.empty()) return;
  out->push_back('{');
  bool first = true;
  auto append_one = [&](absl::string_view name, absl::string_view value) {
    if (!first) out->push_back(',');
    first = false;
    absl::StrAppend(out, name, "=\"", EscapeLabelValue(value), "\"");
  };
  for (const auto& [name, value] : labels) append_one(name, value);
  if (!extra_name.empty()) append_one(extra_name, extra_value);
  out->push_back('}');
}

void AppendSample(std::string* out, absl::string_view name, const Labels& labels,
                  const std::string& value, absl::string_view extra_name = {},
                  absl::string_view extra_value = {}) {
  out->append(name.data(), name.size());
  AppendLabels(out, labels, extra_name, extra_value);
  absl::StrAppend(out, " ", value, "\n");
}

}  // namespace

std::string EscapeLabelValue(absl::string_view value) {
  std::string out;
  out.reserve(value.size());
  for (char c : value) {
    switch (c) {
      case '\\':
        out += "\\\\";
        break;
      case '"':
        out += "\\\"";
        break;
      case '\n':
        out += "\\n";
        break;
      default:
        out.push_back(c);
    }
  }
  return out;
}

std::string EscapeHelp(absl::string_view help) {
  std::string out;
  out.reserve(help.size());
  for (char c : help) {
    switch (c) {
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      default:
        out.push_back(c);
    }
  }
  return out;
}

std::string FormatValue(double value) {
  if (std::isnan(value)) return "NaN";
  if (std::isinf(value)) return value > 0 ? "+Inf" : "-Inf";
  // std::to_chars without a format gives the shortest string that parses back to the same double,
  // independent of the C locale (printf("%g") is neither).
  char buffer[64];
  const std::to_chars_result result = std::to_chars(buffer, buffer + sizeof(buffer), value);
  if (result.ec != std::errc()) return absl::StrCat(value);  // Cannot happen with 64 bytes.
  return std::string(buffer, result.ptr);
}

std::string SerializeTextFormat(const std::vector<MetricFamilySnapshot>& families) {
  std::string out;
  for (const MetricFamilySnapshot& family : families) {
    if (!family.help.empty()) {
      absl::StrAppend(&out, "# HELP ", family.name, " ", EscapeHelp(family.help), "\n");
    }
    absl::StrAppend(&out, "# TYPE ", family.name, " ", MetricTypeName(family.type), "\n");
    for (const MetricSnapshot& metric : family.metrics) {
      if (family.type != MetricType::kHistogram) {
        AppendSample(&out, family.name, metric.labels, FormatValue(metric.value));
        continue;
      }
      const HistogramSnapshot& h = metric.histogram;
      const std::string bucket_name = absl::StrCat(family.name, "_bucket");
      for (size_t i = 0; i < h.upper_bounds.size(); ++i) {
        AppendSample(&out, bucket_name, metric.labels, absl::StrCat(h.cumulative_counts[i]), "le",
                     FormatValue(h.upper_bounds[i]));
      }
      AppendSample(&out, bucket_name, metric.labels, absl::StrCat(h.count), "le", "+Inf");
      AppendSample(&out, absl::StrCat(family.name, "_sum"), metric.labels, FormatValue(h.sum));
      AppendSample(&out, absl::StrCat(family.name, "_count"), metric.labels, absl::StrCat(h.count));
    }
  }
  return out;
}

}  // namespace ldm::metrics
