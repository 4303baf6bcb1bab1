// Client-side helpers shared by the end-to-end tests: a channel with the server's message size
// limits, and PNG pixel comparison.
#pragma once

#include <grpcpp/grpcpp.h>

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "ldm/v1/image_generation.grpc.pb.h"

namespace ldm::testing {

std::shared_ptr<grpc::Channel> E2eChannel(const std::string& address);

// Largest per-channel absolute difference between two PNGs of the same size (in 0..255).
absl::StatusOr<int> MaxPixelDifference(const std::string& png_a, const std::string& png_b);

}  // namespace ldm::testing
