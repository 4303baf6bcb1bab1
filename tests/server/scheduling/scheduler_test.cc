#include "server/scheduling/scheduler.h"

#include <gtest/gtest.h>

#include <atomic>
#include <thread>

#include "absl/synchronization/notification.h"
#include "absl/time/clock.h"
#include "tests/testing/fake_engine.h"
#include "tests/testing/recording_sink.h"

namespace ldm::server {
namespace {

using testing::FakeEngine;
using testing::RecordingSink;

std::vector<DeviceEngines> Devices(int n, FakeEngine** first = nullptr) {
  std::vector<DeviceEngines> out;
  for (int i = 0; i < n; ++i) {
    DeviceEngines d;
    d.device = "fake:" + std::to_string(i);
    auto e = std::make_unique<FakeEngine>(FakeEngine::DefaultInfo("m"));
    if (i == 0 && first != nullptr) *first = e.get();
    d.engines["m"] = std::move(e);
    out.push_back(std::move(d));
  }
  return out;
}

GenerationRequest Request(const std::string& id, std::shared_ptr<RecordingSink> sink,
                          int steps = 5, const std::string& model = "m") {
  GenerationRequest r;
  r.request_id = id;
  r.model = model;
  r.sink = std::move(sink);
  JobSpec s;
  s.request_id = id;
  s.steps = steps;
  s.guidance_scale = 5.0;
  r.images.push_back(s);
  return r;
}

TEST(SchedulerTest, UnknownModelIsNotFoundBeforeAnyEvent) {
  Scheduler s({}, Devices(1), RealClock::Get(), nullptr);
  auto sink = std::make_shared<RecordingSink>();
  auto r = s.Enqueue(Request("x", sink, 5, "nope"));
  EXPECT_EQ(r.status().code(), absl::StatusCode::kNotFound);
  EXPECT_NE(r.status().message().find("nope"), std::string::npos);
  EXPECT_TRUE(sink->events().empty());
}

TEST(SchedulerTest, FullQueueIsResourceExhaustedImmediately) {
  SchedulerOptions o;
  o.max_queue = 2;
  Scheduler s(o, Devices(1), RealClock::Get(), nullptr);  // not started: nothing drains the queue
  auto sink = std::make_shared<RecordingSink>();
  ASSERT_TRUE(s.Enqueue(Request("a", sink)).ok());
  ASSERT_TRUE(s.Enqueue(Request("b", sink)).ok());
  const absl::Time t0 = absl::Now();
  auto r = s.Enqueue(Request("c", std::make_shared<RecordingSink>()));
  EXPECT_EQ(r.status().code(), absl::StatusCode::kResourceExhausted);
  EXPECT_LT(absl::Now() - t0, absl::Seconds(1));
}

TEST(SchedulerTest, DeadlineAlreadyPassedIsRejected) {
  Scheduler s({}, Devices(1), RealClock::Get(), nullptr);
  auto req = Request("a", std::make_shared<RecordingSink>());
  req.deadline = absl::Now() - absl::Seconds(1);
  EXPECT_EQ(s.Enqueue(std::move(req)).status().code(), absl::StatusCode::kDeadlineExceeded);
}

TEST(SchedulerTest, ManyConcurrentRequestsAllCompleteWithBatchesLargerThanOne) {
  FakeEngine* engine = nullptr;
  SchedulerOptions o;
  o.max_batch_rows = 16;
  Scheduler s(o, Devices(1, &engine), RealClock::Get(), nullptr);
  engine->set_on_step([] { absl::SleepFor(absl::Milliseconds(1)); });
  s.Start();
  std::vector<std::shared_ptr<RecordingSink>> sinks;
  for (int i = 0; i < 32; ++i) {
    sinks.push_back(std::make_shared<RecordingSink>());
    ASSERT_TRUE(s.Enqueue(Request("r" + std::to_string(i), sinks.back(), 10)).ok());
  }
  for (auto& sink : sinks) {
    ASSERT_TRUE(sink->WaitDone());
    EXPECT_TRUE(sink->status().ok()) << sink->status();
    EXPECT_EQ(sink->events().front(), "queued");
  }
  int max_rows = 0;
  for (int r : engine->batch_rows()) max_rows = std::max(max_rows, r);
  EXPECT_GT(max_rows, 2);
  EXPECT_LE(max_rows, 16);
}

TEST(SchedulerTest, DrainFinishesEveryAcceptedRequestThenRejectsNewOnes) {
  Scheduler s({}, Devices(2), RealClock::Get(), nullptr);
  s.Start();
  std::vector<std::shared_ptr<RecordingSink>> sinks;
  for (int i = 0; i < 12; ++i) {
    sinks.push_back(std::make_shared<RecordingSink>());
    ASSERT_TRUE(s.Enqueue(Request("r" + std::to_string(i), sinks.back(), 20)).ok());
  }
  EXPECT_TRUE(s.Drain(absl::Seconds(30)));
  for (auto& sink : sinks) {
    ASSERT_TRUE(sink->done());
    EXPECT_TRUE(sink->status().ok()) << sink->status();
    EXPECT_EQ(sink->images().size(), 1u);
  }
  auto r = s.Enqueue(Request("late", std::make_shared<RecordingSink>()));
  EXPECT_EQ(r.status().code(), absl::StatusCode::kUnavailable);
}

TEST(SchedulerTest, DrainWaitsForARequestTheWorkerIsStillAdmitting) {
  // The window of the session-3 race: the worker has taken the request off the queue (queue
  // empty) but not yet counted it as active. Drain must not take that for idle.
  FakeEngine* engine = nullptr;
  Scheduler s({}, Devices(1, &engine), RealClock::Get(), nullptr);
  absl::Notification creating, release;
  engine->set_on_create([&] {
    if (!creating.HasBeenNotified()) creating.Notify();
    release.WaitForNotification();
  });
  s.Start();
  auto sink = std::make_shared<RecordingSink>();
  ASSERT_TRUE(s.Enqueue(Request("slow-admit", sink, 3)).ok());
  creating.WaitForNotification();
  std::atomic<bool> returned{false};
  bool drained = false;
  std::thread drainer([&] {
    drained = s.Drain(absl::Seconds(30));
    returned = true;
  });
  absl::SleepFor(absl::Milliseconds(300));
  EXPECT_FALSE(returned.load()) << "Drain returned while a request was being admitted";
  release.Notify();
  drainer.join();
  EXPECT_TRUE(drained);
  ASSERT_TRUE(sink->done());
  EXPECT_TRUE(sink->status().ok()) << sink->status();
  EXPECT_EQ(sink->images().size(), 1u);
}

TEST(SchedulerTest, CancellingAQueuedRequestFinishesItAtOnce) {
  Scheduler s({}, Devices(1), RealClock::Get(), nullptr);  // not started
  auto sink = std::make_shared<RecordingSink>();
  auto r = s.Enqueue(Request("a", sink));
  ASSERT_TRUE(r.ok());
  s.Cancel(*r, absl::CancelledError("request a: cancelled"));
  EXPECT_TRUE(sink->done());
  EXPECT_EQ(sink->status().code(), absl::StatusCode::kCancelled);
  EXPECT_EQ(s.queue_depth(), 0);
}

}  // namespace
}  // namespace ldm::server
