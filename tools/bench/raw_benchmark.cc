#include "tools/bench/raw_benchmark.h"

#include <sys/resource.h>
#include <torch/csrc/autograd/profiler_legacy.h>
#include <torch/torch.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <fstream>

#include "absl/strings/str_cat.h"
#include "core/common/host_allocator.h"
#include "core/common/status_macros.h"
#include "core/common/torch_guard.h"
#include "core/io/diffusers_folder.h"
#include "core/io/png_codec.h"
#include "core/io/safetensors_file.h"
#include "core/io/state_dict_loader.h"
#include "core/pipeline/pipeline.h"
#include "tools/bench/latency_summary.h"
#include "tools/bench/machine_info.h"

namespace ldm::bench {
namespace {

using Clock = std::chrono::steady_clock;

double Since(Clock::time_point t0) {
  return std::chrono::duration<double>(Clock::now() - t0).count();
}

// Waits for queued device work so that the clock measures it (CUDA runs asynchronously). A copy
// to the host on the default stream waits for everything before it; on the CPU it is a no-op.
void Sync(const torch::Device& device) {
  if (device.is_cuda()) torch::zeros({1}, torch::TensorOptions().device(device)).cpu();
}

int64_t PeakRssBytes() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return static_cast<int64_t>(u.ru_maxrss) * 1024;  // Linux reports kilobytes
}

int64_t CurrentRssBytes() {
  std::ifstream statm("/proc/self/statm");
  int64_t pages = 0, resident = 0;
  statm >> pages >> resident;
  return resident * sysconf(_SC_PAGESIZE);
}

int64_t ModuleBytes(const torch::nn::Module& m) {
  int64_t bytes = 0;
  for (const auto& [name, t] : StateDictOf(m)) bytes += t.numel() * t.element_size();
  return bytes;
}

struct Weights {
  int64_t loaded_bytes = 0;
  int64_t file_bytes = 0;
};

// The weights as loaded (UNet and VAE from the modules; the text encoder, which the pipeline does
// not expose, from its file's tensor count at the pipeline's dtype) and the weight files' sizes.
absl::StatusOr<Weights> CountWeights(Pipeline& p, const std::string& folder) {
  Weights w;
  w.loaded_bytes = ModuleBytes(*p.unet()) + ModuleBytes(*p.vae());
  for (const char* part : {"unet", "vae", "text_encoder"}) {
    const std::filesystem::path dir = std::filesystem::path(folder) / part;
    if (!std::filesystem::exists(dir)) continue;
    LDM_ASSIGN_OR_RETURN(std::filesystem::path file, FindWeightsFile(dir));
    w.file_bytes += static_cast<int64_t>(std::filesystem::file_size(file));
    if (std::string(part) != "text_encoder") continue;
    LDM_ASSIGN_OR_RETURN(auto st, SafeTensorsFile::Open(file));
    for (const auto& [name, info] : st->tensors()) {
      int64_t n = 1;
      for (int64_t d : info.shape) n *= d;
      w.loaded_bytes += n * static_cast<int64_t>(c10::elementSize(p.options().dtype));
    }
  }
  return w;
}

JobSpec MakeSpec(const Pipeline& p, const RawOptions& o, int index, double guidance, int steps) {
  JobSpec spec;
  spec.request_id = absl::StrCat("raw-", index);
  if (p.info().supports_text) spec.prompt = o.prompt;
  spec.width = spec.height = o.size;
  spec.steps = steps;
  spec.guidance_scale = guidance;
  spec.sampler = o.sampler;
  spec.seed = o.seed + static_cast<uint64_t>(index);
  return spec;
}

absl::StatusOr<std::vector<std::unique_ptr<Job>>> CreateJobs(Pipeline& p, const RawOptions& o,
                                                             int n, double guidance, int steps) {
  std::vector<std::unique_ptr<Job>> jobs;
  for (int i = 0; i < n; ++i) {
    LDM_ASSIGN_OR_RETURN(std::unique_ptr<Job> job, p.CreateJob(MakeSpec(p, o, i, guidance, steps)));
    jobs.push_back(std::move(job));
  }
  return jobs;
}

std::vector<Job*> Pointers(const std::vector<std::unique_ptr<Job>>& jobs) {
  std::vector<Job*> out;
  for (const auto& j : jobs) out.push_back(j.get());
  return out;
}

absl::Status StepOnce(Pipeline& p, const std::vector<Job*>& jobs) {
  for (const absl::Status& s : p.Step(absl::MakeSpan(jobs))) LDM_RETURN_IF_ERROR(s);
  return absl::OkStatus();
}

// Timings of one batch of generations run to the end, as the server runs them.
struct GenerationTimes {
  double create = 0, denoise = 0, decode = 0, encode = 0;
  int model_calls = 0;
  double total() const { return create + denoise + decode + encode; }
};

absl::StatusOr<GenerationTimes> Generate(Pipeline& p, const RawOptions& o, int n) {
  GenerationTimes t;
  const torch::Device device = p.options().device;
  auto t0 = Clock::now();
  LDM_ASSIGN_OR_RETURN(auto jobs, CreateJobs(p, o, n, o.guidance, o.steps));
  Sync(device);
  t.create = Since(t0);
  const std::vector<Job*> ptrs = Pointers(jobs);
  t0 = Clock::now();
  while (!ptrs.front()->done()) {
    LDM_RETURN_IF_ERROR(StepOnce(p, ptrs));
    ++t.model_calls;
  }
  Sync(device);
  t.denoise = Since(t0);
  t0 = Clock::now();
  std::vector<absl::StatusOr<Image8>> images = p.Decode(absl::MakeSpan(ptrs));
  t.decode = Since(t0);
  t0 = Clock::now();
  for (const auto& img : images) {
    LDM_RETURN_IF_ERROR(img.status());
    LDM_ASSIGN_OR_RETURN(std::string png, EncodePng(*img, o.png_level));
  }
  t.encode = Since(t0);
  return t;
}

absl::StatusOr<torch::ScalarType> ParseDtype(const std::string& dtype) {
  if (dtype == "float32") return torch::kFloat32;
  if (dtype == "float16") return torch::kFloat16;
  if (dtype == "bfloat16") return torch::kBFloat16;
  return absl::InvalidArgumentError(
      absl::StrCat("--dtype '", dtype, "' must be float32, float16 or bfloat16"));
}

absl::Status CheckOptions(const RawOptions& o) {
  for (int r : o.rows) {
    if (r < 1) return absl::InvalidArgumentError(absl::StrCat("--rows: ", r, " must be >= 1"));
  }
  if (o.step_repeats < 1) return absl::InvalidArgumentError("--step-repeats must be >= 1");
  if (o.steps < 1 || o.steps > 1000) {
    return absl::InvalidArgumentError(absl::StrCat("--steps = ", o.steps, " must be in [1, 1000]"));
  }
  if (o.waves < 0 || o.single_runs < 0 || o.batch_images < 0 || o.max_rows < 0) {
    return absl::InvalidArgumentError(
        "--waves, --single-runs, --batch-images and --max-rows must be >= 0");
  }
  if (o.malloc != "auto" && o.malloc != "heap" && o.malloc != "system") {
    return absl::InvalidArgumentError(
        absl::StrCat("--malloc '", o.malloc, "' must be auto, heap or system"));
  }
  if (o.waves > 0 && o.batch_images == 0 && o.rows.empty()) {
    return absl::InvalidArgumentError("--waves needs --batch-images or a --rows sweep");
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<nlohmann::json> RawBenchmark::Run(const RawOptions& o) {
  LDM_RETURN_IF_ERROR(CheckOptions(o));
  LDM_ASSIGN_OR_RETURN(const torch::ScalarType dtype, ParseDtype(o.dtype));
  if (o.threads > 0) torch::set_num_threads(o.threads);
  PipelineOptions po;
  LDM_ASSIGN_OR_RETURN(po.device,
                       TorchGuard("--device", [&]() { return torch::Device(o.device); }));
  po.dtype = dtype;
  po.step_threads = o.step_threads;
  auto t0 = Clock::now();
  LDM_ASSIGN_OR_RETURN(std::unique_ptr<Pipeline> p, Pipeline::Load(o.model, po));
  const double load_seconds = Since(t0);
  const int64_t rss_after_load = CurrentRssBytes();
  LDM_ASSIGN_OR_RETURN(const Weights weights, CountWeights(*p, o.model));
  const int64_t largest_weight_bytes = p->LargestWeightBytes();
  // "heap" was applied by main() before loading; applying it again changes nothing.
  const std::string malloc_applied =
      HostAllocator::ApplyPolicy(o.malloc, largest_weight_bytes) ? "heap" : "system";
  const int size = o.size > 0 ? o.size : p->info().native_width;
  const int rows_per_image = o.guidance > 1.0 ? 2 : 1;

  nlohmann::json out = {
      {"tool", "ldm-bench"},
      {"mode", "raw"},
      {"machine", MachineInfo::Describe()},
      {"model", o.model},
      {"model_name", p->info().name},
      {"device", o.device},
      {"dtype", o.dtype},
      {"torch_threads", torch::get_num_threads()},
      {"step_threads", o.step_threads},
      {"malloc", o.malloc},
      {"malloc_applied", malloc_applied},
      {"largest_weight_bytes", largest_weight_bytes},
      {"torch_version", TORCH_VERSION},
      {"size", size},
      {"steps", o.steps},
      {"guidance", o.guidance},
      {"sampler", o.sampler.empty() ? p->info().default_sampler : o.sampler},
      {"rows_per_image", rows_per_image},
      {"load_seconds", load_seconds},
      {"weight_bytes", weights.loaded_bytes},
      {"weight_file_bytes", weights.file_bytes},
      {"rss_after_load_bytes", rss_after_load},
  };

  // 1. UNet steps per second by batch size.
  nlohmann::json sweep = nlohmann::json::array();
  int best_rows = 0;
  double best_rows_per_second = 0;
  for (int rows : o.rows) {
    RawOptions so = o;
    so.size = size;
    LDM_ASSIGN_OR_RETURN(auto jobs, CreateJobs(*p, so, rows, 1.0, 2 * o.step_repeats + 2));
    const std::vector<Job*> ptrs = Pointers(jobs);
    LDM_RETURN_IF_ERROR(StepOnce(*p, ptrs));  // warm-up: allocator, kernels
    Sync(p->options().device);
    t0 = Clock::now();
    for (int i = 0; i < o.step_repeats; ++i) LDM_RETURN_IF_ERROR(StepOnce(*p, ptrs));
    Sync(p->options().device);
    const double step_seconds = Since(t0) / o.step_repeats;
    if (!o.profile_dir.empty()) {
      std::filesystem::create_directories(o.profile_dir);
      const std::string trace =
          (std::filesystem::path(o.profile_dir) / absl::StrCat("rows-", rows, ".json")).string();
      LDM_RETURN_IF_ERROR(TorchGuard("--profile-dir", [&]() -> absl::Status {
        torch::autograd::profiler::RecordProfile profile(trace);
        for (int i = 0; i < o.step_repeats; ++i) LDM_RETURN_IF_ERROR(StepOnce(*p, ptrs));
        return absl::OkStatus();
      }));
    }
    const double rows_per_second = rows / step_seconds;
    sweep.push_back({{"rows", rows},
                     {"step_seconds", step_seconds},
                     {"steps_per_second", 1.0 / step_seconds},
                     {"rows_per_second", rows_per_second}});
    const bool allowed = o.max_rows == 0 || rows <= o.max_rows;
    if (allowed && rows_per_second > best_rows_per_second) {
      best_rows_per_second = rows_per_second;
      best_rows = rows;
    }
  }
  out["unet_steps"] = sweep;
  out["best_rows"] = best_rows > 0 ? nlohmann::json(best_rows) : nlohmann::json();

  // 2. Full generations at the best batch.
  if (o.waves > 0) {
    const int n = o.batch_images > 0 ? o.batch_images : std::max(1, best_rows / rows_per_image);
    RawOptions go = o;
    go.size = size;
    GenerationTimes sum;
    for (int w = 0; w < o.waves; ++w) {
      go.seed = o.seed + static_cast<uint64_t>(w) * 1000;
      LDM_ASSIGN_OR_RETURN(GenerationTimes t, Generate(*p, go, n));
      sum.create += t.create;
      sum.denoise += t.denoise;
      sum.decode += t.decode;
      sum.encode += t.encode;
      sum.model_calls = t.model_calls;
    }
    const int images = n * o.waves;
    out["generation"] = {{"batch_images", n},
                         {"batch_rows", n * rows_per_image},
                         {"waves", o.waves},
                         {"images", images},
                         {"model_calls", sum.model_calls},
                         {"seconds", sum.total()},
                         {"create_seconds", sum.create},
                         {"denoise_seconds", sum.denoise},
                         {"decode_seconds", sum.decode},
                         {"encode_seconds", sum.encode},
                         {"images_per_second", images / sum.total()}};
  }

  // 3. One generation alone.
  if (o.single_runs > 0) {
    std::vector<double> totals, step_times;
    GenerationTimes last;
    RawOptions go = o;
    go.size = size;
    for (int r = 0; r < o.single_runs; ++r) {
      go.seed = o.seed + 100000 + static_cast<uint64_t>(r);
      LDM_ASSIGN_OR_RETURN(last, Generate(*p, go, 1));
      totals.push_back(last.total());
      step_times.push_back(last.denoise / last.model_calls);
    }
    const LatencySummary s = LatencySummary::Of(totals);
    out["single"] = {{"runs", o.single_runs},
                     {"seconds", s.ToJson()},
                     {"step_seconds", LatencySummary::Of(step_times).ToJson()},
                     {"model_calls", last.model_calls},
                     {"last_create_seconds", last.create},
                     {"last_denoise_seconds", last.denoise},
                     {"last_decode_seconds", last.decode},
                     {"last_encode_seconds", last.encode},
                     {"images_per_second", 1.0 / s.mean}};
  }
  out["peak_rss_bytes"] = PeakRssBytes();
  out["peak_rss_over_weight_bytes"] =
      static_cast<double>(PeakRssBytes()) / static_cast<double>(weights.loaded_bytes);
  return out;
}

}  // namespace ldm::bench
