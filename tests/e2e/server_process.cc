#include "tests/e2e/server_process.h"

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstring>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"

namespace ldm::testing {

absl::StatusOr<std::unique_ptr<ServerProcess>> ServerProcess::Start(
    const std::string& binary, const std::vector<std::string>& args, absl::Duration timeout) {
  if (::access(binary.c_str(), X_OK) != 0) {
    return absl::NotFoundError(absl::StrCat(binary, " is not an executable (build ldm-server)"));
  }
  int pipe_fds[2];
  if (::pipe(pipe_fds) != 0) return absl::InternalError("pipe failed");
  std::vector<std::string> argv_storage = {binary};
  argv_storage.insert(argv_storage.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (auto& a : argv_storage) argv.push_back(a.data());
  argv.push_back(nullptr);

  std::unique_ptr<ServerProcess> p(new ServerProcess());
  p->pid_ = ::fork();
  if (p->pid_ < 0) return absl::InternalError("fork failed");
  if (p->pid_ == 0) {
    ::dup2(pipe_fds[1], STDOUT_FILENO);
    ::close(pipe_fds[0]);
    ::close(pipe_fds[1]);
    ::execv(binary.c_str(), argv.data());
    ::_exit(127);
  }
  ::close(pipe_fds[1]);
  p->reader_ = std::thread([raw = p.get(), fd = pipe_fds[0]] { raw->ReadLoop(fd); });
  absl::StatusOr<std::string> line = p->WaitForLine("listening on ", timeout);
  if (!line.ok()) return line.status();
  const size_t colon = line->rfind(':');
  if (colon == std::string::npos || !absl::SimpleAtoi(line->substr(colon + 1), &p->port_)) {
    return absl::InternalError(absl::StrCat("cannot parse the port from '", *line, "'"));
  }
  return p;
}

void ServerProcess::ReadLoop(int fd) {
  std::string partial;
  char buffer[4096];
  while (true) {
    const ssize_t n = ::read(fd, buffer, sizeof(buffer));
    if (n <= 0) break;
    partial.append(buffer, static_cast<size_t>(n));
    size_t nl;
    while ((nl = partial.find('\n')) != std::string::npos) {
      absl::MutexLock lock(&mu_);
      lines_.push_back(partial.substr(0, nl));
      partial.erase(0, nl + 1);
    }
  }
  ::close(fd);
  absl::MutexLock lock(&mu_);
  eof_ = true;
}

absl::StatusOr<std::string> ServerProcess::WaitForLine(const std::string& prefix,
                                                       absl::Duration timeout) {
  absl::MutexLock lock(&mu_);
  auto found = [&]() -> const std::string* {
    for (const auto& l : lines_) {
      if (absl::StartsWith(l, prefix)) return &l;
    }
    return nullptr;
  };
  auto ready = [&]() { return found() != nullptr || eof_; };
  mu_.AwaitWithTimeout(absl::Condition(&ready), timeout);
  if (const std::string* l = found()) return *l;
  return absl::DeadlineExceededError(absl::StrCat("no line starting with '", prefix, "' from the ",
                                                  eof_ ? "exited " : "", "server"));
}

void ServerProcess::Signal(int signal) {
  if (pid_ > 0 && !reaped_) ::kill(pid_, signal);
}

absl::StatusOr<int> ServerProcess::Wait(absl::Duration timeout) {
  const absl::Time give_up = absl::Now() + timeout;
  while (true) {
    int status = 0;
    const pid_t r = ::waitpid(pid_, &status, WNOHANG);
    if (r == pid_) {
      reaped_ = true;
      if (WIFEXITED(status)) return WEXITSTATUS(status);
      return absl::InternalError(absl::StrCat("server died from signal ", WTERMSIG(status)));
    }
    if (absl::Now() > give_up) return absl::DeadlineExceededError("server did not exit");
    absl::SleepFor(absl::Milliseconds(20));
  }
}

ServerProcess::~ServerProcess() {
  if (pid_ > 0 && !reaped_) {
    ::kill(pid_, SIGKILL);
    int status = 0;
    ::waitpid(pid_, &status, 0);
  }
  if (reader_.joinable()) reader_.join();
}

}  // namespace ldm::testing
