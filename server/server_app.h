// The whole ldm server in one object: gRPC front end, metrics endpoint, model replicas, the
// scheduler and its workers. main.cc only parses flags, waits for a signal and calls Drain().
//
// Start-up order (health stays NOT_SERVING until the end):
//   Listen()       gRPC port (RPCs answer UNAVAILABLE) and /metrics;
//   LoadEngines()  one Pipeline per model per device;
//   Serve()        one warm-up generation (1 step) per device and model, scheduler start,
//                  then SERVING.
// Drain(): NOT_SERVING, new requests UNAVAILABLE, accepted ones finish within the drain
// timeout, then the gRPC server and the metrics endpoint stop.
// Ownership: owns everything it starts. Tests may Serve() with their own engines (FakeEngine).
// Thread safety: Listen/Serve/Drain from one controlling thread; accessors from any.
// Errors: Listen — UNAVAILABLE when a port cannot be bound; LoadEngines — the Pipeline's load
// errors naming the folder and device; Serve — a failed warm-up (INTERNAL/INVALID_ARGUMENT from
// the engine, naming model and device).
#pragma once

#include <atomic>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "server/metrics/metrics_http_server.h"
#include "server/metrics/registry.h"
#include "server/prometheus_scheduler_metrics.h"
#include "server/rpc/grpc_server.h"
#include "server/scheduling/scheduler.h"
#include "server/server_config.h"

namespace ldm::server {

class ServerApp {
 public:
  static absl::StatusOr<std::unique_ptr<ServerApp>> Listen(const ServerConfig& config);
  // Loads on a short-lived thread (it joins before returning), so that the calling thread never
  // owns an OpenMP pool of its own; see the .cc.
  static absl::StatusOr<std::vector<DeviceEngines>> LoadEngines(const ServerConfig& config);
  // Torch intra-op threads for the process (`threads` <= 0 keeps torch's default).
  static void SetTorchThreads(int threads);

  // `default_model` "" = the first model of the config (or of the engines).
  absl::Status Serve(std::vector<DeviceEngines> engines, std::string default_model = "");
  // Returns true when every accepted request finished within the drain timeout.
  bool Drain();

  ~ServerApp();
  ServerApp(const ServerApp&) = delete;
  ServerApp& operator=(const ServerApp&) = delete;

  int port() const { return grpc_->port(); }
  int metrics_port() const { return metrics_http_ != nullptr ? metrics_http_->port() : 0; }
  const std::string& host() const { return config_.host; }
  Scheduler* scheduler() { return scheduler_.get(); }
  metrics::Registry& registry() { return registry_; }
  GrpcServer& grpc() { return *grpc_; }

 private:
  static absl::StatusOr<std::vector<DeviceEngines>> LoadEnginesOnThisThread(
      const ServerConfig& config);
  explicit ServerApp(ServerConfig config) : config_(std::move(config)) {}
  void CollectSampledMetrics();

  const ServerConfig config_;
  // Declaration order is destruction order in reverse: the front ends go before the scheduler
  // they call, the scheduler before the metrics it reports to.
  metrics::Registry registry_;
  std::unique_ptr<PrometheusSchedulerMetrics> metrics_;
  std::unique_ptr<Scheduler> scheduler_;
  std::unique_ptr<metrics::MetricsHttpServer> metrics_http_;
  std::unique_ptr<GrpcServer> grpc_;
  // The scheduler as the metrics scrape thread sees it (set once it runs).
  std::atomic<Scheduler*> live_scheduler_{nullptr};
  bool drained_ = false;
};

}  // namespace ldm::server
