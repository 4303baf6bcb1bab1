// One device's continuous-batching loop (see docs/ARCHITECTURE.md, "Scheduling").
//
// A worker owns one Engine per model (its replicas on its device). Each iteration it
//   1. drops requests that were cancelled or ran past their deadline (their rows free at once),
//   2. admits queued requests while their rows fit in max_batch_rows (a request whose deadline
//      cannot be met is failed with DEADLINE_EXCEEDED without starting),
//   3. picks the next (model, latent shape) group in round-robin order and advances all its jobs
//      with one Engine::Step (one UNet forward),
//   4. emits progress (and previews every k steps), and for finished requests decodes their
//      latents in one batch and hands PNG encoding + delivery to the encoder pool; a request with
//      an UpscaleStage instead turns its decoded images into super-resolution jobs on the
//      upscaler's engine and stays active (a second stage in the same loop: no thread waits, the
//      jobs batch with other jobs of the upscaler's latent shape). Progress counts both stages.
// A job whose step fails fails its request alone; the worker goes on.
// Order of outcomes: what ends a running request (its failure, cancellation, deadline, Stop(), or
// the hand-off of its images to the encoder pool) happens only after the worker's counts and the
// ldm_active_jobs gauge no longer include it, so a client that scrapes /metrics as soon as it
// hears "done" or an error sees settled gauges (the request's own counters are recorded by
// RequestState's finish hook, also before the client hears).
// Thread safety: Start/Stop from one controlling thread; the accessors are thread-safe.
#pragma once

#include <atomic>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/time/time.h"
#include "core/pipeline/engine.h"
#include "server/scheduling/clock.h"
#include "server/scheduling/request_queue.h"
#include "server/scheduling/scheduler_metrics.h"
#include "server/scheduling/task_pool.h"

namespace ldm::server {

struct WorkerOptions {
  int index = 0;
  std::string device = "cpu";
  int max_batch_rows = 16;
  absl::Duration idle_wait = absl::Milliseconds(50);
  int preview_png_level = 1;
  int image_png_level = 3;
};

class Worker {
 public:
  Worker(WorkerOptions options, std::map<std::string, std::unique_ptr<Engine>> engines,
         RequestQueue* queue, TaskPool* encoder, const Clock* clock, SchedulerMetrics* metrics);
  ~Worker();
  Worker(const Worker&) = delete;
  Worker& operator=(const Worker&) = delete;

  // Runs the loop on a new thread until Stop().
  void Start();
  // Stops the loop; requests still running are finished with UNAVAILABLE.
  void Stop();
  // One iteration on the calling thread (tests drive the worker this way with a fake clock).
  // Returns false when there was nothing to do.
  bool RunOnce();

  int active_jobs() const { return active_jobs_.load(); }
  int active_rows() const { return active_rows_.load(); }
  // No admitted work: false from the moment Admit() may take a request off the queue until the
  // counts include it, so Scheduler::Drain (queue empty, then every worker idle) cannot see a
  // request that is in neither place.
  bool idle() const { return !admitting_.load() && active_jobs_.load() == 0; }
  const std::string& device() const { return options_.device; }
  const std::map<std::string, std::unique_ptr<Engine>>& engines() const { return engines_; }

 private:
  struct ActiveRequest;

  void Loop();
  void SweepCancelled(absl::Time now);
  void Admit(absl::Time now);
  void StartRequest(std::shared_ptr<RequestState> state, absl::Time now);
  void StepNextGroup();
  void Deliver(ActiveRequest& request);
  // Replaces a finished first stage's jobs with upscaling jobs built from its decoded images.
  absl::Status StartUpscale(ActiveRequest& request, std::vector<absl::StatusOr<Image8>>& images);
  void Fail(ActiveRequest& request, const absl::Status& status);
  void FinishWithError(RequestState& state, const absl::Status& status, const char* cancel_reason);
  // Updates the counts and the gauge, then runs the outcomes deferred since the last call.
  void UpdateCountsAndSettle();
  // Queues what tells a request's client its outcome until the next UpdateCountsAndSettle.
  void Defer(std::function<void()> outcome) { deferred_.push_back(std::move(outcome)); }
  int RowsOf(const RequestState& state) const;

  const WorkerOptions options_;
  std::map<std::string, std::unique_ptr<Engine>> engines_;
  RequestQueue* const queue_;
  TaskPool* const encoder_;
  const Clock* const clock_;
  SchedulerMetrics* const metrics_;

  // Owned by the loop thread.
  std::vector<std::unique_ptr<ActiveRequest>> active_;
  size_t next_group_ = 0;
  double step_seconds_ewma_ = 0.0;  // per model call, for deadline estimates
  std::vector<std::function<void()>> deferred_;

  std::atomic<int> active_jobs_{0};
  std::atomic<bool> admitting_{false};
  std::atomic<int> active_rows_{0};
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

}  // namespace ldm::server
