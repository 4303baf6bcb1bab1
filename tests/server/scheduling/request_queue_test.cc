#include "server/scheduling/request_queue.h"

#include <gtest/gtest.h>

#include "tests/testing/recording_sink.h"

namespace ldm::server {
namespace {

std::shared_ptr<RequestState> Make(const std::string& id, int priority, uint64_t seq) {
  GenerationRequest r;
  r.request_id = id;
  r.model = "m";
  r.priority = priority;
  r.images.resize(1);
  r.sink = std::make_shared<testing::RecordingSink>();
  return std::make_shared<RequestState>(std::move(r), absl::Now(), seq);
}

TEST(RequestQueueTest, OrdersByPriorityThenArrival) {
  RequestQueue q(10);
  ASSERT_EQ(*q.Push(Make("a", 0, 0)), 0);
  ASSERT_EQ(*q.Push(Make("b", 0, 1)), 1);
  ASSERT_EQ(*q.Push(Make("c", 5, 2)), 0);  // jumps ahead
  std::vector<std::string> order;
  while (auto r = q.PopIf([](const RequestState&) { return true; })) order.push_back(r->id());
  EXPECT_EQ(order, (std::vector<std::string>{"c", "a", "b"}));
}

TEST(RequestQueueTest, FullQueueIsResourceExhaustedAtOnce) {
  RequestQueue q(2);
  ASSERT_TRUE(q.Push(Make("a", 0, 0)).ok());
  ASSERT_TRUE(q.Push(Make("b", 0, 1)).ok());
  auto r = q.Push(Make("c", 0, 2));
  EXPECT_EQ(r.status().code(), absl::StatusCode::kResourceExhausted);
  EXPECT_NE(r.status().message().find("request c"), std::string::npos);
  EXPECT_EQ(q.size(), 2);
}

TEST(RequestQueueTest, ClosedQueueIsUnavailable) {
  RequestQueue q(2);
  q.Close();
  EXPECT_EQ(q.Push(Make("a", 0, 0)).status().code(), absl::StatusCode::kUnavailable);
}

TEST(RequestQueueTest, PopIfLeavesTheHeadWhenItDoesNotFit) {
  RequestQueue q(4);
  ASSERT_TRUE(q.Push(Make("a", 0, 0)).ok());
  EXPECT_EQ(q.PopIf([](const RequestState&) { return false; }), nullptr);
  EXPECT_EQ(q.size(), 1);
}

TEST(RequestQueueTest, RemoveTakesOutAQueuedRequest) {
  RequestQueue q(4);
  auto a = Make("a", 0, 0);
  ASSERT_TRUE(q.Push(a).ok());
  EXPECT_TRUE(q.Remove(a.get()));
  EXPECT_FALSE(q.Remove(a.get()));
  EXPECT_EQ(q.size(), 0);
}

TEST(RequestQueueTest, WaitForWorkReturnsOnPushOrTimeout) {
  RequestQueue q(4);
  const absl::Time t0 = absl::Now();
  q.WaitForWork(absl::Milliseconds(20));
  EXPECT_GE(absl::Now() - t0, absl::Milliseconds(15));
  ASSERT_TRUE(q.Push(Make("a", 0, 0)).ok());
  const absl::Time t1 = absl::Now();
  q.WaitForWork(absl::Seconds(10));
  EXPECT_LT(absl::Now() - t1, absl::Seconds(1));
}

}  // namespace
}  // namespace ldm::server
