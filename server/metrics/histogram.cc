#include "server/metrics/histogram.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "absl/strings/str_cat.h"

namespace ldm::metrics {
namespace {

// Preconditions here guard programming errors with constant arguments (bucket layouts are fixed at
// start-up); failing loudly beats exporting a silently wrong layout.
[[noreturn]] void PreconditionFailed(const std::string& message) {
  std::fprintf(stderr, "ldm::metrics precondition failed: %s\n", message.c_str());
  std::abort();
}

}  // namespace

absl::Status Histogram::ValidateBuckets(const std::vector<double>& upper_bounds) {
  for (size_t i = 0; i < upper_bounds.size(); ++i) {
    if (!std::isfinite(upper_bounds[i])) {
      return absl::InvalidArgumentError(
          absl::StrCat("histogram bucket bound ", i, " is ", upper_bounds[i],
                       "; bounds must be finite (the +Inf bucket is implicit)"));
    }
    if (i > 0 && !(upper_bounds[i - 1] < upper_bounds[i])) {
      return absl::InvalidArgumentError(
          absl::StrCat("histogram bucket bounds must be strictly "
                       "increasing; bound ",
                       i, " (", upper_bounds[i], ") follows ", upper_bounds[i - 1]));
    }
  }
  return absl::OkStatus();
}

Histogram::Histogram(std::vector<double> upper_bounds)
    : upper_bounds_(std::move(upper_bounds)),
      bucket_counts_(new std::atomic<uint64_t>[upper_bounds_.size() + 1]) {
  if (absl::Status status = ValidateBuckets(upper_bounds_); !status.ok()) {
    PreconditionFailed(std::string(status.message()));
  }
  for (size_t i = 0; i <= upper_bounds_.size(); ++i) bucket_counts_[i].store(0);
}

void Histogram::Observe(double value) {
  // lower_bound finds the first bound >= value, i.e. the "le" bucket. NaN compares false with
  // every bound and would give an arbitrary index, so it goes to +Inf explicitly.
  const size_t index = std::isnan(value)
                           ? upper_bounds_.size()
                           : static_cast<size_t>(std::lower_bound(upper_bounds_.begin(),
                                                                  upper_bounds_.end(), value) -
                                                 upper_bounds_.begin());
  bucket_counts_[index].fetch_add(1, std::memory_order_relaxed);
  sum_.Add(value);
}

HistogramSnapshot Histogram::Snapshot() const {
  HistogramSnapshot snapshot;
  snapshot.upper_bounds = upper_bounds_;
  snapshot.cumulative_counts.resize(upper_bounds_.size() + 1);
  uint64_t running = 0;
  for (size_t i = 0; i <= upper_bounds_.size(); ++i) {
    running += bucket_counts_[i].load(std::memory_order_relaxed);
    snapshot.cumulative_counts[i] = running;
  }
  // The count is derived from the same loads as the buckets, so count == +Inf bucket even while
  // other threads observe.
  snapshot.count = running;
  snapshot.sum = sum_.Load();
  return snapshot;
}

std::vector<double> ExponentialBuckets(double start, double factor, int count) {
  if (!(start > 0.0) || !(factor > 1.0) || count < 1) {
    PreconditionFailed(absl::StrCat("ExponentialBuckets(start=", start, ", factor=", factor,
                                    ", count=", count,
                                    ") needs start > 0, factor > 1, count >= 1"));
  }
  std::vector<double> bounds;
  bounds.reserve(count);
  double bound = start;
  for (int i = 0; i < count; ++i) {
    bounds.push_back(bound);
    bound *= factor;
  }
  if (!std::isfinite(bounds.back())) {
    PreconditionFailed(absl::StrCat("ExponentialBuckets overflows at count=", count));
  }
  return bounds;
}

std::vector<double> LinearBuckets(double start, double width, int count) {
  if (!std::isfinite(start) || !(width > 0.0) || !std::isfinite(width) || count < 1) {
    PreconditionFailed(absl::StrCat("LinearBuckets(start=", start, ", width=", width,
                                    ", count=", count, ") needs width > 0, count >= 1"));
  }
  std::vector<double> bounds;
  bounds.reserve(count);
  // start + i*width rather than repeated addition, so error does not accumulate across buckets.
  for (int i = 0; i < count; ++i) bounds.push_back(start + i * width);
  return bounds;
}

std::vector<double> DefaultBuckets() {
  return {0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0};
}

}  // namespace ldm::metrics
