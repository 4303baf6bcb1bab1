#include "server/metrics/gauge.h"

#include <chrono>

namespace ldm::metrics {

void Gauge::SetToCurrentTime() {
  // system_clock, not steady_clock: the value is meant to be compared with wall-clock time (e.g.
  // time() - ldm_last_success_timestamp_seconds in an alert).
  const auto now = std::chrono::system_clock::now().time_since_epoch();
  Set(std::chrono::duration<double>(now).count());
}

}  // namespace ldm::metrics
