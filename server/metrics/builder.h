// Builder<T>: prometheus-cpp-style fluent registration of a Family<T>.
//
//   absl::StatusOr<Family<Histogram>*> latency =
//       BuildHistogram()
//           .Name("ldm_request_duration_seconds")
//           .Help("End-to-end request latency.")
//           .ConstantLabels({{"device", "cuda:0"}})
//           .Buckets(ExponentialBuckets(0.05, 2, 12))
//           .Register(registry);
//
// Unlike prometheus-cpp nothing throws: Register returns the Registry::Register errors (see
// registry.h) and, for a histogram whose Buckets() was never called, INVALID_ARGUMENT (bucket
// layouts are unit-specific, so there is no silent default; pass DefaultBuckets() explicitly).
// A builder is a plain value: not thread-safe, cheap to copy, reusable.
#pragma once

#include <concepts>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "server/metrics/family.h"
#include "server/metrics/registry.h"

namespace ldm::metrics {

template <typename T>
class Builder {
 public:
  Builder& Name(absl::string_view name) {
    options_.name = std::string(name);
    return *this;
  }
  Builder& Help(absl::string_view help) {
    options_.help = std::string(help);
    return *this;
  }
  // Labels attached to every child of the family.
  Builder& ConstantLabels(const Labels& labels) {
    options_.constant_labels = labels;
    return *this;
  }
  // Histogram bucket upper bounds (see histogram.h); required for histograms.
  Builder& Buckets(std::vector<double> upper_bounds) requires std::same_as<T, Histogram> {
    options_.buckets = std::move(upper_bounds);
    buckets_set_ = true;
    return *this;
  }

  absl::StatusOr<Family<T>*> Register(Registry& registry) const;

 private:
  FamilyOptions options_;
  bool buckets_set_ = false;
};

inline Builder<Counter> BuildCounter() { return {}; }
inline Builder<Gauge> BuildGauge() { return {}; }
inline Builder<Histogram> BuildHistogram() { return {}; }

extern template class Builder<Counter>;
extern template class Builder<Gauge>;
extern template class Builder<Histogram>;

}  // namespace ldm::metrics
