#include "server/prometheus_scheduler_metrics.h"

#include "absl/status/status.h"
#include "core/common/status_macros.h"
#include "server/metrics/builder.h"
#include "server/metrics/histogram.h"

namespace ldm::server {
namespace {

// Seconds from 10 ms to ~5.5 min: covers a cached tiny model step and a long SDXL request.
std::vector<double> LatencyBuckets() { return metrics::ExponentialBuckets(0.01, 2, 16); }

}  // namespace

absl::StatusOr<std::unique_ptr<PrometheusSchedulerMetrics>> PrometheusSchedulerMetrics::Create(
    metrics::Registry* registry) {
  std::unique_ptr<PrometheusSchedulerMetrics> m(new PrometheusSchedulerMetrics());
  using metrics::BuildCounter;
  using metrics::BuildGauge;
  using metrics::BuildHistogram;
  LDM_ASSIGN_OR_RETURN(m->requests_,
                       BuildCounter()
                           .Name("ldm_requests_total")
                           .Help("Generation requests by model and final status code.")
                           .Register(*registry));
  LDM_ASSIGN_OR_RETURN(m->request_duration_,
                       BuildHistogram()
                           .Name("ldm_request_duration_seconds")
                           .Help("Time from acceptance to the last image (or the error).")
                           .Buckets(LatencyBuckets())
                           .Register(*registry));
  LDM_ASSIGN_OR_RETURN(m->queue_wait_, BuildHistogram()
                                           .Name("ldm_queue_wait_seconds")
                                           .Help("Time a request waited in the queue.")
                                           .Buckets(LatencyBuckets())
                                           .Register(*registry));
  LDM_ASSIGN_OR_RETURN(m->first_preview_,
                       BuildHistogram()
                           .Name("ldm_time_to_first_preview_seconds")
                           .Help("Time from a request's start to its first preview.")
                           .Buckets(LatencyBuckets())
                           .Register(*registry));
  LDM_ASSIGN_OR_RETURN(m->queue_depth_, BuildGauge()
                                            .Name("ldm_queue_depth")
                                            .Help("Requests waiting in the queue.")
                                            .Register(*registry));
  LDM_ASSIGN_OR_RETURN(m->active_jobs_, BuildGauge()
                                            .Name("ldm_active_jobs")
                                            .Help("Jobs (images) in the running batches.")
                                            .Register(*registry));
  LDM_ASSIGN_OR_RETURN(m->batch_rows_, BuildHistogram()
                                           .Name("ldm_batch_rows")
                                           .Help("UNet rows per batched forward.")
                                           .Buckets({1, 2, 4, 8, 16, 32, 64})
                                           .Register(*registry));
  LDM_ASSIGN_OR_RETURN(m->step_duration_,
                       BuildHistogram()
                           .Name("ldm_step_duration_seconds")
                           .Help("Duration of one batched denoising step (one UNet forward).")
                           .Buckets(metrics::ExponentialBuckets(0.001, 2, 16))
                           .Register(*registry));
  LDM_ASSIGN_OR_RETURN(m->images_, BuildCounter()
                                       .Name("ldm_images_generated_total")
                                       .Help("Images delivered, by model.")
                                       .Register(*registry));
  LDM_ASSIGN_OR_RETURN(m->cancelled_, BuildCounter()
                                          .Name("ldm_cancelled_total")
                                          .Help("Requests cancelled, by reason.")
                                          .Register(*registry));
  LDM_ASSIGN_OR_RETURN(m->cache_hits_, BuildCounter()
                                           .Name("ldm_prompt_cache_hits_total")
                                           .Help("Prompt embedding cache hits.")
                                           .Register(*registry));
  LDM_ASSIGN_OR_RETURN(m->cache_misses_, BuildCounter()
                                             .Name("ldm_prompt_cache_misses_total")
                                             .Help("Prompt embedding cache misses.")
                                             .Register(*registry));
  LDM_ASSIGN_OR_RETURN(m->device_memory_, BuildGauge()
                                              .Name("ldm_device_memory_bytes")
                                              .Help("Accelerator memory allocated by ldm.")
                                              .Register(*registry));
  LDM_ASSIGN_OR_RETURN(m->build_info_, BuildGauge()
                                           .Name("ldm_build_info")
                                           .Help("Build information; the value is always 1.")
                                           .Register(*registry));
  // Series that exist from the first scrape (Prometheus rate() needs the zero).
  m->queue_depth_->Add({}).Set(0);
  m->active_jobs_->Add({}).Set(0);
  m->cache_hits_->Add({});
  m->cache_misses_->Add({});
  return m;
}

void PrometheusSchedulerMetrics::RequestFinished(const std::string& model, absl::StatusCode code,
                                                 double duration_seconds) {
  requests_->Add({{"model", model}, {"code", absl::StatusCodeToString(code)}}).Increment();
  request_duration_->Add({}).Observe(duration_seconds);
}

void PrometheusSchedulerMetrics::QueueWait(double seconds) {
  queue_wait_->Add({}).Observe(seconds);
}

void PrometheusSchedulerMetrics::TimeToFirstPreview(double seconds) {
  first_preview_->Add({}).Observe(seconds);
}

void PrometheusSchedulerMetrics::QueueDepth(int depth) { queue_depth_->Add({}).Set(depth); }

void PrometheusSchedulerMetrics::ActiveJobs(int worker, int jobs) {
  // Workers report their own counts; the gauge is their sum.
  int total = 0;
  {
    absl::MutexLock lock(&mu_);
    active_per_worker_[worker] = jobs;
    for (const auto& [w, n] : active_per_worker_) total += n;
    active_jobs_->Add({}).Set(total);
  }
}

void PrometheusSchedulerMetrics::Batch(int rows, double step_seconds) {
  batch_rows_->Add({}).Observe(rows);
  step_duration_->Add({}).Observe(step_seconds);
}

void PrometheusSchedulerMetrics::ImagesGenerated(const std::string& model, int n) {
  images_->Add({{"model", model}}).Increment(n);
}

void PrometheusSchedulerMetrics::Cancelled(const std::string& reason) {
  cancelled_->Add({{"reason", reason}}).Increment();
}

void PrometheusSchedulerMetrics::PromptCacheTotals(uint64_t hits, uint64_t misses) {
  absl::MutexLock lock(&mu_);
  if (hits > cache_hits_seen_) {
    cache_hits_->Add({}).Increment(static_cast<double>(hits - cache_hits_seen_));
    cache_hits_seen_ = hits;
  }
  if (misses > cache_misses_seen_) {
    cache_misses_->Add({}).Increment(static_cast<double>(misses - cache_misses_seen_));
    cache_misses_seen_ = misses;
  }
}

void PrometheusSchedulerMetrics::DeviceMemory(const std::string& device, double bytes) {
  device_memory_->Add({{"device", device}}).Set(bytes);
}

void PrometheusSchedulerMetrics::BuildInfo(const std::string& version,
                                           const std::string& torch_version) {
  build_info_->Add({{"version", version}, {"torch", torch_version}}).Set(1);
}

}  // namespace ldm::server
