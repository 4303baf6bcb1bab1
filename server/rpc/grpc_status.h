// The one mapping from absl::Status (used everywhere below the RPC layer) to grpc::Status.
//
// Codes map one to one (absl and gRPC share the canonical code numbering); the message is kept
// as is. Every RPC handler returns errors through this function and nowhere else.
// Thread safety: stateless.
#pragma once

#include <grpcpp/support/status.h>

#include "absl/status/status.h"

namespace ldm::server {

grpc::Status ToGrpcStatus(const absl::Status& status);

}  // namespace ldm::server
