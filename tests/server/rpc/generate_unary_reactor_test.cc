// GenerateUnaryReactor over real gRPC with FakeEngines.
#include "server/rpc/generate_unary_reactor.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "tests/server/rpc/rpc_test_server.h"

namespace ldm::testing {
namespace {

using ::testing::HasSubstr;

TEST(GenerateUnaryReactorTest, ReturnsEveryImageInIndexOrderWithSeedsAndTimings) {
  RpcTestServer server;
  v1::GenerateRequest request = FakeRequest(4);
  request.set_num_images(3);
  request.set_seed(77);
  request.set_request_id("unary-1");
  request.set_preview_every(1);  // accepted, but unary calls get no previews
  grpc::ClientContext context;
  v1::GenerateResponse response;
  const grpc::Status status = server.stub().Generate(&context, request, &response);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(response.request_id(), "unary-1");
  EXPECT_EQ(response.model(), "fake");
  ASSERT_EQ(response.images_size(), 3);
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(response.images(i).index(), static_cast<uint32_t>(i));
    EXPECT_EQ(response.images(i).seed(), 77u + i);
    EXPECT_EQ(response.images(i).width(), 64u);
    EXPECT_EQ(response.images(i).png().substr(1, 3), "PNG");
  }
  EXPECT_EQ(response.timings().steps(), 4u);
  EXPECT_GE(response.timings().batch_rows_max(), 3u);
}

TEST(GenerateUnaryReactorTest, AFailedJobReturnsItsStatus) {
  RpcTestServer server;
  v1::GenerateRequest request = FakeRequest(4);
  request.set_prompt("fail-decode");
  request.set_request_id("u-bad");
  grpc::ClientContext context;
  v1::GenerateResponse response;
  const grpc::Status status = server.stub().Generate(&context, request, &response);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INTERNAL);
  EXPECT_THAT(status.error_message(), HasSubstr("u-bad"));
}

TEST(GenerateUnaryReactorTest, ClientDeadlineStopsTheJob) {
  RpcTestOptions options;
  options.step_delay = absl::Milliseconds(5);
  RpcTestServer server(options);
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + std::chrono::milliseconds(300));
  v1::GenerateResponse response;
  const grpc::Status status = server.stub().Generate(&context, FakeRequest(1000), &response);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::DEADLINE_EXCEEDED);
  absl::SleepFor(absl::Milliseconds(200));
  const int steps = server.engine().step_calls();
  absl::SleepFor(absl::Milliseconds(200));
  EXPECT_EQ(server.engine().step_calls(), steps);
  EXPECT_EQ(server.scheduler().active_jobs(), 0);
}

}  // namespace
}  // namespace ldm::testing
