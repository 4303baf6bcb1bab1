#include "tests/e2e/http_get.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <sstream>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"

namespace ldm::testing {

absl::StatusOr<HttpResponse> HttpGet(const std::string& host, int port, const std::string& path) {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return absl::InternalError("socket failed");
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  ::inet_pton(AF_INET, host.c_str(), &addr.sin_addr);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
    ::close(fd);
    return absl::UnavailableError(absl::StrCat("cannot connect to ", host, ":", port));
  }
  const std::string request = absl::StrCat("GET ", path, " HTTP/1.0\r\nHost: ", host, "\r\n\r\n");
  if (::send(fd, request.data(), request.size(), 0) != static_cast<ssize_t>(request.size())) {
    ::close(fd);
    return absl::InternalError("send failed");
  }
  std::string raw;
  char buffer[8192];
  ssize_t n;
  while ((n = ::recv(fd, buffer, sizeof(buffer), 0)) > 0)
    raw.append(buffer, static_cast<size_t>(n));
  ::close(fd);
  const size_t header_end = raw.find("\r\n\r\n");
  if (raw.size() < 12 || header_end == std::string::npos) {
    return absl::InternalError("malformed HTTP response");
  }
  HttpResponse response;
  if (!absl::SimpleAtoi(raw.substr(9, 3), &response.status)) {
    return absl::InternalError("malformed HTTP status line");
  }
  response.body = raw.substr(header_end + 4);
  return response;
}

absl::StatusOr<std::pair<int, std::string>> PromtoolCheckMetrics(const std::string& text) {
  if (std::system("command -v promtool >/dev/null 2>&1") != 0) {
    return absl::FailedPreconditionError("promtool not found in PATH (Debian package prometheus)");
  }
  const std::string out_path = absl::StrCat("/tmp/ldm_promtool_", ::getpid(), ".out");
  const std::string command = absl::StrCat("promtool check metrics >'", out_path, "' 2>&1");
  FILE* pipe = ::popen(command.c_str(), "w");
  if (pipe == nullptr) return absl::InternalError("popen failed");
  std::fwrite(text.data(), 1, text.size(), pipe);
  const int status = ::pclose(pipe);
  std::ifstream in(out_path);
  std::stringstream output;
  output << in.rdbuf();
  std::remove(out_path.c_str());
  return std::make_pair(WIFEXITED(status) ? WEXITSTATUS(status) : -1, output.str());
}

}  // namespace ldm::testing
