// Registry: owns metric families and exports them.
//
//   Registry registry;
//   auto requests = BuildCounter().Name("ldm_requests_total").Help("Requests.").Register(registry);
//   if (!requests.ok()) return requests.status();
//   (*requests)->Add({{"model", "sd"}, {"code", "OK"}}).Increment();
//   std::string text = registry.Serialize();   // Prometheus text format 0.0.4
//
// Ownership: the registry owns every family registered with it; Family pointers and the child
// references they hand out stay valid until the registry is destroyed. Families are never removed.
// Thread safety: all members may be called concurrently (an absl::Mutex guards the family list;
// metric updates never touch it).
// Errors (Register):
//   INVALID_ARGUMENT — bad metric or label name, bad buckets (see Family<T>::Create), the name is
//     already registered with a different type, or one of the names this family exports (for a
//     histogram: name, name_bucket, name_sum, name_count) collides with another family's.
//   ALREADY_EXISTS — the name is registered with the same type but different help, constant
//     labels or buckets.
//   Registering the same name, type and options again returns the existing family (so independent
//   components can declare a shared metric).
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "server/metrics/family.h"
#include "server/metrics/metric_family_snapshot.h"

namespace ldm::metrics {

class Registry {
 public:
  Registry();
  ~Registry();
  Registry(const Registry&) = delete;
  Registry& operator=(const Registry&) = delete;

  // T is Counter, Gauge or Histogram. See the header comment for errors.
  template <typename T>
  absl::StatusOr<Family<T>*> Register(FamilyOptions options);

  // Snapshots of all families, in registration order.
  std::vector<MetricFamilySnapshot> Collect() const;

  // Collect() in the Prometheus text format 0.0.4 (see text_format.h).
  std::string Serialize() const;

 private:
  struct Entry {
    MetricType type;
    std::unique_ptr<Collectable> family;
    const FamilyOptions* options;  // Points into `family`.
  };

  mutable absl::Mutex mu_;
  std::vector<Entry> families_ ABSL_GUARDED_BY(mu_);
};

extern template absl::StatusOr<Family<Counter>*> Registry::Register<Counter>(FamilyOptions);
extern template absl::StatusOr<Family<Gauge>*> Registry::Register<Gauge>(FamilyOptions);
extern template absl::StatusOr<Family<Histogram>*> Registry::Register<Histogram>(FamilyOptions);

}  // namespace ldm::metrics
