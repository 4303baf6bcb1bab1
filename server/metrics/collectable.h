// Collectable: anything a Registry can export — in practice a Family<T> (family.h).
//
// Thread safety: Collect() may be called concurrently with itself and with updates to the
// underlying metrics.
#pragma once

#include "server/metrics/metric_family_snapshot.h"

namespace ldm::metrics {

class Collectable {
 public:
  virtual ~Collectable() = default;
  // A value snapshot of the family and all its children.
  virtual MetricFamilySnapshot Collect() const = 0;
};

}  // namespace ldm::metrics
