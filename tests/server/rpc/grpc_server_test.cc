// GrpcServer: health transitions and message size limits.
#include "server/rpc/grpc_server.h"

#include <gtest/gtest.h>

#include "tests/server/rpc/health_probe.h"
#include "tests/server/rpc/rpc_test_server.h"

namespace ldm::testing {
namespace {

TEST(GrpcServerTest, HealthIsNotServingUntilReadyThenServingThenNotServingWhenDraining) {
  RpcTestOptions options;
  options.serving = false;
  RpcTestServer server(options);
  for (const std::string service : {"", server::GrpcServer::kServiceName}) {
    SCOPED_TRACE(service);
    EXPECT_EQ(*CheckHealth(server.channel(), service), Health::kNotServing);
  }
  server.grpc().SetServing(true);
  for (const std::string service : {"", server::GrpcServer::kServiceName}) {
    EXPECT_EQ(*CheckHealth(server.channel(), service), Health::kServing);
  }
  server.grpc().SetServing(false);
  EXPECT_EQ(*CheckHealth(server.channel()), Health::kNotServing);
}

TEST(GrpcServerTest, UnknownHealthServiceIsNotFound) {
  RpcTestServer server;
  EXPECT_EQ(CheckHealth(server.channel(), "no.such.Service").status().code(),
            absl::StatusCode::kNotFound);
}

TEST(GrpcServerTest, PortZeroPicksAFreePort) {
  RpcTestServer a, b;
  EXPECT_GT(a.grpc().port(), 0);
  EXPECT_NE(a.grpc().port(), b.grpc().port());
}

TEST(GrpcServerTest, LargeRequestsUpToTheRaisedLimitAreAccepted) {
  RpcTestServer server;
  v1::GenerateRequest request = FakeRequest(2);
  // A 256x256 raw semantic map is small; a 6 MiB negative prompt exceeds gRPC's 4 MiB default
  // but not the server's 64 MiB limit, so it must come back as a validation error, not
  // RESOURCE_EXHAUSTED from the transport.
  request.set_negative_prompt(std::string(6 << 20, 'a'));
  grpc::ClientContext context;
  v1::GenerateResponse response;
  const grpc::Status status = server.stub().Generate(&context, request, &response);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << status.error_message();
}

}  // namespace
}  // namespace ldm::testing
