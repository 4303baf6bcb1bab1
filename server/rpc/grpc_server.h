// The gRPC front end: ImageGenerationService, grpc.health.v1 and server reflection on one port.
//
// Life cycle: Start() listens at once (so health can be asked while models load) with health
// NOT_SERVING and the service answering UNAVAILABLE; Attach() connects the scheduler;
// SetServing(true) after the warm-up; SetServing(false) when draining; Shutdown() stops
// accepting calls and waits (up to a grace period) for the running ones.
// Health is reported for the whole server ("") and for "ldm.v1.ImageGeneration".
// Ownership: `metrics` (nullable) and the attached scheduler are not owned and must outlive
// Shutdown().
// Thread safety: Attach/SetServing/port may be called from any thread until Shutdown(); Start,
// Shutdown and the destructor from one controlling thread.
// Errors (Start): UNAVAILABLE when the address cannot be bound.
#pragma once

#include <grpcpp/grpcpp.h>

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "server/rpc/image_generation_service.h"

namespace ldm::server {

struct GrpcServerOptions {
  std::string host = "127.0.0.1";
  int port = 0;  // 0: pick a free port (see port())
  int max_message_bytes = 64 << 20;
  RequestLimits limits;
};

class GrpcServer {
 public:
  static constexpr const char* kServiceName = "ldm.v1.ImageGeneration";

  static absl::StatusOr<std::unique_ptr<GrpcServer>> Start(const GrpcServerOptions& options,
                                                           SchedulerMetrics* metrics);
  ~GrpcServer();
  GrpcServer(const GrpcServer&) = delete;
  GrpcServer& operator=(const GrpcServer&) = delete;

  void Attach(Scheduler* scheduler, ModelCatalog catalog);
  void SetServing(bool serving);
  // Stops accepting new calls; running calls get `grace` to finish, then are cancelled.
  void Shutdown(absl::Duration grace);

  int port() const { return port_; }
  const std::string& host() const { return host_; }
  std::string address() const;

 private:
  GrpcServer() = default;

  std::string host_;
  int port_ = 0;
  std::unique_ptr<ImageGenerationService> service_;
  std::unique_ptr<grpc::Server> server_;
};

}  // namespace ldm::server
