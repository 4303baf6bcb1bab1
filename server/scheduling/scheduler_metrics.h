// Observations the scheduler reports; the server binds them to Prometheus series
// (server/prometheus_scheduler_metrics) and tests record them. Keeps scheduling independent of
// the metrics library. Thread safety: implementations are called from many threads.
#pragma once

#include <string>

#include "absl/status/status.h"

namespace ldm::server {

class SchedulerMetrics {
 public:
  virtual ~SchedulerMetrics() = default;
  virtual void RequestFinished(const std::string& model, absl::StatusCode code,
                               double duration_seconds) {}
  virtual void QueueWait(double seconds) {}
  virtual void TimeToFirstPreview(double seconds) {}
  virtual void QueueDepth(int depth) {}
  virtual void ActiveJobs(int worker, int jobs) {}
  virtual void Batch(int rows, double step_seconds) {}
  virtual void ImagesGenerated(const std::string& model, int n) {}
  virtual void Cancelled(const std::string& reason) {}
};

}  // namespace ldm::server
