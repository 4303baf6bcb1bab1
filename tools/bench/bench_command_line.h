// BenchCommandLine: ldm-bench's flags (CLI11), parsed into plain option structs.
//
//   ldm-bench serve      --target HOST:PORT [--concurrency 1,2,4,8,16,32] [--rate R1,R2]
//                        [--requests N] [--warmup N] [mix flags] [--json FILE]
//   ldm-bench sequential --target HOST:PORT [--requests N] [mix flags] [--json FILE]
//   ldm-bench raw        --model DIR [--rows 1,2,...,64] [--steps 25] [--guidance 5] ...
//   ldm-bench make-model --arch sd15|toy|tiny --out DIR [--dtype fp32|fp16] [--seed S]
// Mix flags (serve, sequential): --model, --samplers, --steps, --guidance, --conditioning,
// --sizes, --prompts, --images-per-request, --preview-every, --seed (see RequestMix).
// Errors: INVALID_ARGUMENT with CLI11's message (unknown flag, bad number, missing subcommand).
// --help sets `help` and the text instead. Thread safety: stateless.
#pragma once

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "tools/bench/random_model_writer.h"
#include "tools/bench/raw_benchmark.h"
#include "tools/bench/request_mix.h"

namespace ldm::bench {

struct ServeOptions {
  std::string target = "localhost:50051";
  MixOptions mix;
  std::vector<int> concurrency = {1, 2, 4, 8, 16, 32};  // closed-loop points; may be empty
  std::vector<double> rates;                            // open-loop points (requests/s)
  int requests = 0;  // measured requests per point; 0 = max(8, 4 x concurrency) (closed),
                     // 32 (open), 16 (sequential)
  int warmup = -1;   // -1 = the concurrency (closed), 1 (sequential), 2 (open)
  double request_timeout_seconds = 600;
  double wait_seconds = 120;  // for the server to become SERVING
  uint64_t arrival_seed = 1;  // Poisson arrivals

  // The effective per-point counts.
  int MeasuredFor(const std::string& kind, int concurrency) const;
  int WarmupFor(const std::string& kind, int concurrency) const;
};

struct BenchCommand {
  std::string mode;  // serve, sequential, raw, make-model, help
  std::string help;  // the usage text when mode == "help"
  ServeOptions serve;
  RawOptions raw;
  MakeModelOptions make_model;
  std::string json_path;  // "" = no JSON file
};

class BenchCommandLine {
 public:
  static absl::StatusOr<BenchCommand> Parse(const std::vector<std::string>& args);
};

}  // namespace ldm::bench
