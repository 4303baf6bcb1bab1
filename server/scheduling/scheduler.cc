#include "server/scheduling/scheduler.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "spdlog/spdlog.h"

namespace ldm::server {

Scheduler::Scheduler(SchedulerOptions options, std::vector<DeviceEngines> devices,
                     const Clock* clock, SchedulerMetrics* metrics)
    : options_(options),
      clock_(clock),
      metrics_(metrics != nullptr ? metrics : &default_metrics_),
      queue_(options.max_queue),
      encoder_(options.encoder_threads) {
  int index = 0;
  for (auto& d : devices) {
    if (models_.empty()) {
      for (const auto& [name, engine] : d.engines) models_[name] = engine->info();
    }
    WorkerOptions wo;
    wo.index = index++;
    wo.device = d.device;
    wo.max_batch_rows = options.max_batch_rows;
    wo.idle_wait = options.idle_wait;
    workers_.push_back(
        std::make_unique<Worker>(wo, std::move(d.engines), &queue_, &encoder_, clock_, metrics_));
  }
}

Scheduler::~Scheduler() { Stop(); }

void Scheduler::Start() {
  if (started_) return;
  started_ = true;
  for (auto& w : workers_) w->Start();
}

absl::StatusOr<std::shared_ptr<RequestState>> Scheduler::Enqueue(GenerationRequest request) {
  if (models_.count(request.model) == 0) {
    std::vector<std::string> names;
    for (const auto& [name, info] : models_) names.push_back(name);
    return absl::NotFoundError(absl::StrCat("request ", request.request_id, ": unknown model '",
                                            request.model,
                                            "' (loaded: ", absl::StrJoin(names, ", "), ")"));
  }
  if (request.images.empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat("request ", request.request_id, ": num_images must be at least 1"));
  }
  const absl::Time now = clock_->Now();
  if (request.deadline.has_value() && *request.deadline <= now) {
    return absl::DeadlineExceededError(
        absl::StrCat("request ", request.request_id, ": deadline already passed; not started"));
  }
  auto state = std::make_shared<RequestState>(std::move(request), now, sequence_.fetch_add(1));
  absl::StatusOr<int> position = queue_.Push(state, [&state](int pos) { state->EmitQueued(pos); });
  if (!position.ok()) {
    metrics_->RequestFinished(state->request().model, position.status().code(), 0.0);
    return position.status();
  }
  metrics_->QueueDepth(queue_.size());
  return state;
}

void Scheduler::Cancel(const std::shared_ptr<RequestState>& request, absl::Status reason) {
  if (queue_.Remove(request.get())) {
    const absl::Time now = clock_->Now();
    request->Finish(reason, now, [&] {
      metrics_->RequestFinished(request->request().model, reason.code(),
                                absl::ToDoubleSeconds(now - request->accepted_at()));
      metrics_->Cancelled("client");
    });
    metrics_->QueueDepth(queue_.size());
    return;
  }
  request->RequestCancel(std::move(reason));
  queue_.Notify();
}

int Scheduler::active_jobs() const {
  int n = 0;
  for (const auto& w : workers_) n += w->active_jobs();
  return n;
}

std::vector<std::string> Scheduler::devices() const {
  std::vector<std::string> out;
  for (const auto& w : workers_) out.push_back(w->device());
  return out;
}

bool Scheduler::Drain(absl::Duration timeout) {
  queue_.Close();
  const absl::Time give_up = absl::Now() + timeout;
  bool clean = false;
  // Real time here: draining waits for real work even when tests inject a fake clock.
  while (absl::Now() < give_up) {
    bool idle = queue_.size() == 0 && encoder_.pending() == 0;
    for (const auto& w : workers_) idle = idle && w->idle();
    if (idle) {
      clean = true;
      break;
    }
    absl::SleepFor(absl::Milliseconds(10));
  }
  if (!clean) {
    spdlog::warn("drain timeout after {}: failing the remaining requests",
                 absl::FormatDuration(timeout));
    for (auto& state : queue_.TakeAll()) {
      state->Finish(absl::UnavailableError(absl::StrCat("request ", state->id(),
                                                        ": server shut down before it started")),
                    clock_->Now());
    }
  }
  Stop();
  encoder_.Wait();
  return clean;
}

void Scheduler::Stop() {
  queue_.Close();
  for (auto& w : workers_) w->Stop();
  encoder_.Wait();
}

}  // namespace ldm::server
