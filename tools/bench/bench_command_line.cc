#include "tools/bench/bench_command_line.h"

#include <CLI/CLI.hpp>
#include <algorithm>

#include "absl/strings/str_cat.h"

namespace ldm::bench {
namespace {

void AddMixFlags(CLI::App* app, MixOptions& mix) {
  app->add_option("--model", mix.model, "model name on the server (default: its default model)");
  app->add_option("--samplers", mix.samplers,
                  "samplers to mix (ddim, euler, ...; 'default' = the model's)")
      ->delimiter(',');
  app->add_option("--steps", mix.steps, "step counts to mix (0 = the model's default)")
      ->delimiter(',');
  app->add_option("--guidance", mix.guidance, "guidance scales to mix (<= 1: no CFG)")
      ->delimiter(',');
  app->add_option("--conditioning", mix.conditioning,
                  "conditioning kinds to mix: text, class, map, none, or joined by + (class+map)")
      ->delimiter(',');
  app->add_option("--sizes", mix.sizes, "image sizes to mix: 64 or 64x128 (0 = native)")
      ->delimiter(',');
  app->add_option("--prompts", mix.prompts, "distinct prompts (1..16)");
  app->add_option("--images-per-request", mix.num_images, "num_images of each request (1..8)");
  app->add_option("--preview-every", mix.preview_every, "previews every k steps (0 = none)");
  app->add_option("--seed", mix.seed, "seed of the mix and of the images");
}

void AddServerFlags(CLI::App* app, ServeOptions& s, std::string& json_path) {
  app->add_option("--target", s.target, "server address host:port");
  app->add_option("--requests", s.requests, "measured requests per point");
  app->add_option("--warmup", s.warmup, "requests per point before the measurement window");
  app->add_option("--timeout", s.request_timeout_seconds, "per-request deadline, seconds");
  app->add_option("--wait", s.wait_seconds, "seconds to wait for the server to be SERVING");
  app->add_option("--json", json_path, "write the results as JSON");
  AddMixFlags(app, s.mix);
}

}  // namespace

int ServeOptions::MeasuredFor(const std::string& kind, int c) const {
  if (requests > 0) return requests;
  if (kind == "open") return 32;
  if (kind == "sequential") return 16;
  return std::max(8, 4 * c);
}

int ServeOptions::WarmupFor(const std::string& kind, int c) const {
  if (warmup >= 0) return warmup;
  if (kind == "open") return 2;
  if (kind == "sequential") return 1;
  return c;
}

absl::StatusOr<BenchCommand> BenchCommandLine::Parse(const std::vector<std::string>& args) {
  BenchCommand cmd;
  CLI::App app{"ldm-bench: load generator and engine limits for ldm (see docs/BENCHMARKS.md)"};
  app.require_subcommand(1);

  CLI::App* serve = app.add_subcommand("serve", "closed/open loop load against a running server");
  AddServerFlags(serve, cmd.serve, cmd.json_path);
  CLI::Option* concurrency =
      serve
          ->add_option("--concurrency", cmd.serve.concurrency,
                       "closed-loop concurrent streams (the sweep's points; none when only --rate "
                       "is given)")
          ->delimiter(',');
  serve->add_option("--rate", cmd.serve.rates, "open-loop Poisson arrival rates, requests/s")
      ->delimiter(',');
  serve->add_option("--arrival-seed", cmd.serve.arrival_seed, "seed of the Poisson arrivals");

  CLI::App* sequential =
      app.add_subcommand("sequential", "the same requests one at a time through the server");
  AddServerFlags(sequential, cmd.serve, cmd.json_path);

  RawOptions& r = cmd.raw;
  CLI::App* raw = app.add_subcommand("raw", "in-process engine limits (no gRPC)");
  raw->add_option("--model", r.model, "diffusers model folder")->required();
  raw->add_option("--device", r.device, "cpu, cuda or cuda:N");
  raw->add_option("--dtype", r.dtype, "float32, float16 or bfloat16")
      ->check(CLI::IsMember({"float32", "float16", "bfloat16"}));
  raw->add_option("--threads", r.threads, "torch intra-op threads (0: torch's default)");
  raw->add_option("--step-threads", r.step_threads,
                  "CPU: row chunks of each UNet/VAE batch run in parallel, as ldm-server "
                  "--step-threads")
      ->check(CLI::Range(1, 1024));
  raw->add_option("--rows", r.rows, "UNet batch sizes of the sweep")->delimiter(',');
  bool no_sweep = false;
  raw->add_flag("--no-sweep", no_sweep, "skip the batch-size sweep");
  raw->add_option("--step-repeats", r.step_repeats, "timed steps per batch size");
  raw->add_option("--max-rows", r.max_rows, "largest batch eligible as best (server max rows)");
  raw->add_option("--size", r.size, "image size in pixels (0: native)");
  raw->add_option("--steps", r.steps, "sampler steps of the generations");
  raw->add_option("--guidance", r.guidance, "guidance scale of the generations");
  raw->add_option("--sampler", r.sampler, "sampler (default: the model's)");
  raw->add_option("--prompt", r.prompt, "prompt (text models)");
  raw->add_option("--batch-images", r.batch_images, "images per wave (0: best batch)");
  raw->add_option("--waves", r.waves, "batched generation waves (0: skip)");
  raw->add_option("--single-runs", r.single_runs, "single generations (0: skip)");
  raw->add_option("--seed", r.seed, "seed of the generations");
  raw->add_option("--malloc", r.malloc,
                  "heap: keep freed memory for reuse; system: glibc's defaults; auto (default): "
                  "heap when the model has a weight above 32 MiB")
      ->check(CLI::IsMember({"auto", "heap", "system"}));
  raw->add_option("--profile-dir", r.profile_dir,
                  "also profile each batch size's steps (Chrome traces rows-N.json)");
  raw->add_option("--json", cmd.json_path, "write the results as JSON");

  MakeModelOptions& m = cmd.make_model;
  std::string out, tokenizer;
  CLI::App* make = app.add_subcommand("make-model", "write a random-weight diffusers folder");
  make->add_option("--arch", m.arch, "sd15, toy or tiny");
  make->add_option("--out", out, "output folder")->required();
  make->add_option("--dtype", m.dtype, "fp32 or fp16 (UNet and text encoder)")
      ->check(CLI::IsMember({"fp32", "fp16"}));
  make->add_option("--seed", m.seed, "weight seed");
  make->add_option("--tokenizer", tokenizer, "CLIP tokenizer folder (default: the fixtures')");

  std::vector<const char*> argv = {"ldm-bench"};
  for (const std::string& a : args) argv.push_back(a.c_str());
  try {
    app.parse(static_cast<int>(argv.size()), argv.data());
  } catch (const CLI::CallForHelp&) {
    cmd.mode = "help";
    cmd.help = app.help();
    for (CLI::App* sub : app.get_subcommands()) cmd.help = sub->help();
    return cmd;
  } catch (const CLI::ParseError& e) {
    return absl::InvalidArgumentError(e.what());
  }
  cmd.mode = app.get_subcommands().front()->get_name();
  m.out = out;
  m.tokenizer_dir = tokenizer;
  if (cmd.mode == "sequential") {
    cmd.serve.concurrency = {1};
    cmd.serve.rates.clear();
  }
  if (no_sweep) r.rows.clear();
  if (cmd.mode == "serve") {
    if (concurrency->count() == 0 && !cmd.serve.rates.empty()) cmd.serve.concurrency.clear();
    for (int c : cmd.serve.concurrency) {
      if (c < 1) return absl::InvalidArgumentError(absl::StrCat("--concurrency: ", c, " < 1"));
    }
    for (double rate : cmd.serve.rates) {
      if (!(rate > 0)) return absl::InvalidArgumentError(absl::StrCat("--rate: ", rate, " <= 0"));
    }
    if (cmd.serve.concurrency.empty() && cmd.serve.rates.empty()) {
      return absl::InvalidArgumentError("serve: give --concurrency and/or --rate points");
    }
  }
  if (cmd.serve.requests < 0) return absl::InvalidArgumentError("--requests must be >= 0");
  return cmd;
}

}  // namespace ldm::bench
