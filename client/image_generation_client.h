// A client for ldm.v1.ImageGeneration and grpc.health.v1.Health (see docs/API.md).
//
// Calls are blocking (the caller's thread runs them) and return absl::Status with the server's
// code and message unchanged. Each call has an optional timeout (a gRPC deadline covering all its
// attempts) and an optional CallHandle for cancellation from another thread.
//
// Retries are made only where they are safe: on UNAVAILABLE before the server delivered anything
// for the call (for a stream: before the first event; for unary calls: any UNAVAILABLE, since
// no result was returned and generation has no side effects), up to ClientOptions::max_attempts
// with exponential backoff, never past the call's deadline, never after a cancellation. A stream
// that fails after its first event is reported as it failed, without a retry (the caller already
// saw progress for it).
//
// Thread safety: one client may be used by many threads at once; calls share its channel.
#pragma once

#include <grpcpp/grpcpp.h>

#include <atomic>
#include <functional>
#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "client/client_options.h"
#include "ldm/v1/image_generation.grpc.pb.h"

namespace ldm::client {

enum class ServingStatus { kUnknown = 0, kServing = 1, kNotServing = 2, kServiceUnknown = 3 };
const char* ServingStatusName(ServingStatus status);

class ImageGenerationClient {
 public:
  using EventCallback = std::function<void(const v1::GenerateEvent&)>;

  // Creates the channel (lazily connected: no I/O here). Fails only when the CA file can't be
  // read.
  static absl::StatusOr<std::unique_ptr<ImageGenerationClient>> Create(ClientOptions options);
  // Over an existing channel (tests, callers with their own credentials).
  ImageGenerationClient(std::shared_ptr<grpc::Channel> channel, ClientOptions options);

  // Unary Generate: the final images, no previews.
  absl::StatusOr<v1::GenerateResponse> Generate(const v1::GenerateRequest& request,
                                                const CallOptions& call = {});
  // StreamGenerate: `on_event` runs on the calling thread for each event, in order. Returns OK
  // after the `done` event, else the status the stream ended with.
  absl::Status StreamGenerate(const v1::GenerateRequest& request, const EventCallback& on_event,
                              const CallOptions& call = {});
  absl::StatusOr<v1::ListModelsResponse> ListModels(const CallOptions& call = {});
  // grpc.health.v1.Health/Check for `service` ("" = the whole server).
  absl::StatusOr<ServingStatus> Health(const std::string& service = "",
                                       const CallOptions& call = {});

  // Attempts made by the call that finished last (for tests and logs).
  int last_attempts() const { return last_attempts_; }
  const std::shared_ptr<grpc::Channel>& channel() const { return channel_; }

  static std::shared_ptr<grpc::ChannelCredentials> Credentials(const ClientOptions& options,
                                                               std::string ca_pem);
  static grpc::ChannelArguments ChannelArguments(const ClientOptions& options);

 private:
  // Runs `attempt` (one gRPC call with a fresh context) with the retry policy. `attempt` returns
  // its status and sets *delivered when the server had delivered something for the call.
  absl::Status RunWithRetries(
      const CallOptions& call,
      const std::function<grpc::Status(grpc::ClientContext*, bool* delivered)>& attempt);

  ClientOptions options_;
  std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<v1::ImageGeneration::Stub> stub_;
  std::atomic<int> last_attempts_{0};
};

}  // namespace ldm::client
