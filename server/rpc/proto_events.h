// Scheduler events -> API messages (the sink side of the conversion; RequestConverter is the
// request side). Thread safety: stateless.
#pragma once

#include <grpcpp/server_context.h>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "ldm/v1/image_generation.pb.h"
#include "server/scheduling/result_sink.h"

namespace ldm::server {

v1::Timings ToProto(const RequestTimings& timings);
v1::GenerateEvent QueuedEvent(int position);
v1::GenerateEvent StartedEvent(const std::string& model, const std::string& device);
v1::GenerateEvent ProgressEvent(int step, int total, std::vector<PreviewImage> previews);
v1::GenerateEvent ImageEvent(int index, std::string png, uint64_t seed, int width, int height);
v1::GenerateEvent DoneEvent(const std::string& request_id, const RequestTimings& timings);

// The call's deadline, or nullopt when the client set none.
std::optional<absl::Time> CallDeadline(const grpc::ServerContextBase& context);

// Why a call that gRPC cancelled ends: DEADLINE_EXCEEDED when its deadline has passed (gRPC
// cancels expired calls), else CANCELLED with `why`. Names the request.
absl::Status CancellationStatus(const std::string& request_id, std::optional<absl::Time> deadline,
                                const std::string& why);

}  // namespace ldm::server
