// The scheduling front door: accepts requests into the bounded queue and runs one Worker per
// device. Knows the engines (core), not gRPC.
//
// Enqueue never blocks: unknown model -> NOT_FOUND, draining -> UNAVAILABLE, full queue ->
// RESOURCE_EXHAUSTED, deadline already passed -> DEADLINE_EXCEEDED; all before anything is sent
// to the sink. Drain() stops accepting, lets queued and running requests finish within a timeout,
// then ends the rest with UNAVAILABLE.
// Thread safety: Enqueue/Cancel/accessors are thread-safe; Start/Drain/Stop from one thread.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "core/pipeline/engine.h"
#include "server/scheduling/clock.h"
#include "server/scheduling/generation_request.h"
#include "server/scheduling/request_queue.h"
#include "server/scheduling/request_state.h"
#include "server/scheduling/scheduler_metrics.h"
#include "server/scheduling/task_pool.h"
#include "server/scheduling/worker.h"

namespace ldm::server {

struct SchedulerOptions {
  int max_queue = 256;
  int max_batch_rows = 16;
  int encoder_threads = 2;
  absl::Duration idle_wait = absl::Milliseconds(50);
};

// One device's model replicas.
struct DeviceEngines {
  std::string device;
  std::map<std::string, std::unique_ptr<Engine>> engines;  // model name -> replica
};

class Scheduler {
 public:
  // Every device must hold the same model names. `clock` and `metrics` must outlive the scheduler
  // (metrics may be null).
  Scheduler(SchedulerOptions options, std::vector<DeviceEngines> devices, const Clock* clock,
            SchedulerMetrics* metrics);
  ~Scheduler();

  void Start();

  absl::StatusOr<std::shared_ptr<RequestState>> Enqueue(GenerationRequest request);

  // Cancels a request: removed at once if still queued, otherwise at the next step boundary.
  void Cancel(const std::shared_ptr<RequestState>& request, absl::Status reason);

  // Returns true when everything accepted finished before `timeout`.
  bool Drain(absl::Duration timeout);
  // Stops workers (after Drain, or directly in tests).
  void Stop();

  bool draining() const { return queue_.closed(); }
  int queue_depth() const { return queue_.size(); }
  int active_jobs() const;
  const std::map<std::string, ModelInfo>& models() const { return models_; }
  std::vector<std::string> devices() const;
  // Test hook: the workers, for driving them with RunOnce() without Start().
  const std::vector<std::unique_ptr<Worker>>& workers() const { return workers_; }

 private:
  const SchedulerOptions options_;
  const Clock* const clock_;
  SchedulerMetrics default_metrics_;
  SchedulerMetrics* const metrics_;
  RequestQueue queue_;
  TaskPool encoder_;
  std::map<std::string, ModelInfo> models_;
  std::vector<std::unique_ptr<Worker>> workers_;
  std::atomic<uint64_t> sequence_{0};
  bool started_ = false;
};

}  // namespace ldm::server
