#include "tests/server/rpc/rpc_test_server.h"

#include "server/rpc/model_catalog.h"

namespace ldm::testing {

void StepGate::Close() {
  absl::MutexLock lock(&mu_);
  open_ = false;
}

void StepGate::Open() {
  absl::MutexLock lock(&mu_);
  open_ = true;
}

void StepGate::Wait() {
  absl::MutexLock lock(&mu_);
  ++waiting_;
  mu_.AwaitWithTimeout(absl::Condition(&open_), absl::Seconds(30));
  --waiting_;
}

int StepGate::waiting() const {
  absl::MutexLock lock(&mu_);
  return waiting_;
}

RpcTestServer::RpcTestServer(RpcTestOptions options) : options_(std::move(options)) {
  server::DeviceEngines device;
  device.device = "cpu";
  for (const std::string& name : options_.models) {
    auto engine = std::make_unique<FakeEngine>(FakeEngine::DefaultInfo(name));
    const absl::Duration delay = options_.step_delay;
    StepGate* gate = options_.gate;
    engine->set_on_step([delay, gate] {
      if (gate != nullptr) gate->Wait();
      if (delay > absl::ZeroDuration()) absl::SleepFor(delay);
    });
    engines_[name] = engine.get();
    device.engines[name] = std::move(engine);
  }
  std::vector<server::DeviceEngines> devices;
  devices.push_back(std::move(device));
  scheduler_ = std::make_unique<server::Scheduler>(options_.scheduler, std::move(devices),
                                                   server::RealClock::Get(), nullptr);
  scheduler_->Start();
  server::GrpcServerOptions grpc_options;
  grpc_options.host = "127.0.0.1";
  grpc_options.port = 0;
  server_ = *server::GrpcServer::Start(grpc_options, nullptr);
  if (options_.attach) Attach();
  if (options_.serving) server_->SetServing(true);
  grpc::ChannelArguments args;
  args.SetMaxReceiveMessageSize(64 << 20);
  channel_ =
      grpc::CreateCustomChannel(server_->address(), grpc::InsecureChannelCredentials(), args);
  stub_ = v1::ImageGeneration::NewStub(channel_);
}

void RpcTestServer::Attach() {
  server_->Attach(scheduler_.get(),
                  server::ModelCatalog(scheduler_->models(), options_.models.front()));
}

RpcTestServer::~RpcTestServer() {
  if (options_.gate != nullptr) options_.gate->Open();
  scheduler_->Stop();
  server_->Shutdown(absl::Seconds(5));
}

v1::GenerateRequest FakeRequest(int steps) {
  v1::GenerateRequest r;
  r.set_prompt("a red circle");
  r.set_steps(static_cast<uint32_t>(steps));
  r.set_guidance_scale(1.0f);  // one row per image
  r.set_seed(42);
  return r;
}

std::string KindOf(const v1::GenerateEvent& event) {
  switch (event.event_case()) {
    case v1::GenerateEvent::kQueued:
      return "queued";
    case v1::GenerateEvent::kStarted:
      return "started";
    case v1::GenerateEvent::kProgress:
      return "progress";
    case v1::GenerateEvent::kImage:
      return "image";
    case v1::GenerateEvent::kDone:
      return "done";
    default:
      return "none";
  }
}

StreamResult RunStream(v1::ImageGeneration::Stub& stub, const v1::GenerateRequest& request,
                       grpc::ClientContext* context,
                       const std::function<void(const v1::GenerateEvent&)>& on_event) {
  grpc::ClientContext own;
  if (context == nullptr) {
    own.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(60));
    context = &own;
  }
  StreamResult result;
  std::unique_ptr<grpc::ClientReader<v1::GenerateEvent>> reader =
      stub.StreamGenerate(context, request);
  v1::GenerateEvent event;
  while (reader->Read(&event)) {
    result.kinds.push_back(KindOf(event));
    if (on_event) on_event(event);
    result.events.push_back(event);
  }
  result.status = reader->Finish();
  return result;
}

}  // namespace ldm::testing
