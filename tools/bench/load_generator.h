// LoadGenerator: drives a running ldm server with the requests of a RequestMix and records what
// every request saw (RequestRecord), for ServeReport to summarise.
//
//   closed loop   `concurrency` streams, each sending its next request as soon as the previous
//                 one ended. The run stops once warmup + measured requests have ended; requests
//                 still in flight are then cancelled and marked abandoned (not errors). The
//                 measurement window runs from the warmup-th to the (warmup + measured)-th
//                 completion, so it sees the server at a steady `concurrency` (the first
//                 requests of all streams start together; their completions are the warm-up).
//                 A sequential run is the closed loop at concurrency 1.
//   open loop     requests arrive at Poisson times (PoissonArrivals) whatever the server does,
//                 each on its own call; warmup + measured arrivals, all awaited. The window runs
//                 from the first measured arrival to the last measured completion.
// Each request is a StreamGenerate through client::ImageGenerationClient (the client's retries
// should be off: max_attempts 1, so that errors are seen). Failed requests are recorded with
// their status code and end their turn like a success, so a failing server cannot hang a run.
// Thread safety: one run at a time; Run* block the caller and use their own threads.
#pragma once

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "client/call_handle.h"
#include "client/image_generation_client.h"
#include "tools/bench/request_mix.h"
#include "tools/bench/request_record.h"

namespace ldm::bench {

struct LoadRun {
  std::string kind;     // "closed", "open" or "sequential"
  int concurrency = 0;  // closed loop streams
  double rate = 0;      // open loop requests/s
  int warmup = 0;
  int measured = 0;
  std::vector<RequestRecord> records;  // every request, in completion order
  std::vector<int> counted;            // indices into records of the measured requests
  double window_start = 0;             // seconds since the run started
  double window_end = 0;
  double wall_seconds = 0;  // the whole run, warm-up and tail included
};

struct LoadGeneratorOptions {
  std::string id_prefix = "bench";
  absl::Duration request_timeout = absl::Seconds(600);
};

class LoadGenerator {
 public:
  // Borrows `client` and `mix`, which must outlive the generator.
  LoadGenerator(client::ImageGenerationClient* client, const RequestMix* mix,
                LoadGeneratorOptions options);

  // INVALID_ARGUMENT when concurrency < 1, warmup < 0 or measured < 1.
  absl::StatusOr<LoadRun> RunClosedLoop(int concurrency, int warmup, int measured);
  // INVALID_ARGUMENT for a bad rate (see PoissonArrivals) or counts.
  absl::StatusOr<LoadRun> RunOpenLoop(double rate, int warmup, int measured, uint64_t seed);

 private:
  using TimePoint = std::chrono::steady_clock::time_point;
  // A run's header; numbers the run (its request ids differ from the previous runs').
  LoadRun NewRun(const std::string& kind, int warmup, int measured);
  // Runs request `index` of the mix to its end; times are relative to `start`.
  RequestRecord RunOne(int index, const std::shared_ptr<client::CallHandle>& handle,
                       TimePoint start);

  client::ImageGenerationClient* const client_;
  const RequestMix* const mix_;
  const LoadGeneratorOptions options_;
  int run_number_ = 0;  // distinguishes the request ids of successive runs
};

}  // namespace ldm::bench
