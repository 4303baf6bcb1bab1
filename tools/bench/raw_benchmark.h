// RawBenchmark: the engine alone, in process, no gRPC: the limit a server on this device could
// reach with this model (ldm-bench raw).
//
//   1. UNet steps per second at each batch size in `rows` (jobs without guidance, one row each,
//      one Pipeline::Step per model call); rows per second = rows x steps per second.
//   2. Full generations per second at the best batch (the `rows` entry with the most rows per
//      second, capped at `max_rows` when set, or `batch_images` when given): waves of jobs with
//      the requested steps/guidance/sampler/size are created, stepped together to the end,
//      decoded in one batch and PNG-encoded, as the server does.
//   3. A single generation (one job: create, steps, decode, PNG) `single_runs` times: what one
//      request costs alone.
// Also recorded: load time, weight bytes (the parameters as loaded) and weight file bytes,
// resident memory after loading and the process's peak RSS (getrusage), torch threads.
// CUDA timings synchronise the device before reading the clock.
// Errors: the pipeline's load errors; INVALID_ARGUMENT for bad options (naming the flag); errors
// of CreateJob/Step/Decode are returned as they are.
// Thread safety: Run() is for one thread at a time (it sets torch's thread count).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "nlohmann/json.hpp"

namespace ldm::bench {

struct RawOptions {
  std::string model;                                 // a diffusers folder
  std::string device = "cpu";                        // cpu, cuda, cuda:N
  std::string dtype = "float32";                     // float32, float16, bfloat16
  int threads = 0;                                   // torch intra-op threads; 0 = torch's default
  int step_threads = 1;                              // PipelineOptions::step_threads (CPU)
  std::vector<int> rows = {1, 2, 4, 8, 16, 32, 64};  // empty: skip the sweep
  int step_repeats = 5;  // timed steps per batch size (after one warm-up step)
  int max_rows = 0;      // cap on the best batch (the server's --max-batch-rows)
  int size = 0;          // pixels, square; 0 = the model's native size
  int steps = 25;
  double guidance = 5.0;
  std::string sampler;                  // "" = the model's own
  std::string prompt = "a red circle";  // ignored for models without text
  int batch_images = 0;                 // images per wave; 0 = from the best batch
  int waves = 2;                        // 0: skip the batched generations
  int single_runs = 3;                  // 0: skip the single generation
  int png_level = 3;                    // the server's image PNG level
  uint64_t seed = 1;
  // "heap": ldm::HostAllocator::KeepFreedMemory() (core/common), set by main() before loading;
  // "system": glibc's defaults; "auto" (the default, as in ldm-server): heap when the model's
  // largest weight calls for it (HostAllocator::ShouldKeepFreedMemory), decided by Run() after
  // loading. Recorded in the JSON as `malloc` (the flag) and `malloc_applied`.
  std::string malloc = "auto";
  // When set: after each batch size's timed steps, `step_repeats` more steps run under torch's
  // profiler, written as a Chrome trace to <profile_dir>/rows-<n>.json (summarise them with
  // tools/bench/profile_summary.py). The timed figures do not include the profiler.
  std::string profile_dir;
};

class RawBenchmark {
 public:
  // The results as JSON (see docs/BENCHMARKS.md for the fields).
  static absl::StatusOr<nlohmann::json> Run(const RawOptions& options);
};

}  // namespace ldm::bench
