#include "server/metrics/counter.h"

namespace ldm::metrics {

bool Counter::Increment(double delta) {
  // Written as !(delta >= 0) so NaN, which compares false with everything, is rejected too.
  if (!(delta >= 0.0)) return false;
  value_.Add(delta);
  return true;
}

}  // namespace ldm::metrics
