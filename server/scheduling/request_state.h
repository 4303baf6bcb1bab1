// The scheduler's record of one accepted request; also the handle callers use to cancel it.
//
// All events to the request's ResultSink go through this class, which serialises them under one
// mutex and guarantees the sink contract: OnDone exactly once, nothing after it, images counted
// so that OnDone(OK) follows the last image.
// Thread safety: every method is thread-safe.
#pragma once

#include <atomic>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/functional/function_ref.h"
#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "server/scheduling/generation_request.h"
#include "server/scheduling/result_sink.h"

namespace ldm::server {

class RequestState {
 public:
  RequestState(GenerationRequest request, absl::Time accepted_at, uint64_t sequence);

  const GenerationRequest& request() const { return request_; }
  const std::string& id() const { return request_.request_id; }
  int num_images() const { return static_cast<int>(request_.images.size()); }
  uint64_t sequence() const { return sequence_; }
  absl::Time accepted_at() const { return accepted_at_; }

  // Asks for cancellation; the scheduler honours it at the next step boundary (or at once when the
  // request is still queued). The first reason wins.
  void RequestCancel(absl::Status reason);
  // The pending cancellation reason, if any.
  std::optional<absl::Status> cancel_reason() const;
  bool finished() const;

  void EmitQueued(int position);
  void EmitStarted(const std::string& device, absl::Time now);
  void EmitProgress(int step, int total, std::vector<PreviewImage> previews, absl::Time now);
  // Runs once, in the call that finishes the request, under its lock and before the sink hears
  // the outcome: what a client may look for once it has its answer (the request's metrics) is
  // recorded here, so a scrape right after "done" sees it. Must not call back into this state.
  using FinishHook = absl::FunctionRef<void()>;
  // Delivers one image; finishes the request with OK after the last one and then returns true.
  bool EmitImage(
      int index, std::string png, uint64_t seed, int width, int height, absl::Time now,
      FinishHook on_finish = [] {});
  // Finishes the request (no-op when already finished). Returns true if this call finished it.
  bool Finish(
      const absl::Status& status, absl::Time now, FinishHook on_finish = [] {});

  void NoteBatchRows(int rows);
  void NoteSteps(int steps);
  std::optional<absl::Time> started_at() const;
  std::optional<absl::Time> first_preview_at() const;
  RequestTimings Timings(absl::Time now) const;

 private:
  RequestTimings TimingsLocked(absl::Time now) const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  const GenerationRequest request_;
  const absl::Time accepted_at_;
  const uint64_t sequence_;

  mutable absl::Mutex mu_;
  std::optional<absl::Status> cancel_reason_ ABSL_GUARDED_BY(mu_);
  bool finished_ ABSL_GUARDED_BY(mu_) = false;
  int images_delivered_ ABSL_GUARDED_BY(mu_) = 0;
  std::optional<absl::Time> started_at_ ABSL_GUARDED_BY(mu_);
  std::optional<absl::Time> first_preview_at_ ABSL_GUARDED_BY(mu_);
  std::optional<absl::Time> last_image_at_ ABSL_GUARDED_BY(mu_);
  int batch_rows_max_ ABSL_GUARDED_BY(mu_) = 0;
  int steps_ ABSL_GUARDED_BY(mu_) = 0;
};

}  // namespace ldm::server
