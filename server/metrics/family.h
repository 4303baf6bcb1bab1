// Family<T>: one metric name (with its help text, type and constant labels) and its children, one
// child T per distinct label set. T is Counter, Gauge or Histogram.
//
//   Family<Counter>& requests = ...;                 // from BuildCounter()...Register(registry)
//   Counter& ok = requests.Add({{"model", "sd"}, {"code", "OK"}});
//   ok.Increment();                                  // hot path: lock-free
//
// Ownership: the family owns its children. Add() returns a reference that stays valid, and keeps
// naming the same child, for the family's lifetime (families live as long as their Registry);
// callers on hot paths should look a child up once and keep the reference.
// Thread safety: all members may be called concurrently. Add() of an existing child takes a
// shared (reader) lock and a map lookup; creating a child takes the exclusive lock once.
// Errors: TryAdd() returns INVALID_ARGUMENT for an invalid label name, a reserved one ("le" in a
// histogram), or one that repeats a constant label; Add() treats those as a precondition and
// aborts with the message — use it with label names fixed in code.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <type_traits>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "server/metrics/collectable.h"
#include "server/metrics/counter.h"
#include "server/metrics/gauge.h"
#include "server/metrics/histogram.h"
#include "server/metrics/labels.h"
#include "server/metrics/metric_family_snapshot.h"

namespace ldm::metrics {

// What a family is made of; see builder.h for the usual way to fill it in.
struct FamilyOptions {
  std::string name;
  std::string help;
  // Labels attached to every child (e.g. {"device", "cuda:0"}).
  Labels constant_labels;
  // Histogram bucket upper bounds (see histogram.h); must be empty for counters and gauges.
  std::vector<double> buckets;
};

template <typename T>
class Family final : public Collectable {
  static_assert(std::is_same_v<T, Counter> || std::is_same_v<T, Gauge> ||
                    std::is_same_v<T, Histogram>,
                "Family<T> supports Counter, Gauge and Histogram");

 public:
  static constexpr MetricType kType = std::is_same_v<T, Counter> ? MetricType::kCounter
                                      : std::is_same_v<T, Gauge> ? MetricType::kGauge
                                                                 : MetricType::kHistogram;

  // Validates `options` (metric name, constant label names, histogram buckets) and returns
  // INVALID_ARGUMENT naming the problem. Registry::Register calls this; a family created directly
  // is not exported anywhere.
  static absl::StatusOr<std::unique_ptr<Family>> Create(FamilyOptions options);

  Family(const Family&) = delete;
  Family& operator=(const Family&) = delete;

  // The child for `labels`, created on first use. See the header comment for errors.
  T& Add(const Labels& labels);
  absl::StatusOr<T*> TryAdd(const Labels& labels);

  const std::string& name() const { return options_.name; }
  const std::string& help() const { return options_.help; }
  const Labels& constant_labels() const { return options_.constant_labels; }
  const std::vector<double>& buckets() const { return options_.buckets; }
  const FamilyOptions& options() const { return options_; }

  // Number of children.
  size_t size() const;

  MetricFamilySnapshot Collect() const override;

 private:
  explicit Family(FamilyOptions options) : options_(std::move(options)) {}

  absl::Status ValidateChildLabels(const Labels& labels) const;

  const FamilyOptions options_;
  mutable absl::Mutex mu_;
  // std::map keeps children in label order (deterministic output) and never moves the pointees.
  std::map<Labels, std::unique_ptr<T>> children_ ABSL_GUARDED_BY(mu_);
};

extern template class Family<Counter>;
extern template class Family<Gauge>;
extern template class Family<Histogram>;

}  // namespace ldm::metrics
