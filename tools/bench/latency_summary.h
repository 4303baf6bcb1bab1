// LatencySummary: count, mean, min, max and the p50/p95/p99 percentiles of a sample of durations
// (or any values), as ldm-bench reports them.
//
// Percentiles interpolate linearly between the closest ranks (numpy's default "linear" method:
// the q-quantile of sorted x[0..n-1] is at position q * (n - 1)), so p50 of {1, 2, 3, 4} is 2.5.
// An empty sample gives count 0 and NaN statistics (written as null in JSON).
// Thread safety: plain values.
#pragma once

#include <vector>

#include "nlohmann/json.hpp"

namespace ldm::bench {

struct LatencySummary {
  int count = 0;
  double mean = 0;
  double min = 0;
  double p50 = 0;
  double p95 = 0;
  double p99 = 0;
  double max = 0;

  static LatencySummary Of(std::vector<double> values);
  // The q-quantile (q in [0, 1], clamped) of an ascending sample; NaN when it is empty.
  static double Percentile(const std::vector<double>& sorted, double q);

  // {"count", "mean", "min", "p50", "p95", "p99", "max"}; NaN values as null.
  nlohmann::json ToJson() const;
};

}  // namespace ldm::bench
