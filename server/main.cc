// ldm-server: flags -> ServerApp; SIGTERM/SIGINT -> drain -> exit 0. See docs/API.md.
#include <csignal>
#include <cstdio>
#include <iostream>

#include "server/server_app.h"
#include "server/server_config.h"
#include "spdlog/sinks/stdout_color_sinks.h"
#include "spdlog/spdlog.h"

int main(int argc, char** argv) {
  absl::StatusOr<std::optional<ldm::server::ServerConfig>> parsed =
      ldm::server::ServerConfig::Parse(argc, argv, std::cout);
  if (!parsed.ok()) {
    std::cerr << "ldm-server: " << parsed.status().message() << "\n";
    return 2;
  }
  if (!parsed->has_value()) return 0;  // --help / --version
  const ldm::server::ServerConfig& config = **parsed;
  // Logs go to stderr: stdout carries only the machine-readable start-up lines.
  spdlog::set_default_logger(spdlog::stderr_color_mt("ldm"));
  spdlog::set_level(spdlog::level::from_str(config.log_level));
  ldm::server::ServerApp::SetTorchThreads(config.threads);

  // Signals are taken synchronously by sigwait below: block them before any thread starts so
  // every thread inherits the mask and no handler runs in a library's thread.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);

  auto app = ldm::server::ServerApp::Listen(config);
  if (!app.ok()) {
    spdlog::critical("{}", app.status().ToString());
    return 1;
  }
  // Machine-readable lines for scripts and tests (port 0 picks one).
  std::printf("listening on %s:%d\n", config.host.c_str(), (*app)->port());
  if ((*app)->metrics_port() > 0) {
    std::printf("metrics on %s:%d\n", config.host.c_str(), (*app)->metrics_port());
  }
  std::fflush(stdout);

  auto engines = ldm::server::ServerApp::LoadEngines(config);
  if (!engines.ok()) {
    spdlog::critical("{}", engines.status().ToString());
    return 1;
  }
  if (absl::Status s = (*app)->Serve(*std::move(engines)); !s.ok()) {
    spdlog::critical("{}", s.ToString());
    return 1;
  }
  std::printf("serving\n");
  std::fflush(stdout);

  int signal = 0;
  sigwait(&signals, &signal);
  spdlog::info("received {}: draining", signal == SIGTERM ? "SIGTERM" : "SIGINT");
  (*app)->Drain();
  return 0;
}
