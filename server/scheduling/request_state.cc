#include "server/scheduling/request_state.h"

#include <algorithm>

namespace ldm::server {

RequestState::RequestState(GenerationRequest request, absl::Time accepted_at, uint64_t sequence)
    : request_(std::move(request)), accepted_at_(accepted_at), sequence_(sequence) {}

void RequestState::RequestCancel(absl::Status reason) {
  absl::MutexLock lock(&mu_);
  if (!cancel_reason_.has_value() && !finished_) cancel_reason_ = std::move(reason);
}

std::optional<absl::Status> RequestState::cancel_reason() const {
  absl::MutexLock lock(&mu_);
  return cancel_reason_;
}

bool RequestState::finished() const {
  absl::MutexLock lock(&mu_);
  return finished_;
}

void RequestState::EmitQueued(int position) {
  absl::MutexLock lock(&mu_);
  if (!finished_) request_.sink->OnQueued(position);
}

void RequestState::EmitStarted(const std::string& device, absl::Time now) {
  absl::MutexLock lock(&mu_);
  if (finished_ || started_at_.has_value()) return;
  // The worker reads its clock once per scheduling pass, so a request accepted during that pass
  // carries a later accepted_at than the pass's `now`: never report a negative queue wait.
  started_at_ = std::max(now, accepted_at_);
  request_.sink->OnStarted(request_.model, device);
}

void RequestState::EmitProgress(int step, int total, std::vector<PreviewImage> previews,
                                absl::Time now) {
  absl::MutexLock lock(&mu_);
  if (finished_) return;
  if (!previews.empty() && !first_preview_at_.has_value()) first_preview_at_ = now;
  request_.sink->OnProgress(step, total, std::move(previews));
}

bool RequestState::EmitImage(int index, std::string png, uint64_t seed, int width, int height,
                             absl::Time now, FinishHook on_finish) {
  absl::MutexLock lock(&mu_);
  if (finished_) return false;
  request_.sink->OnImage(index, std::move(png), seed, width, height);
  ++images_delivered_;
  last_image_at_ = now;
  if (images_delivered_ == num_images()) {
    finished_ = true;
    on_finish();
    request_.sink->OnDone(absl::OkStatus(), TimingsLocked(now));
    return true;
  }
  return false;
}

bool RequestState::Finish(const absl::Status& status, absl::Time now, FinishHook on_finish) {
  absl::MutexLock lock(&mu_);
  if (finished_) return false;
  finished_ = true;
  on_finish();
  request_.sink->OnDone(status, TimingsLocked(now));
  return true;
}

void RequestState::NoteBatchRows(int rows) {
  absl::MutexLock lock(&mu_);
  batch_rows_max_ = std::max(batch_rows_max_, rows);
}

void RequestState::NoteSteps(int steps) {
  absl::MutexLock lock(&mu_);
  steps_ = std::max(steps_, steps);
}

std::optional<absl::Time> RequestState::started_at() const {
  absl::MutexLock lock(&mu_);
  return started_at_;
}

std::optional<absl::Time> RequestState::first_preview_at() const {
  absl::MutexLock lock(&mu_);
  return first_preview_at_;
}

RequestTimings RequestState::Timings(absl::Time now) const {
  absl::MutexLock lock(&mu_);
  return TimingsLocked(now);
}

RequestTimings RequestState::TimingsLocked(absl::Time now) const {
  RequestTimings t;
  const absl::Time start = started_at_.value_or(now);
  t.queue_seconds = absl::ToDoubleSeconds(start - accepted_at_);
  t.run_seconds = started_at_.has_value() ? absl::ToDoubleSeconds(now - *started_at_) : 0.0;
  t.total_seconds = absl::ToDoubleSeconds(now - accepted_at_);
  t.steps = steps_;
  t.batch_rows_max = batch_rows_max_;
  return t;
}

}  // namespace ldm::server
