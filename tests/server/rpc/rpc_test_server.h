// An in-process ldm gRPC server on 127.0.0.1:0 over FakeEngines (no torch work), with a client
// stub, for the RPC tests. The engines' on_step hooks can slow or block steps.
#pragma once

#include <grpcpp/grpcpp.h>

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "ldm/v1/image_generation.grpc.pb.h"
#include "server/rpc/grpc_server.h"
#include "server/scheduling/scheduler.h"
#include "tests/testing/fake_engine.h"

namespace ldm::testing {

// A gate that steps wait on while it is closed (bounded by a timeout so a test can't hang).
class StepGate {
 public:
  void Close();
  void Open();
  void Wait();  // returns when open, or after 30 s
  int waiting() const;

 private:
  mutable absl::Mutex mu_;
  bool open_ ABSL_GUARDED_BY(mu_) = true;
  int waiting_ ABSL_GUARDED_BY(mu_) = 0;
};

struct RpcTestOptions {
  server::SchedulerOptions scheduler;
  std::vector<std::string> models = {"fake"};  // the first is the default
  absl::Duration step_delay = absl::ZeroDuration();
  StepGate* gate = nullptr;  // steps wait on it when set
  bool attach = true;
  bool serving = true;
};

class RpcTestServer {
 public:
  explicit RpcTestServer(RpcTestOptions options = {});
  ~RpcTestServer();

  v1::ImageGeneration::Stub& stub() { return *stub_; }
  const std::shared_ptr<grpc::Channel>& channel() const { return channel_; }
  server::Scheduler& scheduler() { return *scheduler_; }
  server::GrpcServer& grpc() { return *server_; }
  FakeEngine& engine(const std::string& model = "fake") { return *engines_.at(model); }
  void Attach();

 private:
  RpcTestOptions options_;
  std::map<std::string, FakeEngine*> engines_;  // owned by the scheduler's worker
  std::unique_ptr<server::Scheduler> scheduler_;
  std::unique_ptr<server::GrpcServer> server_;
  std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<v1::ImageGeneration::Stub> stub_;
};

// A small valid request for the fake model.
v1::GenerateRequest FakeRequest(int steps = 3);

// What a StreamGenerate call delivered.
struct StreamResult {
  std::vector<std::string> kinds;  // "queued", "started", "progress", "image", "done"
  std::vector<v1::GenerateEvent> events;
  grpc::Status status;
};

// Runs StreamGenerate to the end. `on_event` (optional) sees each event as it arrives.
StreamResult RunStream(v1::ImageGeneration::Stub& stub, const v1::GenerateRequest& request,
                       grpc::ClientContext* context = nullptr,
                       const std::function<void(const v1::GenerateEvent&)>& on_event = nullptr);

std::string KindOf(const v1::GenerateEvent& event);

}  // namespace ldm::testing
