// ImageGenerationClient against in-process servers: the RPC test server over FakeEngines (events,
// errors, cancel, deadline, health, models) and a scripted service for the retry rules.
#include "client/image_generation_client.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <atomic>
#include <fstream>
#include <map>
#include <sstream>
#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/notification.h"
#include "tests/server/rpc/rpc_test_server.h"

namespace ldm::client {
namespace {

using ::ldm::testing::FakeRequest;
using ::ldm::testing::KindOf;
using ::ldm::testing::RpcTestOptions;
using ::ldm::testing::RpcTestServer;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

ClientOptions FastRetries(const std::string& target) {
  ClientOptions o;
  o.target = target;
  o.max_attempts = 4;
  o.initial_backoff = absl::Milliseconds(20);
  o.max_backoff = absl::Milliseconds(100);
  return o;
}

std::unique_ptr<ImageGenerationClient> ClientFor(RpcTestServer& server, int max_attempts = 4) {
  ClientOptions o = FastRetries(server.grpc().address());
  o.max_attempts = max_attempts;
  absl::StatusOr<std::unique_ptr<ImageGenerationClient>> client = ImageGenerationClient::Create(o);
  EXPECT_TRUE(client.ok()) << client.status();
  return *std::move(client);
}

std::vector<std::string> Shape(const std::vector<std::string>& kinds) {
  std::vector<std::string> out;
  for (const auto& k : kinds) {
    if (k == "progress" && !out.empty() && out.back() == "progress") continue;
    out.push_back(k);
  }
  return out;
}

TEST(ImageGenerationClientTest, StreamDeliversEventsInOrder) {
  RpcTestServer server;
  auto client = ClientFor(server);
  v1::GenerateRequest request = FakeRequest(5);
  request.set_num_images(2);
  request.set_preview_every(2);
  std::vector<std::string> kinds;
  absl::Status status = client->StreamGenerate(
      request, [&](const v1::GenerateEvent& e) { kinds.push_back(KindOf(e)); },
      CallOptions{absl::Seconds(60), nullptr});
  ASSERT_TRUE(status.ok()) << status;
  EXPECT_THAT(Shape(kinds), ElementsAre("queued", "started", "progress", "image", "image", "done"));
  EXPECT_EQ(client->last_attempts(), 1);
}

TEST(ImageGenerationClientTest, UnaryGenerateListModelsAndHealth) {
  RpcTestServer server;
  auto client = ClientFor(server);
  v1::GenerateRequest request = FakeRequest(3);
  request.set_num_images(2);
  request.set_seed(100);
  absl::StatusOr<v1::GenerateResponse> response = client->Generate(request);
  ASSERT_TRUE(response.ok()) << response.status();
  ASSERT_EQ(response->images_size(), 2);
  EXPECT_EQ(response->images(1).seed(), 101u);
  EXPECT_EQ(response->images(0).png().substr(1, 3), "PNG");

  absl::StatusOr<v1::ListModelsResponse> models = client->ListModels();
  ASSERT_TRUE(models.ok()) << models.status();
  ASSERT_GE(models->models_size(), 1);
  EXPECT_EQ(models->models(0).name(), "fake");
  EXPECT_TRUE(models->models(0).is_default());

  absl::StatusOr<ServingStatus> health = client->Health();
  ASSERT_TRUE(health.ok()) << health.status();
  EXPECT_EQ(*health, ServingStatus::kServing);
  health = client->Health("ldm.v1.ImageGeneration");
  ASSERT_TRUE(health.ok()) << health.status();
  EXPECT_EQ(*health, ServingStatus::kServing);
  EXPECT_STREQ(ServingStatusName(*health), "SERVING");
}

TEST(ImageGenerationClientTest, HealthNotServingWhileStarting) {
  RpcTestOptions options;
  options.serving = false;
  RpcTestServer server(options);
  absl::StatusOr<ServingStatus> health = ClientFor(server)->Health();
  ASSERT_TRUE(health.ok()) << health.status();
  EXPECT_EQ(*health, ServingStatus::kNotServing);
}

TEST(ImageGenerationClientTest, ErrorsKeepTheServersCodeAndMessageAndAreNotRetried) {
  RpcTestServer server;
  auto client = ClientFor(server);
  v1::GenerateRequest request = FakeRequest(5000);
  request.set_request_id("bad-steps");
  int events = 0;
  absl::Status status =
      client->StreamGenerate(request, [&](const v1::GenerateEvent&) { ++events; });
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(status.message(), HasSubstr("bad-steps"));
  EXPECT_THAT(status.message(), HasSubstr("steps"));
  EXPECT_EQ(events, 0);
  EXPECT_EQ(client->last_attempts(), 1);

  request = FakeRequest(3);
  request.set_model("no-such-model");
  absl::StatusOr<v1::GenerateResponse> response = client->Generate(request);
  EXPECT_EQ(response.status().code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(response.status().message(), HasSubstr("fake"));  // lists the loaded models
  EXPECT_EQ(client->last_attempts(), 1);
}

TEST(ImageGenerationClientTest, CancelFromAnotherThreadEndsTheStreamAndFreesTheServer) {
  RpcTestOptions options;
  options.step_delay = absl::Milliseconds(5);
  RpcTestServer server(options);
  auto client = ClientFor(server);
  CallOptions call;
  call.handle = std::make_shared<CallHandle>();
  absl::Notification running;
  std::thread canceller([&] {
    ASSERT_TRUE(running.WaitForNotificationWithTimeout(absl::Seconds(30)));
    call.handle->Cancel();
  });
  absl::Status status = client->StreamGenerate(
      FakeRequest(1000),
      [&](const v1::GenerateEvent& e) {
        if (e.has_progress() && !running.HasBeenNotified()) running.Notify();
      },
      call);
  canceller.join();
  EXPECT_EQ(status.code(), absl::StatusCode::kCancelled) << status;
  EXPECT_EQ(client->last_attempts(), 1);
  absl::SleepFor(absl::Milliseconds(200));
  const int steps = server.engine().step_calls();
  absl::SleepFor(absl::Milliseconds(200));
  EXPECT_EQ(server.engine().step_calls(), steps);  // the job left its batch
  EXPECT_LT(steps, 1000);
}

TEST(ImageGenerationClientTest, CancelledHandleNeverStartsTheCall) {
  RpcTestServer server;
  auto client = ClientFor(server);
  CallOptions call;
  call.handle = std::make_shared<CallHandle>();
  call.handle->Cancel();
  absl::StatusOr<v1::GenerateResponse> response = client->Generate(FakeRequest(3), call);
  EXPECT_EQ(response.status().code(), absl::StatusCode::kCancelled);
  EXPECT_EQ(server.engine().step_calls(), 0);
}

TEST(ImageGenerationClientTest, DeadlineEndsALongStream) {
  RpcTestOptions options;
  options.step_delay = absl::Milliseconds(5);
  RpcTestServer server(options);
  auto client = ClientFor(server);
  const absl::Time start = absl::Now();
  absl::Status status = client->StreamGenerate(FakeRequest(1000), nullptr,
                                               CallOptions{absl::Milliseconds(500), nullptr});
  EXPECT_EQ(status.code(), absl::StatusCode::kDeadlineExceeded) << status;
  EXPECT_LT(absl::Now() - start, absl::Seconds(4));
  EXPECT_EQ(client->last_attempts(), 1);
}

TEST(ImageGenerationClientTest, UnavailableWhileStartingIsRetriedUntilTheServerIsReady) {
  RpcTestOptions options;
  options.attach = false;  // the service answers UNAVAILABLE ("starting")
  RpcTestServer server(options);
  ClientOptions o = FastRetries(server.grpc().address());
  o.max_attempts = 50;
  auto client = *ImageGenerationClient::Create(o);
  std::thread attacher([&] {
    absl::SleepFor(absl::Milliseconds(300));
    server.Attach();
  });
  std::vector<std::string> kinds;
  absl::Status status = client->StreamGenerate(
      FakeRequest(3), [&](const v1::GenerateEvent& e) { kinds.push_back(KindOf(e)); },
      CallOptions{absl::Seconds(30), nullptr});
  attacher.join();
  ASSERT_TRUE(status.ok()) << status;
  EXPECT_GT(client->last_attempts(), 1);
  EXPECT_EQ(kinds.front(), "queued");
  EXPECT_EQ(kinds.back(), "done");
}

TEST(ImageGenerationClientTest, RetriesAreBoundedAndKeepTheLastMessage) {
  RpcTestOptions options;
  options.attach = false;
  RpcTestServer server(options);
  auto client = ClientFor(server, /*max_attempts=*/3);
  absl::StatusOr<v1::GenerateResponse> response = client->Generate(FakeRequest(3));
  EXPECT_EQ(response.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_THAT(response.status().message(), HasSubstr("starting"));
  EXPECT_EQ(client->last_attempts(), 3);
}

TEST(ImageGenerationClientTest, NoServerListeningIsUnavailableAfterBoundedAttempts) {
  ClientOptions o = FastRetries("127.0.0.1:1");  // nothing listens on port 1
  o.max_attempts = 2;
  auto client = *ImageGenerationClient::Create(o);
  absl::Status status =
      client->StreamGenerate(FakeRequest(3), nullptr, CallOptions{absl::Seconds(20), nullptr});
  EXPECT_EQ(status.code(), absl::StatusCode::kUnavailable) << status;
  EXPECT_EQ(client->last_attempts(), 2);
}

TEST(ImageGenerationClientTest, CancelDuringBackoffReturnsAtOnce) {
  RpcTestOptions options;
  options.attach = false;
  RpcTestServer server(options);
  ClientOptions o = FastRetries(server.grpc().address());
  o.max_attempts = 10;
  o.initial_backoff = absl::Seconds(20);
  o.max_backoff = absl::Seconds(20);
  auto client = *ImageGenerationClient::Create(o);
  CallOptions call;
  call.handle = std::make_shared<CallHandle>();
  std::thread canceller([&] {
    absl::SleepFor(absl::Milliseconds(300));
    call.handle->Cancel();
  });
  const absl::Time start = absl::Now();
  absl::Status status = client->StreamGenerate(FakeRequest(3), nullptr, call);
  canceller.join();
  EXPECT_EQ(status.code(), absl::StatusCode::kCancelled) << status;
  EXPECT_LT(absl::Now() - start, absl::Seconds(10));
}

// Sends `events_before_failure` events, then fails with UNAVAILABLE; counts calls.
class FlakyStreamService final : public v1::ImageGeneration::Service {
 public:
  explicit FlakyStreamService(int events_before_failure) : events_(events_before_failure) {}
  grpc::Status StreamGenerate(grpc::ServerContext*, const v1::GenerateRequest*,
                              grpc::ServerWriter<v1::GenerateEvent>* writer) override {
    ++calls_;
    for (int i = 0; i < events_; ++i) {
      v1::GenerateEvent e;
      e.mutable_queued()->set_position(0);
      writer->Write(e);
    }
    return grpc::Status(grpc::StatusCode::UNAVAILABLE, "the server is draining");
  }
  int calls() const { return calls_; }

 private:
  const int events_;
  std::atomic<int> calls_{0};
};

class FlakyServer {
 public:
  explicit FlakyServer(int events_before_failure) : service_(events_before_failure) {
    grpc::ServerBuilder builder;
    builder.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(), &port_);
    builder.RegisterService(&service_);
    server_ = builder.BuildAndStart();
  }
  ~FlakyServer() { server_->Shutdown(); }
  std::string address() const { return "127.0.0.1:" + std::to_string(port_); }
  const FlakyStreamService& service() const { return service_; }

 private:
  FlakyStreamService service_;
  int port_ = 0;
  std::unique_ptr<grpc::Server> server_;
};

TEST(ImageGenerationClientTest, UnavailableAfterTheFirstEventIsNotRetried) {
  FlakyServer server(/*events_before_failure=*/1);
  auto client = *ImageGenerationClient::Create(FastRetries(server.address()));
  int events = 0;
  absl::Status status =
      client->StreamGenerate(FakeRequest(3), [&](const v1::GenerateEvent&) { ++events; });
  EXPECT_EQ(status.code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(status.message(), "the server is draining");
  EXPECT_EQ(events, 1);
  EXPECT_EQ(server.service().calls(), 1);
  EXPECT_EQ(client->last_attempts(), 1);
}

TEST(ImageGenerationClientTest, UnavailableBeforeAnyEventIsRetried) {
  FlakyServer server(/*events_before_failure=*/0);
  auto client = *ImageGenerationClient::Create(FastRetries(server.address()));
  absl::Status status = client->StreamGenerate(FakeRequest(3), nullptr);
  EXPECT_EQ(status.code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(server.service().calls(), 4);
  EXPECT_EQ(client->last_attempts(), 4);
}

TEST(ImageGenerationClientTest, RetriesStopAtTheDeadline) {
  FlakyServer server(/*events_before_failure=*/0);
  ClientOptions o = FastRetries(server.address());
  o.max_attempts = 100;
  o.initial_backoff = absl::Milliseconds(400);
  o.max_backoff = absl::Milliseconds(400);
  auto client = *ImageGenerationClient::Create(o);
  const absl::Time start = absl::Now();
  absl::Status status =
      client->StreamGenerate(FakeRequest(3), nullptr, CallOptions{absl::Seconds(1), nullptr});
  EXPECT_LT(absl::Now() - start, absl::Seconds(3));
  EXPECT_LE(server.service().calls(), 3);
  EXPECT_TRUE(status.code() == absl::StatusCode::kUnavailable ||
              status.code() == absl::StatusCode::kDeadlineExceeded)
      << status;
}

TEST(ImageGenerationClientTest, ChannelArgumentsAskForRoundRobinAndLargeMessages) {
  ClientOptions o;
  const grpc::ChannelArguments args = ImageGenerationClient::ChannelArguments(o);
  const grpc_channel_args c = args.c_channel_args();
  std::map<std::string, std::string> strings;
  std::map<std::string, int> ints;
  for (size_t i = 0; i < c.num_args; ++i) {
    if (c.args[i].type == GRPC_ARG_STRING) strings[c.args[i].key] = c.args[i].value.string;
    if (c.args[i].type == GRPC_ARG_INTEGER) ints[c.args[i].key] = c.args[i].value.integer;
  }
  EXPECT_THAT(strings[GRPC_ARG_SERVICE_CONFIG], HasSubstr("round_robin"));
  EXPECT_EQ(ints[GRPC_ARG_MAX_RECEIVE_MESSAGE_LENGTH], 64 << 20);
  EXPECT_EQ(ints[GRPC_ARG_MAX_SEND_MESSAGE_LENGTH], 64 << 20);

  o.round_robin = false;
  const grpc::ChannelArguments plain = ImageGenerationClient::ChannelArguments(o);
  const grpc_channel_args pc = plain.c_channel_args();
  for (size_t i = 0; i < pc.num_args; ++i) {
    EXPECT_STRNE(pc.args[i].key, GRPC_ARG_SERVICE_CONFIG);
  }
}

TEST(ImageGenerationClientTest, DnsTargetWithRoundRobinReachesTheServer) {
  RpcTestServer server;
  ClientOptions o = FastRetries(absl::StrCat("dns:///127.0.0.1:", server.grpc().port()));
  auto client = *ImageGenerationClient::Create(o);
  absl::StatusOr<v1::ListModelsResponse> models =
      client->ListModels(CallOptions{absl::Seconds(20), nullptr});
  ASSERT_TRUE(models.ok()) << models.status();
  EXPECT_EQ(models->models(0).name(), "fake");
}

std::string ReadTestdata(const std::string& name) {
  std::ifstream in(std::string(LDM_CLIENT_TESTDATA) + "/" + name);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

// Answers ListModels with one model named "tls".
class TlsModelsService final : public v1::ImageGeneration::Service {
 public:
  grpc::Status ListModels(grpc::ServerContext*, const v1::ListModelsRequest*,
                          v1::ListModelsResponse* response) override {
    response->add_models()->set_name("tls");
    return grpc::Status::OK;
  }
};

TEST(ImageGenerationClientTest, TlsWithACaFile) {
  // testdata/server.pem: a self-signed certificate for "ldm.test" (tests only), its own CA.
  grpc::SslServerCredentialsOptions ssl;
  ssl.pem_key_cert_pairs.push_back({ReadTestdata("server.key"), ReadTestdata("server.pem")});
  TlsModelsService service;
  int port = 0;
  grpc::ServerBuilder builder;
  builder.AddListeningPort("127.0.0.1:0", grpc::SslServerCredentials(ssl), &port);
  builder.RegisterService(&service);
  std::unique_ptr<grpc::Server> server = builder.BuildAndStart();
  ASSERT_NE(server, nullptr);

  ClientOptions o = FastRetries(absl::StrCat("127.0.0.1:", port));
  o.max_attempts = 1;
  o.use_tls = true;
  o.ca_file = std::string(LDM_CLIENT_TESTDATA) + "/server.pem";
  o.tls_server_name = "ldm.test";
  auto client = *ImageGenerationClient::Create(o);
  absl::StatusOr<v1::ListModelsResponse> models =
      client->ListModels(CallOptions{absl::Seconds(20), nullptr});
  ASSERT_TRUE(models.ok()) << models.status();
  EXPECT_EQ(models->models(0).name(), "tls");

  // The certificate is not for 127.0.0.1: without the name override the handshake fails.
  o.tls_server_name.clear();
  auto mismatched = *ImageGenerationClient::Create(o);
  EXPECT_EQ(mismatched->ListModels(CallOptions{absl::Seconds(20), nullptr}).status().code(),
            absl::StatusCode::kUnavailable);
  // A plaintext client cannot talk to it either.
  o.use_tls = false;
  auto plaintext = *ImageGenerationClient::Create(o);
  EXPECT_EQ(plaintext->ListModels(CallOptions{absl::Seconds(20), nullptr}).status().code(),
            absl::StatusCode::kUnavailable);
  server->Shutdown();
}

TEST(ImageGenerationClientTest, TlsNeedsAReadableCaFile) {
  ClientOptions o;
  o.use_tls = true;
  o.ca_file = "/nonexistent/ca.pem";
  EXPECT_EQ(ImageGenerationClient::Create(o).status().code(), absl::StatusCode::kInvalidArgument);
  o.ca_file.clear();  // system roots
  EXPECT_TRUE(ImageGenerationClient::Create(o).ok());
}

}  // namespace
}  // namespace ldm::client
