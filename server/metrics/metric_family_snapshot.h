// Plain-data snapshot of a metric family, produced by Registry::Collect() and consumed by
// SerializeTextFormat(). Values, not references: a snapshot stays valid after the registry changes.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "server/metrics/labels.h"

namespace ldm::metrics {

enum class MetricType { kCounter, kGauge, kHistogram };

// "counter", "gauge" or "histogram", as written on # TYPE lines.
const char* MetricTypeName(MetricType type);

struct HistogramSnapshot {
  // Finite upper bounds, strictly increasing; the +Inf bucket is implicit.
  std::vector<double> upper_bounds;
  // Cumulative counts, one per upper bound plus a last one for +Inf (== count).
  std::vector<uint64_t> cumulative_counts;
  double sum = 0.0;
  uint64_t count = 0;
};

struct MetricSnapshot {
  // The family's constant labels merged with the child's labels.
  Labels labels;
  // Counter or gauge value; unused for histograms.
  double value = 0.0;
  // Histograms only.
  HistogramSnapshot histogram;
};

struct MetricFamilySnapshot {
  std::string name;
  std::string help;
  MetricType type = MetricType::kGauge;
  // Ordered by label set.
  std::vector<MetricSnapshot> metrics;
};

}  // namespace ldm::metrics
