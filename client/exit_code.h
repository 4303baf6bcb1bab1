// ldm-client's exit codes, which scripts can rely on (documented in the README and --help):
//   0  success
//   1  any other error (INTERNAL, UNKNOWN, writing an output file, ...)
//   2  usage: bad command line, unreadable input file
//   3  INVALID_ARGUMENT / FAILED_PRECONDITION / OUT_OF_RANGE: the server rejected the request
//   4  NOT_FOUND: no such model
//   5  UNAVAILABLE / RESOURCE_EXHAUSTED: try again later (server down, loading, draining, full)
//   6  DEADLINE_EXCEEDED
//   7  CANCELLED (also Ctrl-C during generate: the request is cancelled on the server)
//   8  health: the server answered NOT_SERVING (or does not know the service)
#pragma once

#include "absl/status/status.h"

namespace ldm::client {

enum ExitCode : int {
  kExitOk = 0,
  kExitOther = 1,
  kExitUsage = 2,
  kExitInvalidArgument = 3,
  kExitNotFound = 4,
  kExitUnavailable = 5,
  kExitDeadline = 6,
  kExitCancelled = 7,
  kExitNotServing = 8,
};

// The exit code for a call's final status.
int ExitCodeFor(const absl::Status& status);

}  // namespace ldm::client
