// StreamGenerateReactor over real gRPC with FakeEngines: event order, cancellation frees rows,
// deadlines, failures that stay with their request.
#include "server/rpc/stream_generate_reactor.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <set>
#include <thread>

#include "absl/synchronization/notification.h"
#include "tests/server/rpc/rpc_test_server.h"

namespace ldm::testing {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

// Collapses runs of progress events: {"queued","started","progress","image","image","done"}.
std::vector<std::string> Shape(const std::vector<std::string>& kinds) {
  std::vector<std::string> out;
  for (const auto& k : kinds) {
    if (k == "progress" && !out.empty() && out.back() == "progress") continue;
    out.push_back(k);
  }
  return out;
}

TEST(StreamGenerateReactorTest, EventsComeQueuedStartedProgressImagesDone) {
  RpcTestServer server;
  v1::GenerateRequest request = FakeRequest(6);
  request.set_num_images(2);
  request.set_preview_every(2);
  request.set_seed(500);
  request.set_request_id("order-1");
  StreamResult r = RunStream(server.stub(), request);
  ASSERT_TRUE(r.status.ok()) << r.status.error_message();
  EXPECT_THAT(Shape(r.kinds),
              ElementsAre("queued", "started", "progress", "image", "image", "done"));
  uint32_t last_step = 0;
  std::set<uint32_t> indices;
  for (const auto& e : r.events) {
    if (e.has_started()) {
      EXPECT_EQ(e.started().model(), "fake");
    }
    if (e.has_progress()) {
      EXPECT_GT(e.progress().step(), last_step);
      last_step = e.progress().step();
      EXPECT_EQ(e.progress().total(), 6u);
      for (const auto& p : e.progress().previews()) EXPECT_FALSE(p.png().empty());
    }
    if (e.has_image()) {
      indices.insert(e.image().index());
      EXPECT_EQ(e.image().seed(), 500u + e.image().index());
      EXPECT_EQ(e.image().width(), 64u);
      EXPECT_EQ(e.image().png().substr(1, 3), "PNG");
    }
    if (e.has_done()) {
      EXPECT_EQ(e.done().request_id(), "order-1");
      EXPECT_EQ(e.done().timings().steps(), 6u);
      EXPECT_GE(e.done().timings().total_seconds(), e.done().timings().run_seconds());
    }
  }
  EXPECT_EQ(indices, (std::set<uint32_t>{0, 1}));
}

TEST(StreamGenerateReactorTest, PreviewsArriveEveryKSteps) {
  RpcTestServer server;
  v1::GenerateRequest request = FakeRequest(8);
  request.set_preview_every(4);
  StreamResult r = RunStream(server.stub(), request);
  ASSERT_TRUE(r.status.ok());
  int with_previews = 0;
  for (const auto& e : r.events) {
    if (e.has_progress() && e.progress().previews_size() > 0) {
      ++with_previews;
      EXPECT_EQ(e.progress().preview_step() % 4, 0u);
    }
  }
  EXPECT_GE(with_previews, 1);  // step 4 (step 8 is the final image, not a preview)
}

TEST(StreamGenerateReactorTest, ClientCancelFreesTheRowsForAQueuedJobAtTheNextStep) {
  RpcTestOptions options;
  options.scheduler.max_batch_rows = 1;  // A fills the batch; B must wait in the queue
  options.step_delay = absl::Milliseconds(5);
  RpcTestServer server(options);

  grpc::ClientContext a_context;
  absl::Notification a_running;
  StreamResult a;
  std::thread a_thread([&] {
    a = RunStream(server.stub(), FakeRequest(1000), &a_context, [&](const v1::GenerateEvent& e) {
      if (e.has_progress() && !a_running.HasBeenNotified()) a_running.Notify();
    });
  });
  ASSERT_TRUE(a_running.WaitForNotificationWithTimeout(absl::Seconds(20)));

  absl::Notification b_queued;
  absl::Time b_started_at;
  StreamResult b;
  std::thread b_thread([&] {
    b = RunStream(server.stub(), FakeRequest(3), nullptr, [&](const v1::GenerateEvent& e) {
      if (e.has_queued()) b_queued.Notify();
      if (e.has_started()) b_started_at = absl::Now();
    });
  });
  ASSERT_TRUE(b_queued.WaitForNotificationWithTimeout(absl::Seconds(20)));
  absl::SleepFor(absl::Milliseconds(50));
  EXPECT_EQ(server.scheduler().queue_depth(), 1);  // B waits: no free rows

  const absl::Time cancelled_at = absl::Now();
  a_context.TryCancel();
  a_thread.join();
  b_thread.join();
  EXPECT_EQ(a.status.error_code(), grpc::StatusCode::CANCELLED);
  ASSERT_TRUE(b.status.ok()) << b.status.error_message();
  // B started within a few steps of the cancellation, not after A's 1000 steps.
  EXPECT_LT(b_started_at - cancelled_at, absl::Seconds(2));
  EXPECT_LT(server.engine().step_calls(), 900);
}

TEST(StreamGenerateReactorTest, DeadlineThatCannotBeMetIsDeadlineExceededWithoutStarting) {
  RpcTestOptions options;
  options.step_delay = absl::Milliseconds(20);
  RpcTestServer server(options);
  // Teaches the worker how long a step takes.
  ASSERT_TRUE(RunStream(server.stub(), FakeRequest(3)).status.ok());

  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(3));
  const int steps_before = server.engine().step_calls();
  StreamResult r = RunStream(server.stub(), FakeRequest(1000), &context);  // ~20 s of work
  EXPECT_EQ(r.status.error_code(), grpc::StatusCode::DEADLINE_EXCEEDED) << r.status.error_message();
  EXPECT_THAT(r.kinds, ::testing::Not(::testing::Contains("started")));
  EXPECT_EQ(server.engine().step_calls(), steps_before);
}

TEST(StreamGenerateReactorTest, DeadlinePassingMidGenerationStopsTheJob) {
  RpcTestOptions options;
  options.step_delay = absl::Milliseconds(5);
  RpcTestServer server(options);
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + std::chrono::milliseconds(500));
  StreamResult r = RunStream(server.stub(), FakeRequest(1000), &context);
  EXPECT_EQ(r.status.error_code(), grpc::StatusCode::DEADLINE_EXCEEDED);
  absl::SleepFor(absl::Milliseconds(200));
  const int steps = server.engine().step_calls();
  absl::SleepFor(absl::Milliseconds(200));
  EXPECT_EQ(server.engine().step_calls(), steps);  // the rows were freed
  EXPECT_LT(steps, 1000);
}

TEST(StreamGenerateReactorTest, AFailingJobFailsAloneAndTheOthersComplete) {
  RpcTestOptions options;
  options.step_delay = absl::Milliseconds(2);
  RpcTestServer server(options);
  v1::GenerateRequest bad = FakeRequest(5);
  bad.set_prompt("please fail-step");
  bad.set_request_id("bad-1");
  StreamResult good_result, bad_result;
  std::thread good([&] { good_result = RunStream(server.stub(), FakeRequest(20)); });
  std::thread failing([&] { bad_result = RunStream(server.stub(), bad); });
  good.join();
  failing.join();
  EXPECT_EQ(bad_result.status.error_code(), grpc::StatusCode::INTERNAL);
  EXPECT_THAT(bad_result.status.error_message(), HasSubstr("bad-1"));
  ASSERT_TRUE(good_result.status.ok()) << good_result.status.error_message();
  EXPECT_EQ(good_result.kinds.back(), "done");
  // The server still serves.
  EXPECT_TRUE(RunStream(server.stub(), FakeRequest(2)).status.ok());
}

TEST(StreamGenerateReactorTest, ASlowReaderStillGetsEveryImageAndTheDone) {
  RpcTestServer server;
  v1::GenerateRequest request = FakeRequest(200);
  request.set_num_images(4);
  request.set_preview_every(1);
  StreamResult r = RunStream(server.stub(), request, nullptr, [](const v1::GenerateEvent&) {
    absl::SleepFor(absl::Milliseconds(2));
  });
  ASSERT_TRUE(r.status.ok());
  EXPECT_EQ(std::count(r.kinds.begin(), r.kinds.end(), "image"), 4);
  EXPECT_EQ(r.kinds.back(), "done");
  EXPECT_LE(std::count(r.kinds.begin(), r.kinds.end(), "progress"), 200);
}

}  // namespace
}  // namespace ldm::testing
