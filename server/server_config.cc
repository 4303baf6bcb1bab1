#include "server/server_config.h"

#include <sched.h>
#include <unistd.h>

#include <algorithm>
#include <thread>

#include <CLI/CLI.hpp>
#include <set>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"

namespace ldm::server {
namespace {

// A shipped model (`name` = toy-shapes, toy-shapes-sr), looked up beside the binary
// (build/ldm-server -> repo root) and in the source tree the binary was built from.
std::optional<std::filesystem::path> DefaultModelFolder(const std::string& name) {
  std::vector<std::filesystem::path> candidates;
  std::error_code ec;
  const std::filesystem::path exe = std::filesystem::read_symlink("/proc/self/exe", ec);
  if (!ec) candidates.push_back(exe.parent_path().parent_path() / "models" / name);
#ifdef LDM_SOURCE_DIR
  candidates.push_back(std::filesystem::path(LDM_SOURCE_DIR) / "models" / name);
#endif
  for (const auto& c : candidates) {
    if (std::filesystem::is_directory(c, ec)) return c;
  }
  return std::nullopt;
}

}  // namespace

const char* ServerConfig::Version() { return LDM_VERSION; }

absl::StatusOr<ModelSpec> ServerConfig::ParseModel(const std::string& value) {
  ModelSpec spec;
  const size_t eq = value.find('=');
  // "name=path" only when the part before '=' looks like a name (a path may contain '=').
  if (eq != std::string::npos && eq > 0 && value.substr(0, eq).find('/') == std::string::npos) {
    spec.name = value.substr(0, eq);
    spec.path = value.substr(eq + 1);
  } else {
    spec.path = value;
  }
  if (spec.path.empty()) {
    return absl::InvalidArgumentError(absl::StrCat("--model '", value, "': empty path"));
  }
  if (spec.name.empty()) {
    std::filesystem::path p = spec.path.lexically_normal();
    if (p.filename().empty()) p = p.parent_path();
    spec.name = p.filename().string();
  }
  return spec;
}

absl::StatusOr<std::optional<ServerConfig>> ServerConfig::Parse(int argc, const char* const* argv,
                                                                std::ostream& out) {
  ServerConfig c;
  std::vector<std::string> models;
  std::string devices = "cpu";
  CLI::App app{"ldm-server: latent diffusion image generation over gRPC"};
  app.set_version_flag("--version", std::string(LDM_VERSION));
  app.add_option("--model", models,
                 "Model folder (diffusers layout), or name=folder; repeatable (or comma "
                 "separated in LDM_MODEL). The first is the default model. Default: "
                 "models/toy-shapes (+ models/toy-shapes-sr if present) of the repository")
      ->envname("LDM_MODEL")
      ->delimiter(',');
  app.add_option("--host", c.host, "Address to listen on")
      ->envname("LDM_HOST")
      ->capture_default_str();
  app.add_option("--port", c.port, "gRPC port; 0 picks a free one (printed on stdout)")
      ->envname("LDM_PORT")
      ->check(CLI::Range(0, 65535))
      ->capture_default_str();
  app.add_option("--metrics-port", c.metrics_port,
                 "Prometheus /metrics port; 0 picks a free one, -1 disables")
      ->envname("LDM_METRICS_PORT")
      ->check(CLI::Range(-1, 65535))
      ->capture_default_str();
  app.add_option("--devices", devices, "cpu, or cuda:0,cuda:1,...: one worker per device")
      ->envname("LDM_DEVICES")
      ->capture_default_str();
  app.add_option("--dtype", c.dtype, "float32, float16 or bfloat16 (half types need CUDA)")
      ->envname("LDM_DTYPE")
      ->check(CLI::IsMember({"float32", "float16", "bfloat16"}))
      ->capture_default_str();
  app.add_option("--max-batch-rows", c.max_batch_rows, "UNet rows per batched step")
      ->envname("LDM_MAX_BATCH_ROWS")
      ->check(CLI::Range(1, 4096))
      ->capture_default_str();
  app.add_option("--max-queue", c.max_queue, "Queued requests before RESOURCE_EXHAUSTED")
      ->envname("LDM_MAX_QUEUE")
      ->check(CLI::Range(1, 1000000))
      ->capture_default_str();
  app.add_option("--drain-timeout", c.drain_timeout_seconds,
                 "Seconds to finish accepted requests on SIGTERM/SIGINT")
      ->envname("LDM_DRAIN_TIMEOUT")
      ->check(CLI::Range(0.0, 86400.0))
      ->capture_default_str();
  app.add_option("--log-level", c.log_level, "trace, debug, info, warn, error, critical, off")
      ->envname("LDM_LOG_LEVEL")
      ->check(CLI::IsMember({"trace", "debug", "info", "warn", "error", "critical", "off"}))
      ->capture_default_str();
  app.add_option("--threads", c.threads,
                 "Torch intra-op threads per step thread; 0 = auto (CPUs / step threads)")
      ->envname("LDM_THREADS")
      ->check(CLI::Range(0, 1024))
      ->capture_default_str();
  app.add_option("--step-threads", c.step_threads,
                 "CPU: run each batched UNet/VAE call as this many row chunks in parallel, each "
                 "with --threads intra-op threads (on a CPU, --threads 1 --step-threads <cores> "
                 "steps more steadily than --threads <cores>); 1 = one call per batch; 0 = auto "
                 "(2 on 2 or more CPUs unless --threads is given)")
      ->envname("LDM_STEP_THREADS")
      ->check(CLI::Range(0, 1024))
      ->capture_default_str();
  app.add_option("--prompt-cache-size", c.prompt_cache_size,
                 "Prompt embeddings cached per model replica; 0 disables")
      ->envname("LDM_PROMPT_CACHE_SIZE")
      ->check(CLI::Range(0, 1000000))
      ->capture_default_str();
  app.add_option("--malloc", c.malloc_policy,
                 "Host malloc policy: heap (keep freed memory for the next step), system, or "
                 "auto (heap when a CPU model has a weight above 32 MiB)")
      ->envname("LDM_MALLOC")
      ->check(CLI::IsMember({"auto", "heap", "system"}))
      ->capture_default_str();
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp&) {
    out << app.help();
    return std::optional<ServerConfig>();
  } catch (const CLI::CallForVersion&) {
    out << LDM_VERSION << "\n";
    return std::optional<ServerConfig>();
  } catch (const CLI::ParseError& e) {
    return absl::InvalidArgumentError(e.what());
  }

  for (const std::string& m : models) {
    absl::StatusOr<ModelSpec> spec = ParseModel(m);
    if (!spec.ok()) return spec.status();
    c.models.push_back(*std::move(spec));
  }
  if (c.models.empty()) {
    std::optional<std::filesystem::path> folder = DefaultModelFolder("toy-shapes");
    if (!folder.has_value()) {
      return absl::NotFoundError(
          "--model is required: the default models/toy-shapes was not found beside the binary");
    }
    c.models.push_back({"toy-shapes", *folder});
    // The shipped 4x upscaler, when it was trained (for GenerateRequest.upscale).
    const std::filesystem::path sr = folder->parent_path() / "toy-shapes-sr";
    std::error_code ec;
    if (std::filesystem::is_directory(sr, ec)) c.models.push_back({"toy-shapes-sr", sr});
  }
  std::set<std::string> names;
  for (const auto& m : c.models) {
    if (!names.insert(m.name).second) {
      return absl::InvalidArgumentError(
          absl::StrCat("--model: the name '", m.name, "' is given twice; use name=folder"));
    }
  }
  c.devices.clear();
  for (absl::string_view d : absl::StrSplit(devices, ',', absl::SkipWhitespace())) {
    c.devices.emplace_back(d);
  }
  if (c.devices.empty()) return absl::InvalidArgumentError("--devices: no device given");
  std::set<std::string> unique(c.devices.begin(), c.devices.end());
  if (unique.size() != c.devices.size()) {
    return absl::InvalidArgumentError(absl::StrCat("--devices '", devices, "' repeats a device"));
  }
  c.ResolveThreadLayout(AvailableCpus());
  return std::optional<ServerConfig>(std::move(c));
}

void ServerConfig::ResolveThreadLayout(int cpus) {
  cpus = std::max(1, cpus);
  if (step_threads <= 0) step_threads = threads > 0 ? 1 : std::min(2, cpus);
  if (threads <= 0) threads = std::max(1, cpus / step_threads);
}

int ServerConfig::AvailableCpus() {
  cpu_set_t set;
  CPU_ZERO(&set);
  if (sched_getaffinity(0, sizeof(set), &set) == 0) return std::max(1, CPU_COUNT(&set));
  return std::max(1u, std::thread::hardware_concurrency());
}

}  // namespace ldm::server
