// RequestRecord: what the load generator observed about one request. Times are seconds since the
// start of the run (steady clock); -1 means "never happened".
#pragma once

#include <string>

#include "absl/status/status.h"

namespace ldm::bench {

struct RequestRecord {
  int index = 0;  // arrival order within the run
  std::string request_id;
  double sent = -1;     // the call started
  double queued = -1;   // QueuedEvent received
  double started = -1;  // StartedEvent received (the worker admitted it into its batch)
  double first_progress = -1;
  int first_step = 0;         // step of the first ProgressEvent
  double first_preview = -1;  // first ProgressEvent that carried previews
  double last_progress = -1;
  int last_step = 0;  // step of the last ProgressEvent
  int total_steps = 0;
  double done = -1;  // the call returned (success or error)
  int images = 0;    // ImageEvents received
  absl::StatusCode code = absl::StatusCode::kUnknown;
  std::string message;     // the error message, when code is not OK
  bool abandoned = false;  // cancelled by the generator when the run ended: neither success
                           // nor error
  // From the DoneEvent's timings (server side); -1 when there was none.
  double server_queue_seconds = -1;
  double server_run_seconds = -1;
  int batch_rows_max = 0;

  bool ok() const { return code == absl::StatusCode::kOk; }
  // Seconds per model call while the request ran, between its first and last ProgressEvents
  // (both delivered the same way, so event delivery delays cancel); -1 with fewer than two.
  double StepSeconds() const {
    return (first_progress >= 0 && last_step > first_step)
               ? (last_progress - first_progress) / (last_step - first_step)
               : -1;
  }
  // When the worker admitted the request, on this clock: sent + the server's queue wait
  // (accepted -> started). Later than the true admission by the request's transit and
  // validation only (sub-millisecond on a local host), unlike the StartedEvent's arrival, which
  // can wait behind a write still in flight. -1 without a DoneEvent.
  double Admitted() const { return server_queue_seconds >= 0 ? sent + server_queue_seconds : -1; }
};

}  // namespace ldm::bench
