// ServeReport: turns a LoadRun into the figures ldm-bench reports (JSON and a text table).
//
// Per run ("point"), over the measured requests that succeeded unless stated:
//   images_per_second      images delivered in the window / window length
//   latency_seconds        sent -> call returned (LatencySummary)
//   queue_wait_seconds     the server's accepted -> started (DoneEvent timings)
//   client_queue_wait_seconds   sent -> StartedEvent received
//   time_to_first_preview_seconds / _steps   admission (RequestRecord::Admitted: sent + the
//                          server's queue wait) -> first ProgressEvent with previews, in seconds
//                          and in units of that request's own step time
//   started_to_first_preview_seconds   the same from the StartedEvent's arrival (the event can
//                          wait behind a write in flight, so this one reads low)
//   step_seconds           time per model call between the first and last ProgressEvents
//   batch_rows_max         the largest UNet batch each request took part in
//   errors                 every request of the run that failed (warm-up included; abandoned
//                          requests excluded), by status code, with the first few messages
// Thread safety: stateless.
#pragma once

#include <string>
#include <vector>

#include "nlohmann/json.hpp"
#include "tools/bench/load_generator.h"

namespace ldm::bench {

class ServeReport {
 public:
  static nlohmann::json Summarize(const LoadRun& run);
  // One line per point: kind, concurrency/rate, requests, img/s, latency p50/p95/p99, queue
  // wait p50, time to first preview p50 (s and steps), step time p50, errors.
  static std::string Table(const std::vector<nlohmann::json>& points);
  // Total errors over the points (for the exit status).
  static int ErrorCount(const std::vector<nlohmann::json>& points);
};

}  // namespace ldm::bench
