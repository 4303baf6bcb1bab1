// MetricsHttpServer: serves a Registry over HTTP for Prometheus to scrape.
//
//   GET /metrics  200, Content-Type "text/plain; version=0.0.4; charset=utf-8", the registry's
//                 Serialize() output (gzip/brotli when the scraper asks for it).
//   GET /healthz  200, "ok\n" — the exporter itself is up.
//   anything else 404.
//
// Ownership: the registry is not owned and must outlive the server (or at least its Stop()).
// Threads: Start() runs the accept loop on a thread of its own plus a small worker pool; Stop()
// joins them all. The collect hook (if any) runs on a worker thread before each /metrics scrape,
// never concurrently with itself; use it to refresh gauges that are sampled rather than pushed
// (e.g. ldm_device_memory_bytes). It must not call Stop().
// Thread safety: Start/Stop/port/running may be called from any thread; they serialize on a
// mutex. Stop() is idempotent and the destructor calls it. After Stop() the server can be started
// again.
// Errors (Start): INVALID_ARGUMENT for a port outside [0, 65535]; FAILED_PRECONDITION if already
// running; UNAVAILABLE if the address cannot be bound (in use, unknown host, no permission).
//
// cpp-httplib stays out of this header (pimpl); only metrics_http_server.cc includes httplib.h.
#pragma once

#include <functional>
#include <memory>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "server/metrics/registry.h"

namespace ldm::metrics {

class MetricsHttpServer {
 public:
  using CollectHook = std::function<void()>;

  explicit MetricsHttpServer(const Registry* registry, CollectHook collect_hook = nullptr);
  ~MetricsHttpServer();
  MetricsHttpServer(const MetricsHttpServer&) = delete;
  MetricsHttpServer& operator=(const MetricsHttpServer&) = delete;

  // Binds host:port (port 0 picks a free port) and starts serving. Returns once the server
  // accepts connections. See the header comment for errors.
  absl::Status Start(absl::string_view host, int port);

  // Stops accepting, finishes in-flight requests and joins all threads. No-op when not running.
  void Stop();

  // The bound port while running (the real one when Start was given 0); 0 when not running.
  int port() const;
  bool running() const;

 private:
  struct Impl;

  const Registry* const registry_;
  const CollectHook collect_hook_;
  mutable absl::Mutex mu_;
  std::unique_ptr<Impl> impl_ ABSL_GUARDED_BY(mu_);
};

}  // namespace ldm::metrics
