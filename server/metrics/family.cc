#include "server/metrics/family.h"

#include <cstdio>
#include <cstdlib>
#include <string>

#include "absl/strings/str_cat.h"

namespace ldm::metrics {

template <typename T>
absl::StatusOr<std::unique_ptr<Family<T>>> Family<T>::Create(FamilyOptions options) {
  if (absl::Status s = ValidateMetricName(options.name); !s.ok()) return s;
  for (const auto& [label, value] : options.constant_labels) {
    if (absl::Status s = ValidateLabelName(label); !s.ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat("constant labels of ", options.name, ": ", s.message()));
    }
    if constexpr (std::is_same_v<T, Histogram>) {
      if (label == "le") {
        return absl::InvalidArgumentError(absl::StrCat(
            "histogram ", options.name, ": label name \"le\" is reserved for bucket bounds"));
      }
    }
  }
  if constexpr (std::is_same_v<T, Histogram>) {
    if (absl::Status s = Histogram::ValidateBuckets(options.buckets); !s.ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat("histogram ", options.name, ": ", s.message()));
    }
  } else {
    if (!options.buckets.empty()) {
      return absl::InvalidArgumentError(
          absl::StrCat(options.name, ": buckets are only meaningful for histograms"));
    }
  }
  return std::unique_ptr<Family<T>>(new Family<T>(std::move(options)));
}

template <typename T>
absl::Status Family<T>::ValidateChildLabels(const Labels& labels) const {
  for (const auto& [label, value] : labels) {
    if (absl::Status s = ValidateLabelName(label); !s.ok()) {
      return absl::InvalidArgumentError(absl::StrCat(options_.name, ": ", s.message()));
    }
    if (options_.constant_labels.count(label) > 0) {
      return absl::InvalidArgumentError(
          absl::StrCat(options_.name, ": label \"", label, "\" is already a constant label"));
    }
    if constexpr (std::is_same_v<T, Histogram>) {
      if (label == "le") {
        return absl::InvalidArgumentError(absl::StrCat(
            "histogram ", options_.name, ": label name \"le\" is reserved for bucket bounds"));
      }
    }
  }
  return absl::OkStatus();
}

template <typename T>
absl::StatusOr<T*> Family<T>::TryAdd(const Labels& labels) {
  {
    // Fast path: the child usually exists already.
    absl::ReaderMutexLock lock(&mu_);
    auto it = children_.find(labels);
    if (it != children_.end()) return it->second.get();
  }
  // Validate outside the lock; it only reads immutable options.
  if (absl::Status s = ValidateChildLabels(labels); !s.ok()) return s;
  absl::MutexLock lock(&mu_);
  // Another thread may have created it between the two locks; try_emplace keeps the first one.
  auto [it, inserted] = children_.try_emplace(labels);
  if (inserted) {
    if constexpr (std::is_same_v<T, Histogram>) {
      it->second = std::make_unique<Histogram>(options_.buckets);
    } else {
      it->second = std::make_unique<T>();
    }
  }
  return it->second.get();
}

template <typename T>
T& Family<T>::Add(const Labels& labels) {
  absl::StatusOr<T*> child = TryAdd(labels);
  if (!child.ok()) {
    // Label names come from code, so a bad one is a bug; there is no sane metric to hand back.
    std::fprintf(stderr, "ldm::metrics precondition failed: %s\n",
                 std::string(child.status().message()).c_str());
    std::abort();
  }
  return **child;
}

template <typename T>
size_t Family<T>::size() const {
  absl::ReaderMutexLock lock(&mu_);
  return children_.size();
}

template <typename T>
MetricFamilySnapshot Family<T>::Collect() const {
  MetricFamilySnapshot snapshot;
  snapshot.name = options_.name;
  snapshot.help = options_.help;
  snapshot.type = kType;
  absl::ReaderMutexLock lock(&mu_);
  snapshot.metrics.reserve(children_.size());
  for (const auto& [labels, child] : children_) {
    MetricSnapshot metric;
    metric.labels = options_.constant_labels;
    metric.labels.insert(labels.begin(), labels.end());
    if constexpr (std::is_same_v<T, Histogram>) {
      metric.histogram = child->Snapshot();
    } else {
      metric.value = child->Value();
    }
    snapshot.metrics.push_back(std::move(metric));
  }
  return snapshot;
}

template class Family<Counter>;
template class Family<Gauge>;
template class Family<Histogram>;

}  // namespace ldm::metrics
