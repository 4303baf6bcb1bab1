#include "tools/bench/latency_summary.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>

namespace ldm::bench {
namespace {

nlohmann::json Number(double v) { return std::isfinite(v) ? nlohmann::json(v) : nlohmann::json(); }

}  // namespace

double LatencySummary::Percentile(const std::vector<double>& sorted, double q) {
  if (sorted.empty()) return std::numeric_limits<double>::quiet_NaN();
  q = std::clamp(q, 0.0, 1.0);
  const double pos = q * static_cast<double>(sorted.size() - 1);
  const size_t lo = static_cast<size_t>(std::floor(pos));
  const size_t hi = std::min(lo + 1, sorted.size() - 1);
  const double frac = pos - static_cast<double>(lo);
  return sorted[lo] + frac * (sorted[hi] - sorted[lo]);
}

LatencySummary LatencySummary::Of(std::vector<double> values) {
  LatencySummary s;
  s.count = static_cast<int>(values.size());
  if (values.empty()) {
    const double nan = std::numeric_limits<double>::quiet_NaN();
    s.mean = s.min = s.p50 = s.p95 = s.p99 = s.max = nan;
    return s;
  }
  std::sort(values.begin(), values.end());
  s.mean = std::accumulate(values.begin(), values.end(), 0.0) / static_cast<double>(values.size());
  s.min = values.front();
  s.max = values.back();
  s.p50 = Percentile(values, 0.50);
  s.p95 = Percentile(values, 0.95);
  s.p99 = Percentile(values, 0.99);
  return s;
}

nlohmann::json LatencySummary::ToJson() const {
  return {{"count", count},     {"mean", Number(mean)}, {"min", Number(min)}, {"p50", Number(p50)},
          {"p95", Number(p95)}, {"p99", Number(p99)},   {"max", Number(max)}};
}

}  // namespace ldm::bench
