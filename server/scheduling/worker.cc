#include "server/scheduling/worker.h"

#include <algorithm>
#include <set>
#include <tuple>

#include "absl/strings/str_cat.h"
#include "core/io/png_codec.h"
#include "spdlog/spdlog.h"

namespace ldm::server {

struct Worker::ActiveRequest {
  std::shared_ptr<RequestState> state;
  Engine* engine = nullptr;
  std::string model;                       // the model of the current stage (engine)
  std::vector<std::unique_ptr<Job>> jobs;  // index = image index
  LatentShape shape;
  int rows = 0;
  int step_offset = 0;     // model calls of earlier stages (upscaling)
  bool upscaling = false;  // the jobs are the UpscaleStage's
  // Model calls still to come in later stages (an UpscaleStage not started yet).
  int PendingSteps() const {
    const auto& up = state->request().upscale;
    return up.has_value() && !upscaling ? up->steps : 0;
  }
};

namespace {

using GroupKey = std::tuple<std::string, LatentShape>;

}  // namespace

Worker::Worker(WorkerOptions options, std::map<std::string, std::unique_ptr<Engine>> engines,
               RequestQueue* queue, TaskPool* encoder, const Clock* clock,
               SchedulerMetrics* metrics)
    : options_(std::move(options)),
      engines_(std::move(engines)),
      queue_(queue),
      encoder_(encoder),
      clock_(clock),
      metrics_(metrics) {}

Worker::~Worker() { Stop(); }

void Worker::Start() {
  stop_ = false;
  thread_ = std::thread([this] { Loop(); });
}

void Worker::Stop() {
  stop_ = true;
  queue_->Notify();
  if (thread_.joinable()) thread_.join();
  // The loop thread has ended, so this thread owns active_ and deferred_ now.
  for (auto& r : active_) {
    Defer([this, s = r->state] {
      FinishWithError(*s,
                      absl::UnavailableError(
                          absl::StrCat("request ", s->id(), ": server stopped before it finished")),
                      "shutdown");
    });
  }
  active_.clear();
  UpdateCountsAndSettle();
}

void Worker::Loop() {
  while (!stop_.load()) {
    if (!RunOnce()) queue_->WaitForWork(options_.idle_wait);
  }
}

int Worker::RowsOf(const RequestState& state) const {
  int rows = 0;
  for (const auto& spec : state.request().images) rows += spec.guidance_scale > 1.0 ? 2 : 1;
  return rows;
}

bool Worker::RunOnce() {
  const absl::Time now = clock_->Now();
  SweepCancelled(now);
  admitting_ = true;
  Admit(now);
  UpdateCountsAndSettle();
  admitting_ = false;
  if (active_.empty()) return false;
  StepNextGroup();
  UpdateCountsAndSettle();
  return true;
}

void Worker::UpdateCountsAndSettle() {
  int jobs = 0, rows = 0;
  for (const auto& r : active_) {
    jobs += static_cast<int>(r->jobs.size());
    rows += r->rows;
  }
  active_jobs_ = jobs;
  active_rows_ = rows;
  metrics_->ActiveJobs(options_.index, jobs);
  // Only now may the clients of requests that left active_ hear their outcome (see the header).
  // Drain cannot lose one in between: Scheduler::Drain stops the workers (this thread finishes
  // its iteration) and then waits for the encoder pool.
  std::vector<std::function<void()>> outcomes;
  outcomes.swap(deferred_);
  for (auto& outcome : outcomes) outcome();
}

void Worker::FinishWithError(RequestState& state, const absl::Status& status,
                             const char* cancel_reason) {
  const absl::Time now = clock_->Now();
  if (state.Finish(status, now, [&] {
        metrics_->RequestFinished(state.request().model, status.code(),
                                  absl::ToDoubleSeconds(now - state.accepted_at()));
        if (cancel_reason != nullptr) metrics_->Cancelled(cancel_reason);
      })) {
    spdlog::info("request {} model={} status={} after {:.3f}s", state.id(), state.request().model,
                 absl::StatusCodeToString(status.code()),
                 absl::ToDoubleSeconds(now - state.accepted_at()));
  }
}

void Worker::SweepCancelled(absl::Time now) {
  bool removed = false;
  for (auto& r : active_) {
    RequestState& state = *r->state;
    if (auto reason = state.cancel_reason(); reason.has_value()) {
      Defer([this, s = r->state, status = *reason] { FinishWithError(*s, status, "client"); });
      r.reset();
      removed = true;
    } else if (state.request().deadline.has_value() && now >= *state.request().deadline) {
      Defer([this, s = r->state,
             status = absl::DeadlineExceededError(
                 absl::StrCat("request ", state.id(), ": deadline passed during generation"))] {
        FinishWithError(*s, status, "deadline");
      });
      r.reset();
      removed = true;
    }
  }
  if (removed) {
    active_.erase(std::remove(active_.begin(), active_.end(), nullptr), active_.end());
  }
}

void Worker::Admit(absl::Time now) {
  while (true) {
    int used = 0;
    for (const auto& r : active_) used += r->rows;
    const int free_rows = options_.max_batch_rows - used;
    const bool empty = active_.empty();
    std::shared_ptr<RequestState> next = queue_->PopIf([&](const RequestState& head) {
      // A request larger than the whole batch still runs, alone, so it cannot starve.
      return empty || RowsOf(head) <= free_rows;
    });
    if (next == nullptr) return;
    metrics_->QueueDepth(queue_->size());
    StartRequest(std::move(next), now);
  }
}

void Worker::StartRequest(std::shared_ptr<RequestState> state, absl::Time now) {
  const GenerationRequest& req = state->request();
  if (auto reason = state->cancel_reason(); reason.has_value()) {
    FinishWithError(*state, *reason, "client");
    return;
  }
  auto engine_it = engines_.find(req.model);
  if (engine_it == engines_.end()) {
    FinishWithError(*state,
                    absl::NotFoundError(absl::StrCat("request ", req.request_id, ": model '",
                                                     req.model, "' is not loaded")),
                    nullptr);
    return;
  }
  if (req.deadline.has_value()) {
    int max_steps = 0;
    for (const auto& spec : req.images) max_steps = std::max(max_steps, spec.steps);
    if (req.upscale.has_value()) max_steps += req.upscale->steps;
    const absl::Time eta = now + absl::Seconds(step_seconds_ewma_ * static_cast<double>(max_steps));
    if (now >= *req.deadline || eta > *req.deadline) {
      FinishWithError(*state,
                      absl::DeadlineExceededError(absl::StrCat(
                          "request ", req.request_id, ": deadline cannot be met (estimated ",
                          absl::FormatDuration(eta - now), " of work, ",
                          absl::FormatDuration(std::max(absl::ZeroDuration(), *req.deadline - now)),
                          " left); not started")),
                      "deadline");
      return;
    }
  }
  auto active = std::make_unique<ActiveRequest>();
  active->state = state;
  active->engine = engine_it->second.get();
  active->model = req.model;
  for (const JobSpec& spec : req.images) {
    absl::StatusOr<std::unique_ptr<Job>> job = active->engine->CreateJob(spec);
    if (!job.ok()) {
      FinishWithError(*state, job.status(), nullptr);
      return;
    }
    active->rows += (*job)->rows();
    active->jobs.push_back(*std::move(job));
  }
  active->shape = active->jobs.front()->shape();
  metrics_->QueueWait(absl::ToDoubleSeconds(now - state->accepted_at()));
  state->EmitStarted(options_.device, now);
  active_.push_back(std::move(active));
}

void Worker::StepNextGroup() {
  // Fair turns between (model, shape) groups: step the first group after the one stepped last.
  std::set<GroupKey> keys;
  for (const auto& r : active_) keys.emplace(r->model, r->shape);
  if (next_group_ >= keys.size()) next_group_ = 0;
  const GroupKey key = *std::next(keys.begin(), static_cast<long>(next_group_));
  next_group_ = (next_group_ + 1) % keys.size();

  std::vector<ActiveRequest*> group;
  std::vector<Job*> jobs;
  int rows = 0;
  for (auto& r : active_) {
    if (GroupKey(r->model, r->shape) != key) continue;
    group.push_back(r.get());
    rows += r->rows;
    for (auto& j : r->jobs) jobs.push_back(j.get());
  }
  Engine* engine = group.front()->engine;

  const absl::Time t0 = clock_->Now();
  std::vector<absl::Status> statuses = engine->Step(absl::MakeSpan(jobs));
  const absl::Time t1 = clock_->Now();
  const double step_seconds = absl::ToDoubleSeconds(t1 - t0);
  metrics_->Batch(rows, step_seconds);
  step_seconds_ewma_ =
      step_seconds_ewma_ == 0.0 ? step_seconds : 0.8 * step_seconds_ewma_ + 0.2 * step_seconds;

  size_t k = 0;
  std::vector<ActiveRequest*> finished;
  for (ActiveRequest* r : group) {
    absl::Status failure;
    for (size_t i = 0; i < r->jobs.size(); ++i, ++k) {
      if (!statuses[k].ok() && failure.ok()) failure = statuses[k];
    }
    RequestState& state = *r->state;
    if (!failure.ok()) {
      Fail(*r, failure);
      continue;
    }
    const int step = r->step_offset + r->jobs.front()->steps_done();
    const int total = r->step_offset + r->jobs.front()->total_steps() + r->PendingSteps();
    state.NoteBatchRows(rows);
    state.NoteSteps(step);
    std::vector<PreviewImage> previews;
    const int every = state.request().preview_every;
    if (every > 0 && step % every == 0 && step < total) {
      for (size_t i = 0; i < r->jobs.size(); ++i) {
        absl::StatusOr<Image8> img = engine->Preview(*r->jobs[i], state.request().preview_quality);
        if (!img.ok()) {
          spdlog::warn("request {}: preview failed: {}", state.id(), img.status().ToString());
          continue;
        }
        absl::StatusOr<std::string> png = EncodePng(*img, options_.preview_png_level);
        if (png.ok()) previews.push_back({static_cast<int>(i), *std::move(png)});
      }
    }
    const bool first_preview = !previews.empty() && !state.first_preview_at().has_value();
    const absl::Time now = clock_->Now();
    state.EmitProgress(step, total, std::move(previews), now);
    if (first_preview && state.started_at().has_value()) {
      metrics_->TimeToFirstPreview(absl::ToDoubleSeconds(now - *state.started_at()));
    }
    if (r->jobs.front()->done()) finished.push_back(r);
  }

  // Finished requests of this group: one batched decode, then encoding off the step loop.
  if (!finished.empty()) {
    std::vector<Job*> done_jobs;
    for (ActiveRequest* r : finished) {
      for (auto& j : r->jobs) done_jobs.push_back(j.get());
    }
    std::vector<absl::StatusOr<Image8>> images = engine->Decode(absl::MakeSpan(done_jobs));
    size_t m = 0;
    for (ActiveRequest* r : finished) {
      std::vector<absl::StatusOr<Image8>> mine;
      for (size_t i = 0; i < r->jobs.size(); ++i) mine.push_back(std::move(images[m++]));
      absl::Status failure;
      for (const auto& img : mine) {
        if (!img.ok() && failure.ok()) failure = img.status();
      }
      if (!failure.ok()) {
        Fail(*r, failure);
        continue;
      }
      if (r->PendingSteps() > 0) {
        // First stage of a chained upscale: the decoded images become the upscaler's inputs and
        // the request stays active (its new jobs join the upscaler's group next iteration).
        if (absl::Status s = StartUpscale(*r, mine); !s.ok()) Fail(*r, s);
        continue;
      }
      std::shared_ptr<RequestState> state = r->state;
      for (size_t i = 0; i < r->jobs.size(); ++i) {
        const uint64_t seed = r->jobs[i]->seed();
        auto image = std::make_shared<Image8>(*std::move(mine[i]));
        const int level = options_.image_png_level;
        auto encode = [this, state, image, i, seed, level] {
          absl::StatusOr<std::string> png = EncodePng(*image, level);
          if (!png.ok()) {
            FinishWithError(*state, png.status(), nullptr);
            return;
          }
          const absl::Time now = clock_->Now();
          auto record = [&] {
            metrics_->RequestFinished(state->request().model, absl::StatusCode::kOk,
                                      absl::ToDoubleSeconds(now - state->accepted_at()));
            metrics_->ImagesGenerated(state->request().model, state->num_images());
          };
          if (state->EmitImage(static_cast<int>(i), *std::move(png), seed, image->width,
                               image->height, now, record)) {
            const RequestTimings t = state->Timings(now);
            spdlog::info(
                "request {} model={} size={}x{} steps={} images={} rows_max={} queue={:.3f}s "
                "run={:.3f}s",
                state->id(), state->request().model, image->width, image->height, t.steps,
                state->num_images(), t.batch_rows_max, t.queue_seconds, t.run_seconds);
          }
        };
        // Submitted once the counts no longer include the request (see the header).
        Defer([this, encode] { encoder_->Submit(encode); });
      }
      r->jobs.clear();
      r->state = nullptr;
    }
  }
  active_.erase(std::remove_if(active_.begin(), active_.end(),
                               [](const auto& r) { return r->state == nullptr; }),
                active_.end());
}

absl::Status Worker::StartUpscale(ActiveRequest& request,
                                  std::vector<absl::StatusOr<Image8>>& images) {
  const UpscaleStage& up = *request.state->request().upscale;
  auto it = engines_.find(up.model);
  if (it == engines_.end()) {
    return absl::NotFoundError(absl::StrCat("request ", request.state->id(), ": upscale_model '",
                                            up.model, "' is not loaded"));
  }
  std::vector<std::unique_ptr<Job>> jobs;
  int rows = 0;
  for (size_t i = 0; i < request.jobs.size(); ++i) {
    JobSpec spec;
    spec.request_id = request.state->id();
    spec.low_res_image = *std::move(images[i]);
    spec.steps = up.steps;
    spec.sampler = up.sampler;
    spec.guidance_scale = up.guidance_scale;
    spec.seed = request.jobs[i]->seed();  // the image's own seed drives its upscaling noise too
    absl::StatusOr<std::unique_ptr<Job>> job = it->second->CreateJob(spec);
    if (!job.ok()) return job.status();
    rows += (*job)->rows();
    jobs.push_back(*std::move(job));
  }
  request.step_offset += request.jobs.front()->steps_done();
  request.jobs = std::move(jobs);
  request.engine = it->second.get();
  request.model = up.model;
  request.shape = request.jobs.front()->shape();
  request.rows = rows;
  request.upscaling = true;
  return absl::OkStatus();
}

void Worker::Fail(ActiveRequest& request, const absl::Status& status) {
  absl::Status named = status;
  if (status.message().find(request.state->id()) == absl::string_view::npos) {
    named = absl::Status(status.code(),
                         absl::StrCat("request ", request.state->id(), ": ", status.message()));
  }
  Defer([this, s = request.state, named] { FinishWithError(*s, named, nullptr); });
  request.jobs.clear();
  request.state = nullptr;
}

}  // namespace ldm::server
