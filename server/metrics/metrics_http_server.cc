#include "server/metrics/metrics_http_server.h"

// httplib.h must be compiled with the same CPPHTTPLIB_*_SUPPORT defines as Debian's
// libcpp-httplib.so (CMake takes them from pkg-config): the class layouts depend on them.
#include <httplib.h>
#include <sys/socket.h>

#include <atomic>
#include <chrono>
#include <string>
#include <thread>

#include "absl/strings/str_cat.h"
#include "server/metrics/text_format.h"

namespace ldm::metrics {
namespace {

// Scrapes are rare (every few seconds) and cheap; two workers are plenty and keep the thread
// count low inside a process that also runs libtorch and gRPC pools.
constexpr size_t kWorkerThreads = 2;

}  // namespace

struct MetricsHttpServer::Impl {
  httplib::Server server;
  std::thread listener;
  std::atomic<bool> listener_done{false};
  int port = 0;
  // Serializes the collect hook so that it need not be thread-safe itself.
  absl::Mutex hook_mu;
};

MetricsHttpServer::MetricsHttpServer(const Registry* registry, CollectHook collect_hook)
    : registry_(registry), collect_hook_(std::move(collect_hook)) {}

MetricsHttpServer::~MetricsHttpServer() { Stop(); }

absl::Status MetricsHttpServer::Start(absl::string_view host, int port) {
  if (port < 0 || port > 65535) {
    return absl::InvalidArgumentError(absl::StrCat("port must be in [0, 65535], got ", port));
  }
  absl::MutexLock lock(&mu_);
  if (impl_ != nullptr) {
    return absl::FailedPreconditionError(
        absl::StrCat("metrics server already running on port ", impl_->port));
  }
  // A fresh httplib::Server per Start: it is not designed to be restarted after stop().
  auto impl = std::make_unique<Impl>();
  Impl* raw = impl.get();
  raw->server.new_task_queue = [] { return new httplib::ThreadPool(kWorkerThreads); };
  // Short keep-alive so Stop() does not wait long on an idle scraper connection.
  raw->server.set_keep_alive_timeout(1);
  // httplib's default options add SO_REUSEPORT, which lets a second process bind the same port
  // silently and steal half the scrapes. SO_REUSEADDR alone still allows a quick restart.
  raw->server.set_socket_options([](socket_t sock) {
    int yes = 1;
    ::setsockopt(sock, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof(yes));
  });

  raw->server.Get("/metrics", [this, raw](const httplib::Request&, httplib::Response& res) {
    if (collect_hook_) {
      absl::MutexLock hook_lock(&raw->hook_mu);
      collect_hook_();
    }
    res.set_content(registry_->Serialize(), kTextFormatContentType);
  });
  raw->server.Get("/healthz", [](const httplib::Request&, httplib::Response& res) {
    res.set_content("ok\n", "text/plain; charset=utf-8");
  });

  const std::string host_str(host);
  if (port == 0) {
    raw->port = raw->server.bind_to_any_port(host_str);
    if (raw->port < 0) raw->port = 0;
  } else if (raw->server.bind_to_port(host_str, port)) {
    raw->port = port;
  }
  if (raw->port == 0) {
    return absl::UnavailableError(absl::StrCat("metrics server cannot bind ", host, ":", port));
  }

  raw->listener = std::thread([raw] {
    raw->server.listen_after_bind();
    raw->listener_done.store(true);
  });
  // httplib::Server::stop() is a no-op until the listen loop has set is_running(), so a Stop()
  // right after Start() could leave the listener blocked in accept forever. Waiting here closes
  // that window (it is microseconds in practice).
  while (!raw->server.is_running() && !raw->listener_done.load()) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  if (!raw->server.is_running()) {
    raw->listener.join();
    return absl::UnavailableError(
        absl::StrCat("metrics server on ", host, ":", raw->port, " stopped listening at once"));
  }
  impl_ = std::move(impl);
  return absl::OkStatus();
}

void MetricsHttpServer::Stop() {
  std::unique_ptr<Impl> impl;
  {
    absl::MutexLock lock(&mu_);
    impl = std::move(impl_);
  }
  if (impl == nullptr) return;
  // Outside mu_: joining waits for in-flight requests, which must not block port()/running().
  impl->server.stop();
  impl->listener.join();
}

int MetricsHttpServer::port() const {
  absl::MutexLock lock(&mu_);
  return impl_ == nullptr ? 0 : impl_->port;
}

bool MetricsHttpServer::running() const {
  absl::MutexLock lock(&mu_);
  return impl_ != nullptr;
}

}  // namespace ldm::metrics
