#include "server/server_app.h"

#include <torch/torch.h>
#include <torch/version.h>

#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "core/common/host_allocator.h"
#include "core/common/status_macros.h"
#include "core/pipeline/pipeline.h"
#include "server/device_memory.h"
#include "spdlog/spdlog.h"

namespace ldm::server {
namespace {

// --malloc: see ServerConfig::malloc_policy. After loading, so that "auto" can see the models;
// mallopt only changes how later blocks are served, and the buffers it is about come with the
// first steps.
void ApplyMallocPolicy(const std::string& policy, int64_t largest_cpu_weight) {
  const bool heap = HostAllocator::ApplyPolicy(policy, largest_cpu_weight);
  if (!heap && policy == "heap") {
    spdlog::warn("--malloc heap: the C library refused the heap policy; using its defaults");
    return;
  }
  spdlog::info("malloc policy: {} (--malloc {}, largest CPU weight {:.1f} MB)",
               heap ? "heap" : "system", policy, static_cast<double>(largest_cpu_weight) / 1e6);
}

absl::StatusOr<torch::ScalarType> ParseDtype(const std::string& dtype) {
  if (dtype == "float32") return torch::kFloat32;
  if (dtype == "float16") return torch::kFloat16;
  if (dtype == "bfloat16") return torch::kBFloat16;
  return absl::InvalidArgumentError(absl::StrCat("--dtype '", dtype, "' is not supported"));
}

absl::StatusOr<torch::Device> ParseDevice(const std::string& device) {
  try {
    torch::Device d(device);
    if (d.is_cuda() && !torch::cuda::is_available()) {
      return absl::FailedPreconditionError(
          absl::StrCat("--devices: ", device, " requested but CUDA is not available"));
    }
    if (!d.is_cpu() && !d.is_cuda()) {
      return absl::InvalidArgumentError(
          absl::StrCat("--devices: ", device, " is not cpu or cuda:N"));
    }
    return d;
  } catch (const std::exception& e) {
    return absl::InvalidArgumentError(absl::StrCat("--devices: '", device, "': ", e.what()));
  }
}

// One tiny generation: compiles kernels, fills allocator pools and checks that the model runs on
// the device before the server says SERVING.
absl::Status WarmUp(Engine& engine, const std::string& device) {
  const ModelInfo& info = engine.info();
  JobSpec spec;
  spec.request_id = absl::StrCat("warm-up-", info.name, "-", device);
  spec.steps = 1;
  spec.guidance_scale = info.default_guidance;  // exercise the CFG path when the model uses it
  spec.seed = 1;
  if (info.supports_text) spec.prompt = "warm-up";
  if (info.supports_class && info.num_classes > 0) spec.class_label = 0;
  if (info.supports_low_res_image) {
    // A gray input of the native output size / the upscale factor.
    const int w = info.native_width / info.upscale_factor;
    const int h = info.native_height / info.upscale_factor;
    spec.low_res_image = Image8{w, h, 3, std::vector<uint8_t>(static_cast<size_t>(w) * h * 3, 128)};
  }
  LDM_ASSIGN_OR_RETURN(std::unique_ptr<Job> job, engine.CreateJob(spec));
  Job* jobs[] = {job.get()};
  while (!job->done()) {
    std::vector<absl::Status> step = engine.Step(absl::MakeSpan(jobs));
    LDM_RETURN_IF_ERROR(step.front());
  }
  std::vector<absl::StatusOr<Image8>> images = engine.Decode(absl::MakeSpan(jobs));
  return images.front().status();
}

}  // namespace

absl::StatusOr<std::unique_ptr<ServerApp>> ServerApp::Listen(const ServerConfig& config) {
  std::unique_ptr<ServerApp> app(new ServerApp(config));
  LDM_ASSIGN_OR_RETURN(app->metrics_, PrometheusSchedulerMetrics::Create(&app->registry_));
  app->metrics_->BuildInfo(ServerConfig::Version(), TORCH_VERSION);
  if (config.metrics_port >= 0) {
    ServerApp* raw = app.get();
    app->metrics_http_ = std::make_unique<metrics::MetricsHttpServer>(
        &app->registry_, [raw] { raw->CollectSampledMetrics(); });
    LDM_RETURN_IF_ERROR(app->metrics_http_->Start(config.host, config.metrics_port));
  }
  GrpcServerOptions options;
  options.host = config.host;
  options.port = config.port;
  LDM_ASSIGN_OR_RETURN(app->grpc_, GrpcServer::Start(options, app->metrics_.get()));
  return app;
}

void ServerApp::SetTorchThreads(int threads) {
  if (threads > 0) torch::set_num_threads(threads);
}

absl::StatusOr<std::vector<DeviceEngines>> ServerApp::LoadEngines(const ServerConfig& config) {
  // Loading runs torch ops, and the first parallel region of a thread gives that thread its own
  // OpenMP pool for as long as it lives. A pool kept by the main thread beside the worker's
  // makes libgomp count more threads than CPUs and switch every barrier to a futex sleep after
  // ~100 spins (its "throttled" mode): on 2 cores that made a served 1-image step 2.6x slower
  // than the same step in ldm-bench raw (docs/BENCHMARKS.md). A short-lived thread's pool goes
  // away when it exits, as the warm-up threads' do.
  absl::StatusOr<std::vector<DeviceEngines>> result =
      absl::InternalError("model loading did not run");
  std::thread loader([&] { result = LoadEnginesOnThisThread(config); });
  loader.join();
  return result;
}

absl::StatusOr<std::vector<DeviceEngines>> ServerApp::LoadEnginesOnThisThread(
    const ServerConfig& config) {
  LDM_ASSIGN_OR_RETURN(const torch::ScalarType dtype, ParseDtype(config.dtype));
  int64_t largest_cpu_weight = 0;
  std::vector<DeviceEngines> out;
  for (const std::string& device_name : config.devices) {
    LDM_ASSIGN_OR_RETURN(const torch::Device device, ParseDevice(device_name));
    if (device.is_cpu() && dtype != torch::kFloat32) {
      return absl::InvalidArgumentError(absl::StrCat(
          "--dtype ", config.dtype, " needs a CUDA device; --devices is ", device_name));
    }
    DeviceEngines engines;
    engines.device = device_name;
    for (const ModelSpec& model : config.models) {
      const absl::Time t0 = absl::Now();
      PipelineOptions options;
      options.name = model.name;
      options.device = device;
      options.dtype = dtype;
      options.prompt_cache_size = static_cast<size_t>(config.prompt_cache_size);
      options.step_threads = config.step_threads;
      absl::StatusOr<std::unique_ptr<Pipeline>> pipeline = Pipeline::Load(model.path, options);
      if (!pipeline.ok()) {
        return absl::Status(
            pipeline.status().code(),
            absl::StrCat("loading model ", model.name, " from ", model.path.string(), " on ",
                         device_name, ": ", pipeline.status().message()));
      }
      spdlog::info("loaded model {} from {} on {} in {}", model.name, model.path.string(),
                   device_name, absl::FormatDuration(absl::Now() - t0));
      if (device.is_cpu()) {
        largest_cpu_weight = std::max(largest_cpu_weight, (*pipeline)->LargestWeightBytes());
      }
      engines.engines[model.name] = *std::move(pipeline);
    }
    out.push_back(std::move(engines));
  }
  ApplyMallocPolicy(config.malloc_policy, largest_cpu_weight);
  spdlog::info("torch intra-op threads {}, step threads {} (CPU batches split into up to that "
               "many row chunks)",
               torch::get_num_threads(), config.step_threads);
  return out;
}

absl::Status ServerApp::Serve(std::vector<DeviceEngines> engines, std::string default_model) {
  if (engines.empty() || engines.front().engines.empty()) {
    return absl::InvalidArgumentError("no models to serve");
  }
  // Warm up every device in parallel (each device's replicas are independent).
  std::vector<absl::Status> warm(engines.size());
  {
    std::vector<std::thread> threads;
    for (size_t i = 0; i < engines.size(); ++i) {
      threads.emplace_back([&, i] {
        for (auto& [name, engine] : engines[i].engines) {
          const absl::Time t0 = absl::Now();
          absl::Status s = WarmUp(*engine, engines[i].device);
          if (!s.ok()) {
            warm[i] = absl::Status(s.code(), absl::StrCat("warm-up of model ", name, " on ",
                                                          engines[i].device, ": ", s.message()));
            return;
          }
          spdlog::info("warm-up of model {} on {} took {}", name, engines[i].device,
                       absl::FormatDuration(absl::Now() - t0));
        }
      });
    }
    for (auto& t : threads) t.join();
  }
  for (const absl::Status& s : warm) LDM_RETURN_IF_ERROR(s);

  if (default_model.empty()) {
    default_model = config_.models.empty() ? engines.front().engines.begin()->first
                                           : config_.models.front().name;
  }
  SchedulerOptions options;
  options.max_queue = config_.max_queue;
  options.max_batch_rows = config_.max_batch_rows;
  std::vector<std::string> devices;
  for (const auto& d : engines) devices.push_back(d.device);
  scheduler_ =
      std::make_unique<Scheduler>(options, std::move(engines), RealClock::Get(), metrics_.get());
  if (scheduler_->models().count(default_model) == 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("default model '", default_model, "' is not loaded"));
  }
  scheduler_->Start();
  live_scheduler_ = scheduler_.get();
  grpc_->Attach(scheduler_.get(), ModelCatalog(scheduler_->models(), default_model));
  grpc_->SetServing(true);
  std::vector<std::string> names;
  for (const auto& [name, info] : scheduler_->models()) names.push_back(name);
  spdlog::info("serving models [{}] (default {}) on [{}], max_batch_rows={} max_queue={}",
               absl::StrJoin(names, ", "), default_model, absl::StrJoin(devices, ", "),
               config_.max_batch_rows, config_.max_queue);
  return absl::OkStatus();
}

bool ServerApp::Drain() {
  if (drained_) return true;
  drained_ = true;
  grpc_->SetServing(false);
  bool clean = true;
  if (scheduler_ != nullptr) {
    spdlog::info("draining: {} queued, {} running; timeout {}s", scheduler_->queue_depth(),
                 scheduler_->active_jobs(), config_.drain_timeout_seconds);
    clean = scheduler_->Drain(absl::Seconds(config_.drain_timeout_seconds));
  }
  // The scheduler delivered every final event; give the streams a moment to write them out.
  grpc_->Shutdown(absl::Seconds(5));
  if (metrics_http_ != nullptr) metrics_http_->Stop();
  spdlog::info("drained {}", clean ? "cleanly" : "with requests cut off by the timeout");
  return clean;
}

ServerApp::~ServerApp() {
  if (grpc_ != nullptr) grpc_->Shutdown(absl::ZeroDuration());
  if (metrics_http_ != nullptr) metrics_http_->Stop();
  live_scheduler_ = nullptr;
  if (scheduler_ != nullptr) scheduler_->Stop();
}

void ServerApp::CollectSampledMetrics() {
  Scheduler* scheduler = live_scheduler_.load();
  if (scheduler == nullptr) return;
  uint64_t hits = 0, misses = 0;
  for (const auto& worker : scheduler->workers()) {
    for (const auto& [name, engine] : worker->engines()) {
      // stats() reads atomics: safe while the worker steps the same pipeline.
      if (const auto* pipeline = dynamic_cast<const Pipeline*>(engine.get())) {
        const EngineStats s = pipeline->stats();
        hits += s.prompt_cache_hits;
        misses += s.prompt_cache_misses;
      }
    }
    if (std::optional<double> bytes = DeviceMemoryBytes(worker->device()); bytes.has_value()) {
      metrics_->DeviceMemory(worker->device(), *bytes);
    }
  }
  metrics_->PromptCacheTotals(hits, misses);
}

}  // namespace ldm::server
