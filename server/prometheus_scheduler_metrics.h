// Binds the scheduler's observations (SchedulerMetrics) to the Prometheus series of
// docs/API.md#metrics in a metrics::Registry:
//   ldm_requests_total{model,code}           counter, every finished or rejected request
//   ldm_request_duration_seconds             histogram, accepted -> finished
//   ldm_queue_wait_seconds                   histogram, accepted -> started
//   ldm_time_to_first_preview_seconds        histogram, started -> first preview
//   ldm_queue_depth                          gauge
//   ldm_active_jobs                          gauge, jobs in the batches of all workers
//   ldm_batch_rows                           histogram, UNet rows per forward (1, 2, 4, ..., 64)
//   ldm_step_duration_seconds                histogram, one batched model call
//   ldm_images_generated_total{model}        counter
//   ldm_cancelled_total{reason}              counter (client, deadline, shutdown)
//   ldm_prompt_cache_hits_total / _misses_total  counters, fed from engine totals (scrape hook)
//   ldm_device_memory_bytes{device}          gauge, CUDA devices only (scrape hook)
//   ldm_build_info{version,torch}            gauge, always 1
// Ownership: the registry is not owned and must outlive this object.
// Thread safety: every method may be called from any thread.
// Errors (Create): the registry's registration errors (e.g. a name taken with another type).
#pragma once

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "server/metrics/family.h"
#include "server/metrics/registry.h"
#include "server/scheduling/scheduler_metrics.h"

namespace ldm::server {

class PrometheusSchedulerMetrics final : public SchedulerMetrics {
 public:
  static absl::StatusOr<std::unique_ptr<PrometheusSchedulerMetrics>> Create(
      metrics::Registry* registry);

  void RequestFinished(const std::string& model, absl::StatusCode code,
                       double duration_seconds) override;
  void QueueWait(double seconds) override;
  void TimeToFirstPreview(double seconds) override;
  void QueueDepth(int depth) override;
  void ActiveJobs(int worker, int jobs) override;
  void Batch(int rows, double step_seconds) override;
  void ImagesGenerated(const std::string& model, int n) override;
  void Cancelled(const std::string& reason) override;

  // Cumulative prompt-cache totals over all engines; the counters advance by the difference to
  // the previous call (totals never go down).
  void PromptCacheTotals(uint64_t hits, uint64_t misses);
  void DeviceMemory(const std::string& device, double bytes);
  void BuildInfo(const std::string& version, const std::string& torch_version);

 private:
  PrometheusSchedulerMetrics() = default;

  metrics::Family<metrics::Counter>* requests_ = nullptr;
  metrics::Family<metrics::Histogram>* request_duration_ = nullptr;
  metrics::Family<metrics::Histogram>* queue_wait_ = nullptr;
  metrics::Family<metrics::Histogram>* first_preview_ = nullptr;
  metrics::Family<metrics::Gauge>* queue_depth_ = nullptr;
  metrics::Family<metrics::Gauge>* active_jobs_ = nullptr;
  metrics::Family<metrics::Histogram>* batch_rows_ = nullptr;
  metrics::Family<metrics::Histogram>* step_duration_ = nullptr;
  metrics::Family<metrics::Counter>* images_ = nullptr;
  metrics::Family<metrics::Counter>* cancelled_ = nullptr;
  metrics::Family<metrics::Counter>* cache_hits_ = nullptr;
  metrics::Family<metrics::Counter>* cache_misses_ = nullptr;
  metrics::Family<metrics::Gauge>* device_memory_ = nullptr;
  metrics::Family<metrics::Gauge>* build_info_ = nullptr;

  absl::Mutex mu_;
  std::map<int, int> active_per_worker_ ABSL_GUARDED_BY(mu_);
  uint64_t cache_hits_seen_ ABSL_GUARDED_BY(mu_) = 0;
  uint64_t cache_misses_seen_ ABSL_GUARDED_BY(mu_) = 0;
};

}  // namespace ldm::server
