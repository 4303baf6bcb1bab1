// grpc.health.v1 Check for tests, over a generic stub with the two tiny messages encoded by hand
// (Debian ships no health .proto for clients).
#pragma once

#include <grpcpp/grpcpp.h>

#include <memory>
#include <string>

#include "absl/status/statusor.h"

namespace ldm::testing {

enum class Health { kUnknown = 0, kServing = 1, kNotServing = 2, kServiceUnknown = 3 };

// Calls /grpc.health.v1.Health/Check for `service` ("" = the whole server).
absl::StatusOr<Health> CheckHealth(const std::shared_ptr<grpc::Channel>& channel,
                                   const std::string& service = "");

}  // namespace ldm::testing
