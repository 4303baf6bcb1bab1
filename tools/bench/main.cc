// ldm-bench: load generator (serve, sequential), engine limits (raw) and random-weight model
// folders (make-model) for ldm. See docs/BENCHMARKS.md for the method and tools/bench/
// run_benchmarks.sh for the full suite.
//
// Exit status: 0 done; 1 setup failed (server unreachable, model not loadable, I/O); 2 usage;
// 3 the run finished but some requests failed.
#include <fstream>
#include <iostream>
#include <memory>
#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/clock.h"
#include "client/image_generation_client.h"
#include "tools/bench/bench_command_line.h"
#include "core/common/host_allocator.h"
#include "tools/bench/load_generator.h"
#include "tools/bench/machine_info.h"
#include "tools/bench/random_model_writer.h"
#include "tools/bench/raw_benchmark.h"
#include "tools/bench/request_mix.h"
#include "tools/bench/serve_report.h"

namespace ldm::bench {
namespace {

int Fail(const absl::Status& status) {
  std::cerr << "ldm-bench: error: " << status << "\n";
  return 1;
}

absl::Status WriteJson(const std::string& path, const nlohmann::json& doc) {
  if (path.empty()) return absl::OkStatus();
  std::ofstream out(path, std::ios::trunc);
  out << doc.dump(2) << "\n";
  out.flush();
  if (!out) return absl::InternalError(absl::StrCat("cannot write ", path));
  std::cerr << "ldm-bench: wrote " << path << "\n";
  return absl::OkStatus();
}

absl::StatusOr<v1::ModelDescription> WaitForModel(client::ImageGenerationClient& c,
                                                  const ServeOptions& s) {
  const absl::Time give_up = absl::Now() + absl::Seconds(s.wait_seconds);
  absl::Status last = absl::UnavailableError("not tried");
  do {
    absl::StatusOr<client::ServingStatus> health = c.Health("", {absl::Seconds(5), nullptr});
    if (health.ok() && *health == client::ServingStatus::kServing) {
      absl::StatusOr<v1::ListModelsResponse> models = c.ListModels({absl::Seconds(10), nullptr});
      if (!models.ok()) return models.status();
      for (const v1::ModelDescription& m : models->models()) {
        if (s.mix.model.empty() ? m.is_default() : m.name() == s.mix.model) return m;
      }
      return absl::NotFoundError(
          absl::StrCat("model '", s.mix.model, "' is not served by ", s.target));
    }
    last = health.ok() ? absl::UnavailableError("NOT_SERVING") : health.status();
    absl::SleepFor(absl::Milliseconds(200));
  } while (absl::Now() < give_up);
  return absl::UnavailableError(
      absl::StrCat(s.target, " is not SERVING after ", s.wait_seconds, " s: ", last.ToString()));
}

int RunServe(const BenchCommand& cmd) {
  const ServeOptions& s = cmd.serve;
  client::ClientOptions co;
  co.target = s.target;
  co.max_attempts = 1;  // a benchmark must see every error
  absl::StatusOr<std::unique_ptr<client::ImageGenerationClient>> c =
      client::ImageGenerationClient::Create(co);
  if (!c.ok()) return Fail(c.status());
  absl::StatusOr<v1::ModelDescription> model = WaitForModel(**c, s);
  if (!model.ok()) return Fail(model.status());
  absl::StatusOr<RequestMix> mix = RequestMix::Create(s.mix, *model);
  if (!mix.ok()) {
    std::cerr << "ldm-bench: " << mix.status().message() << "\n";
    return 2;
  }
  LoadGeneratorOptions lo;
  lo.id_prefix = absl::StrCat("bench-", absl::ToUnixSeconds(absl::Now()));
  lo.request_timeout = absl::Seconds(s.request_timeout_seconds);
  LoadGenerator generator(c->get(), &*mix, lo);

  std::vector<nlohmann::json> points;
  auto report = [&](const absl::StatusOr<LoadRun>& run) -> bool {
    if (!run.ok()) {
      std::cerr << "ldm-bench: " << run.status() << "\n";
      return false;
    }
    points.push_back(ServeReport::Summarize(*run));
    std::cerr << ServeReport::Table({points.back()});
    return true;
  };
  const std::string kind = cmd.mode == "sequential" ? "sequential" : "closed";
  for (int concurrency : s.concurrency) {
    absl::StatusOr<LoadRun> run = generator.RunClosedLoop(
        concurrency, s.WarmupFor(kind, concurrency), s.MeasuredFor(kind, concurrency));
    if (run.ok()) run->kind = kind;
    if (!report(run)) return 2;
  }
  for (double rate : s.rates) {
    if (!report(generator.RunOpenLoop(rate, s.WarmupFor("open", 0), s.MeasuredFor("open", 0),
                                      s.arrival_seed))) {
      return 2;
    }
  }
  std::cout << ServeReport::Table(points);
  nlohmann::json server_model = {{"name", model->name()},
                                 {"native_width", model->native_width()},
                                 {"default_steps", model->default_steps()},
                                 {"default_guidance_scale", model->default_guidance_scale()}};
  nlohmann::json doc = {{"tool", "ldm-bench"},
                        {"mode", cmd.mode},
                        {"machine", MachineInfo::Describe()},
                        {"target", s.target},
                        {"model", server_model},
                        {"mix", s.mix.ToJson()},
                        {"started_at", absl::FormatTime(absl::Now(), absl::UTCTimeZone())},
                        {"points", points}};
  if (absl::Status w = WriteJson(cmd.json_path, doc); !w.ok()) return Fail(w);
  const int errors = ServeReport::ErrorCount(points);
  if (errors > 0) {
    std::cerr << "ldm-bench: " << errors << " requests failed\n";
    return 3;
  }
  return 0;
}

int RunRaw(const BenchCommand& cmd) {
  absl::StatusOr<nlohmann::json> result = RawBenchmark::Run(cmd.raw);
  if (!result.ok()) return Fail(result.status());
  const nlohmann::json& r = *result;
  std::cout << absl::StrFormat(
      "model %s  %dx%d  %s  threads %d x %d step threads  load %.2f s\n",
      r["model"].get<std::string>(), r["size"].get<int>(), r["size"].get<int>(),
      r["dtype"].get<std::string>(), r["torch_threads"].get<int>(),
      r["step_threads"].get<int>(), r["load_seconds"].get<double>());
  if (!r["unet_steps"].empty()) {
    std::cout << absl::StrFormat("%6s %12s %12s %12s\n", "rows", "step s", "steps/s", "rows/s");
    for (const auto& p : r["unet_steps"]) {
      std::cout << absl::StrFormat(
          "%6d %12.4f %12.2f %12.2f\n", p["rows"].get<int>(), p["step_seconds"].get<double>(),
          p["steps_per_second"].get<double>(), p["rows_per_second"].get<double>());
    }
  }
  if (r.contains("generation")) {
    const auto& g = r["generation"];
    std::cout << absl::StrFormat(
        "generations: %d images in waves of %d: %.3f images/s (create %.2f s, denoise %.2f s, "
        "decode %.2f s, encode %.2f s)\n",
        g["images"].get<int>(), g["batch_images"].get<int>(), g["images_per_second"].get<double>(),
        g["create_seconds"].get<double>(), g["denoise_seconds"].get<double>(),
        g["decode_seconds"].get<double>(), g["encode_seconds"].get<double>());
  }
  if (r.contains("single")) {
    const auto& s = r["single"];
    std::cout << absl::StrFormat(
        "single generation: %.3f s mean, %.3f s p50 over %d runs (%.4f s per model call, %d "
        "calls)\n",
        s["seconds"]["mean"].get<double>(), s["seconds"]["p50"].get<double>(), s["runs"].get<int>(),
        s["step_seconds"]["p50"].get<double>(), s["model_calls"].get<int>());
  }
  std::cout << absl::StrFormat(
      "weights %.1f MB loaded (%.1f MB files), peak RSS %.1f MB = %.2f x\n",
      r["weight_bytes"].get<double>() / 1e6, r["weight_file_bytes"].get<double>() / 1e6,
      r["peak_rss_bytes"].get<double>() / 1e6, r["peak_rss_over_weight_bytes"].get<double>());
  if (absl::Status w = WriteJson(cmd.json_path, r); !w.ok()) return Fail(w);
  return 0;
}

}  // namespace
}  // namespace ldm::bench

int main(int argc, char** argv) {
  using namespace ldm::bench;
  absl::StatusOr<BenchCommand> cmd =
      BenchCommandLine::Parse(std::vector<std::string>(argv + 1, argv + argc));
  if (!cmd.ok()) {
    std::cerr << "ldm-bench: " << cmd.status().message() << "\n(run ldm-bench --help)\n";
    return 2;
  }
  if (cmd->mode == "help") {
    std::cout << cmd->help;
    return 0;
  }
  if (cmd->mode == "serve" || cmd->mode == "sequential") return RunServe(*cmd);
  if (cmd->mode == "raw") {
    if (cmd->raw.malloc == "heap" && !ldm::HostAllocator::KeepFreedMemory()) {
      std::cerr << "ldm-bench: warning: could not change the malloc policy\n";
      cmd->raw.malloc = "system";
    }
    return RunRaw(*cmd);
  }
  absl::Status s = RandomModelWriter::Write(cmd->make_model);
  if (!s.ok()) return Fail(s);
  std::cout << cmd->make_model.out.string() << "\n";
  return 0;
}
