#include "server/rpc/stream_event_buffer.h"

#include <gtest/gtest.h>

#include "server/rpc/proto_events.h"

namespace ldm::server {
namespace {

std::vector<PreviewImage> OnePreview(const std::string& png) { return {{0, png}}; }

TEST(StreamEventBufferTest, OneWriteInFlightAtATimeInArrivalOrder) {
  StreamEventBuffer b;
  b.Push(QueuedEvent(0));
  b.Push(StartedEvent("m", "cpu"));
  const v1::GenerateEvent* first = b.StartNext();
  ASSERT_NE(first, nullptr);
  EXPECT_TRUE(first->has_queued());
  EXPECT_EQ(b.StartNext(), nullptr);  // still in flight
  b.WriteDone();
  const v1::GenerateEvent* second = b.StartNext();
  ASSERT_NE(second, nullptr);
  EXPECT_TRUE(second->has_started());
  b.WriteDone();
  EXPECT_TRUE(b.idle());
}

TEST(StreamEventBufferTest, ProgressWhileAWriteIsInFlightIsCoalescedLatestWins) {
  StreamEventBuffer b;
  b.Push(StartedEvent("m", "cpu"));
  ASSERT_NE(b.StartNext(), nullptr);  // a slow write
  b.Push(ProgressEvent(1, 10, OnePreview("p1")));
  b.Push(ProgressEvent(2, 10, {}));
  b.Push(ProgressEvent(3, 10, OnePreview("p3")));
  b.Push(ProgressEvent(4, 10, {}));
  EXPECT_EQ(b.coalesced(), 3);
  b.WriteDone();
  const v1::GenerateEvent* e = b.StartNext();
  ASSERT_NE(e, nullptr);
  ASSERT_TRUE(e->has_progress());
  EXPECT_EQ(e->progress().step(), 4u);
  ASSERT_EQ(e->progress().previews_size(), 1);
  EXPECT_EQ(e->progress().previews(0).png(), "p3");  // the latest preview survives
  EXPECT_EQ(e->progress().preview_step(), 3u);
  b.WriteDone();
  EXPECT_TRUE(b.idle());
}

TEST(StreamEventBufferTest, ImagesAndDoneAreNeverDroppedOrReordered) {
  StreamEventBuffer b;
  ASSERT_EQ(b.StartNext(), nullptr);
  b.Push(ProgressEvent(9, 10, {}));
  ASSERT_NE(b.StartNext(), nullptr);
  b.Push(ProgressEvent(10, 10, {}));
  b.Push(ImageEvent(0, "img0", 1, 8, 8));
  b.Push(ImageEvent(1, "img1", 2, 8, 8));
  b.Push(DoneEvent("r", RequestTimings{}));
  std::vector<std::string> order;
  b.WriteDone();
  while (const v1::GenerateEvent* e = b.StartNext()) {
    if (e->has_progress()) order.push_back("progress" + std::to_string(e->progress().step()));
    if (e->has_image()) order.push_back(e->image().png());
    if (e->has_done()) order.push_back("done");
    b.WriteDone();
  }
  EXPECT_EQ(order, (std::vector<std::string>{"progress10", "img0", "img1", "done"}));
}

TEST(StreamEventBufferTest, ProgressAfterAnImageIsNotMergedIntoEarlierProgress) {
  StreamEventBuffer b;
  b.Push(ProgressEvent(1, 2, {}));
  b.Push(ImageEvent(0, "img", 1, 8, 8));
  b.Push(ProgressEvent(2, 2, {}));
  EXPECT_EQ(b.coalesced(), 0);
}

TEST(StreamEventBufferTest, ClearDropsWaitingEventsButNotTheOneInFlight) {
  StreamEventBuffer b;
  b.Push(QueuedEvent(0));
  b.Push(StartedEvent("m", "cpu"));
  ASSERT_NE(b.StartNext(), nullptr);
  b.Clear();
  EXPECT_TRUE(b.write_in_flight());
  EXPECT_TRUE(b.empty());
  b.WriteDone();
  EXPECT_TRUE(b.idle());
}

}  // namespace
}  // namespace ldm::server
