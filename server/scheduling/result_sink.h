// Where a request's events go: the gRPC stream reactor, the unary-call collector, or a test.
//
// Order for one request: OnQueued, OnStarted, OnProgress*, OnImage* (one per image), OnDone —
// or OnDone alone (with an error) at any point after OnQueued. OnDone is called exactly once and
// nothing follows it. Calls for one request never overlap (the scheduler serialises them), but
// they come from scheduler threads: implementations must not block for long (a slow client must
// never stall a worker); drop or coalesce previews instead.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/status.h"

namespace ldm::server {

struct PreviewImage {
  int index = 0;     // image index within the request
  std::string png;
};

struct RequestTimings {
  double queue_seconds = 0;
  double run_seconds = 0;
  double total_seconds = 0;
  int steps = 0;
  int batch_rows_max = 0;
};

class ResultSink {
 public:
  virtual ~ResultSink() = default;
  virtual void OnQueued(int position) = 0;
  virtual void OnStarted(const std::string& model, const std::string& device) = 0;
  // `previews` is empty on steps without a preview.
  virtual void OnProgress(int step, int total, std::vector<PreviewImage> previews) = 0;
  virtual void OnImage(int index, std::string png, uint64_t seed, int width, int height) = 0;
  virtual void OnDone(const absl::Status& status, const RequestTimings& timings) = 0;
};

}  // namespace ldm::server
