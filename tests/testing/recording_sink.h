// A ResultSink that records every event, for scheduler and RPC tests. Thread-safe.
#pragma once

#include <string>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "server/scheduling/result_sink.h"

namespace ldm::testing {

class RecordingSink : public server::ResultSink {
 public:
  struct Image {
    int index;
    std::string png;
    uint64_t seed;
    int width, height;
  };
  void OnQueued(int position) override { Add("queued"); }
  void OnStarted(const std::string&, const std::string&) override { Add("started"); }
  void OnProgress(int step, int total, std::vector<server::PreviewImage> previews) override {
    absl::MutexLock lock(&mu_);
    events_.push_back("progress");
    steps_.push_back(step);
    preview_counts_.push_back(static_cast<int>(previews.size()));
  }
  void OnImage(int index, std::string png, uint64_t seed, int w, int h) override {
    absl::MutexLock lock(&mu_);
    events_.push_back("image");
    images_.push_back({index, std::move(png), seed, w, h});
  }
  void OnDone(const absl::Status& status, const server::RequestTimings& t) override {
    absl::MutexLock lock(&mu_);
    events_.push_back("done");
    status_ = status;
    timings_ = t;
    done_ = true;
  }

  bool WaitDone(absl::Duration timeout = absl::Seconds(30)) {
    absl::MutexLock lock(&mu_);
    return mu_.AwaitWithTimeout(absl::Condition(&done_), timeout);
  }
  bool done() const { absl::MutexLock l(&mu_); return done_; }
  absl::Status status() const { absl::MutexLock l(&mu_); return status_; }
  std::vector<std::string> events() const { absl::MutexLock l(&mu_); return events_; }
  std::vector<int> steps() const { absl::MutexLock l(&mu_); return steps_; }
  std::vector<int> preview_counts() const { absl::MutexLock l(&mu_); return preview_counts_; }
  std::vector<Image> images() const { absl::MutexLock l(&mu_); return images_; }
  server::RequestTimings timings() const { absl::MutexLock l(&mu_); return timings_; }

 private:
  void Add(const char* e) {
    absl::MutexLock lock(&mu_);
    events_.push_back(e);
  }
  mutable absl::Mutex mu_;
  std::vector<std::string> events_ ABSL_GUARDED_BY(mu_);
  std::vector<int> steps_ ABSL_GUARDED_BY(mu_);
  std::vector<int> preview_counts_ ABSL_GUARDED_BY(mu_);
  std::vector<Image> images_ ABSL_GUARDED_BY(mu_);
  absl::Status status_ ABSL_GUARDED_BY(mu_);
  server::RequestTimings timings_ ABSL_GUARDED_BY(mu_);
  bool done_ ABSL_GUARDED_BY(mu_) = false;
};

}  // namespace ldm::testing
