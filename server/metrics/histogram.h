// Histogram: counts observations into fixed buckets (Prometheus "histogram"), e.g.
// ldm_request_duration_seconds. Exported as cumulative name_bucket{le="..."} series ending with
// le="+Inf", plus name_sum and name_count.
//
// Buckets: `upper_bounds` are finite and strictly increasing; an implicit +Inf bucket follows.
// An observation v lands in the first bucket whose upper bound is >= v (Prometheus "le"
// semantics); NaN lands in +Inf only and makes the sum NaN, as in the reference clients.
//
// Thread safety: all members may be called concurrently. Observe is lock-free: a binary search,
// one atomic increment and one CAS loop for the sum. A Snapshot taken while observations are in
// flight is internally consistent for the bucket counts (count == +Inf bucket, always), but the
// sum may lag or lead by the in-flight observations.
// Ownership: normally created and owned by a Family<Histogram> (see family.h).
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <vector>

#include "absl/status/status.h"
#include "server/metrics/atomic_double.h"
#include "server/metrics/metric_family_snapshot.h"

namespace ldm::metrics {

class Histogram {
 public:
  // Precondition: ValidateBuckets(upper_bounds).ok(); violating it aborts with a message
  // (families validate buckets at registration and return the error instead).
  explicit Histogram(std::vector<double> upper_bounds);
  Histogram(const Histogram&) = delete;
  Histogram& operator=(const Histogram&) = delete;

  void Observe(double value);

  // Cumulative counts and sum at this moment.
  HistogramSnapshot Snapshot() const;

  const std::vector<double>& upper_bounds() const { return upper_bounds_; }

  // OK, or INVALID_ARGUMENT if a bound is not finite or the bounds are not strictly increasing.
  // An empty list is valid (a single +Inf bucket).
  static absl::Status ValidateBuckets(const std::vector<double>& upper_bounds);

 private:
  const std::vector<double> upper_bounds_;
  // Non-cumulative per-bucket counts; index upper_bounds_.size() is the +Inf bucket. Accumulated
  // at snapshot time, so Observe touches a single counter.
  std::unique_ptr<std::atomic<uint64_t>[]> bucket_counts_;
  AtomicDouble sum_;
};

// `count` bounds: start, start*factor, start*factor^2, ...
// Precondition (aborts otherwise): start > 0, factor > 1, count >= 1.
std::vector<double> ExponentialBuckets(double start, double factor, int count);

// `count` bounds: start, start+width, start+2*width, ...
// Precondition (aborts otherwise): width > 0, count >= 1, all finite.
std::vector<double> LinearBuckets(double start, double width, int count);

// The Prometheus client default, for latencies in seconds:
// .005 .01 .025 .05 .1 .25 .5 1 2.5 5 10.
std::vector<double> DefaultBuckets();

}  // namespace ldm::metrics
