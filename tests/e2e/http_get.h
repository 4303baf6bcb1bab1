// A minimal HTTP/1.0 GET over a TCP socket, for scraping /metrics in tests without pulling
// cpp-httplib's compile flags into torch (PCH) test targets.
#pragma once

#include <string>

#include "absl/status/statusor.h"

namespace ldm::testing {

struct HttpResponse {
  int status = 0;
  std::string body;
};

absl::StatusOr<HttpResponse> HttpGet(const std::string& host, int port, const std::string& path);

// Feeds `text` to `promtool check metrics`; returns its exit code and output. FAILED_PRECONDITION
// when promtool is not installed (tests must fail then, not skip).
absl::StatusOr<std::pair<int, std::string>> PromtoolCheckMetrics(const std::string& text);

}  // namespace ldm::testing
