// ldm-server's configuration: command-line flags, each also read from an LDM_* environment
// variable (the flag wins). See docs/API.md#running-the-server for the list.
//
// Errors (Parse): INVALID_ARGUMENT naming the flag for a bad value or an unknown flag; NOT_FOUND
// when no --model is given and the default models/toy-shapes does not exist.
// Thread safety: plain data; Parse is reentrant.
#pragma once

#include <filesystem>
#include <optional>
#include <ostream>
#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace ldm::server {

struct ModelSpec {
  std::string name;            // the API's model name
  std::filesystem::path path;  // a diffusers folder
};

struct ServerConfig {
  std::vector<ModelSpec> models;  // the first one is the default model
  std::string host = "0.0.0.0";
  int port = 50051;         // 0: pick a free port
  int metrics_port = 9090;  // 0: pick a free port; -1: no metrics endpoint
  std::vector<std::string> devices = {"cpu"};
  std::string dtype = "float32";  // float32, float16, bfloat16
  int max_batch_rows = 16;
  int max_queue = 256;
  double drain_timeout_seconds = 30;
  std::string log_level = "info";
  // The CPU thread layout: each UNet/VAE batch runs as up to `step_threads` row chunks in
  // parallel (PipelineOptions::step_threads; CPU devices only), each with `threads` torch
  // intra-op threads. 0 = auto, resolved by Parse with ResolveThreadLayout.
  int threads = 0;
  int step_threads = 0;
  int prompt_cache_size = 256;
  // "heap": glibc keeps freed memory for reuse (core/common/host_allocator.h; 1.8x faster CPU
  // steps on SD 1.5 shapes, but up to 1.5x slower ones on toy-shapes, docs/BENCHMARKS.md);
  // "system": glibc's defaults; "auto": heap when a model on a CPU device has a UNet/VAE weight
  // above glibc's largest adaptive mmap threshold (32 MiB), else system.
  std::string malloc_policy = "auto";

  // Parses argv (and the LDM_* environment). Returns nullopt when --help or --version was
  // handled (the text went to `out`; exit 0).
  static absl::StatusOr<std::optional<ServerConfig>> Parse(int argc, const char* const* argv,
                                                           std::ostream& out);

  // The server's version (the CMake project version).
  static const char* Version();
  // Fills in the auto (0) values of threads / step_threads for a process that may run on `cpus`
  // CPUs: both auto -> step_threads min(2, cpus) and threads cpus / step_threads (a guided image's
  // two rows then fill the CPUs; see docs/BENCHMARKS.md "Thread layout"); only threads given ->
  // step_threads 1 (the layout before --step-threads existed); only step_threads given ->
  // threads max(1, cpus / step_threads). Explicit values are kept.
  void ResolveThreadLayout(int cpus);
  // The CPUs this process may run on (its affinity mask), at least 1.
  static int AvailableCpus();

  // "name=path" or "path" (name: the folder's name).
  static absl::StatusOr<ModelSpec> ParseModel(const std::string& value);
};

}  // namespace ldm::server
