// The real ldm-server binary as a child process, for end-to-end tests: started with arguments,
// its stdout parsed for "listening on HOST:PORT" (and later lines), signalled, and reaped.
// stderr (the logs) goes to the test's stderr. The destructor kills a child still running.
// Thread safety: one controlling thread; a reader thread collects stdout lines.
#pragma once

#include <sys/types.h>

#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"

namespace ldm::testing {

class ServerProcess {
 public:
  // Starts `binary args...` and waits (up to `timeout`) for its "listening on" line.
  static absl::StatusOr<std::unique_ptr<ServerProcess>> Start(
      const std::string& binary, const std::vector<std::string>& args,
      absl::Duration timeout = absl::Seconds(60));
  ~ServerProcess();

  int port() const { return port_; }
  std::string address() const { return "127.0.0.1:" + std::to_string(port_); }
  // Waits for a stdout line starting with `prefix`; returns the line.
  absl::StatusOr<std::string> WaitForLine(const std::string& prefix, absl::Duration timeout);
  void Signal(int signal);
  // Waits for the child to exit; returns its exit code (or DEADLINE_EXCEEDED, or an error when
  // it died from a signal).
  absl::StatusOr<int> Wait(absl::Duration timeout);

 private:
  ServerProcess() = default;
  void ReadLoop(int fd);

  pid_t pid_ = -1;
  int port_ = 0;
  bool reaped_ = false;
  std::thread reader_;
  absl::Mutex mu_;
  std::vector<std::string> lines_ ABSL_GUARDED_BY(mu_);
  bool eof_ ABSL_GUARDED_BY(mu_) = false;
};

}  // namespace ldm::testing
