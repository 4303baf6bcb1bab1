#include "server/scheduling/request_state.h"

#include <gtest/gtest.h>

#include "tests/testing/recording_sink.h"

namespace ldm::server {
namespace {

std::pair<std::shared_ptr<RequestState>, std::shared_ptr<testing::RecordingSink>> Make(int images) {
  auto sink = std::make_shared<testing::RecordingSink>();
  GenerationRequest r;
  r.request_id = "r1";
  r.model = "m";
  r.images.resize(images);
  r.sink = sink;
  return {std::make_shared<RequestState>(std::move(r), absl::UnixEpoch(), 0), sink};
}

TEST(RequestStateTest, DoneFollowsTheLastImageExactlyOnce) {
  auto [state, sink] = Make(2);
  const absl::Time t = absl::UnixEpoch() + absl::Seconds(1);
  state->EmitStarted("cpu", t);
  EXPECT_FALSE(state->EmitImage(0, "a", 1, 8, 8, t));
  EXPECT_TRUE(state->EmitImage(1, "b", 2, 8, 8, t + absl::Seconds(2)));
  EXPECT_FALSE(state->Finish(absl::InternalError("late"), t));
  EXPECT_EQ(sink->events(), (std::vector<std::string>{"started", "image", "image", "done"}));
  EXPECT_TRUE(sink->status().ok());
  EXPECT_DOUBLE_EQ(sink->timings().queue_seconds, 1.0);
  EXPECT_DOUBLE_EQ(sink->timings().run_seconds, 2.0);
}

TEST(RequestStateTest, TheFinishHookRunsOnceBeforeTheSinkHearsTheOutcome) {
  auto [state, sink] = Make(2);
  const absl::Time t = absl::UnixEpoch();
  int runs = 0;
  std::vector<std::string> seen_by_hook;
  auto hook = [&] {
    ++runs;
    seen_by_hook = sink->events();
  };
  EXPECT_FALSE(state->EmitImage(0, "a", 1, 8, 8, t, hook));
  EXPECT_EQ(runs, 0);  // not finished yet
  EXPECT_TRUE(state->EmitImage(1, "b", 2, 8, 8, t, hook));
  EXPECT_EQ(runs, 1);
  EXPECT_EQ(seen_by_hook, (std::vector<std::string>{"image", "image"}));  // no "done" yet
  EXPECT_FALSE(state->Finish(absl::InternalError("late"), t, hook));
  EXPECT_EQ(runs, 1);

  auto [failed, failed_sink] = Make(1);
  EXPECT_TRUE(failed->Finish(absl::CancelledError("x"), t, [&, s = failed_sink] {
    ++runs;
    EXPECT_TRUE(s->events().empty());
  }));
  EXPECT_EQ(runs, 2);
  EXPECT_EQ(failed_sink->events(), (std::vector<std::string>{"done"}));
}

TEST(RequestStateTest, AStartBeforeAcceptanceReportsZeroQueueWaitNotNegative) {
  auto sink = std::make_shared<testing::RecordingSink>();
  GenerationRequest r;
  r.request_id = "r2";
  r.images.resize(1);
  r.sink = sink;
  const absl::Time accepted = absl::UnixEpoch() + absl::Seconds(5);
  RequestState state(std::move(r), accepted, 0);
  // The worker's pass read its clock just before the request was accepted.
  state.EmitStarted("cpu", accepted - absl::Microseconds(30));
  EXPECT_TRUE(state.EmitImage(0, "a", 1, 8, 8, accepted + absl::Seconds(1)));
  EXPECT_DOUBLE_EQ(sink->timings().queue_seconds, 0.0);
  EXPECT_DOUBLE_EQ(sink->timings().run_seconds, 1.0);
}

TEST(RequestStateTest, NothingIsEmittedAfterFinish) {
  auto [state, sink] = Make(1);
  EXPECT_TRUE(state->Finish(absl::CancelledError("x"), absl::UnixEpoch()));
  state->EmitProgress(1, 2, {}, absl::UnixEpoch());
  EXPECT_FALSE(state->EmitImage(0, "a", 1, 8, 8, absl::UnixEpoch()));
  EXPECT_EQ(sink->events(), (std::vector<std::string>{"done"}));
  EXPECT_EQ(sink->status().code(), absl::StatusCode::kCancelled);
}

TEST(RequestStateTest, FirstCancelReasonWins) {
  auto [state, sink] = Make(1);
  state->RequestCancel(absl::CancelledError("first"));
  state->RequestCancel(absl::DeadlineExceededError("second"));
  ASSERT_TRUE(state->cancel_reason().has_value());
  EXPECT_EQ(state->cancel_reason()->code(), absl::StatusCode::kCancelled);
}

}  // namespace
}  // namespace ldm::server
