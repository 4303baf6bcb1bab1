#include "server/rpc/proto_events.h"

#include <gtest/gtest.h>

namespace ldm::server {
namespace {

TEST(ProtoEventsTest, ProgressWithPreviewsSaysWhichStepTheyShow) {
  v1::GenerateEvent e = ProgressEvent(4, 10, {{1, "png"}});
  EXPECT_EQ(e.progress().step(), 4u);
  EXPECT_EQ(e.progress().total(), 10u);
  ASSERT_EQ(e.progress().previews_size(), 1);
  EXPECT_EQ(e.progress().previews(0).index(), 1u);
  EXPECT_EQ(e.progress().preview_step(), 4u);
  EXPECT_EQ(ProgressEvent(5, 10, {}).progress().preview_step(), 0u);
}

TEST(ProtoEventsTest, ImageAndDoneCarryEverything) {
  v1::GenerateEvent image = ImageEvent(2, "png", 99, 64, 32);
  EXPECT_EQ(image.image().index(), 2u);
  EXPECT_EQ(image.image().seed(), 99u);
  EXPECT_EQ(image.image().width(), 64u);
  EXPECT_EQ(image.image().height(), 32u);
  RequestTimings t;
  t.queue_seconds = 1;
  t.run_seconds = 2;
  t.total_seconds = 3;
  t.steps = 20;
  t.batch_rows_max = 6;
  v1::GenerateEvent done = DoneEvent("r1", t);
  EXPECT_EQ(done.done().request_id(), "r1");
  EXPECT_DOUBLE_EQ(done.done().timings().total_seconds(), 3);
  EXPECT_EQ(done.done().timings().steps(), 20u);
  EXPECT_EQ(done.done().timings().batch_rows_max(), 6u);
}

TEST(ProtoEventsTest, CancellationAfterTheDeadlineIsDeadlineExceeded) {
  const absl::Status expired =
      CancellationStatus("r1", absl::Now() - absl::Seconds(1), "the client cancelled the call");
  EXPECT_EQ(expired.code(), absl::StatusCode::kDeadlineExceeded);
  EXPECT_NE(expired.message().find("request r1"), absl::string_view::npos);
  EXPECT_EQ(CancellationStatus("r1", absl::Now() + absl::Hours(1), "x").code(),
            absl::StatusCode::kCancelled);
  EXPECT_EQ(CancellationStatus("r1", std::nullopt, "x").code(), absl::StatusCode::kCancelled);
}

}  // namespace
}  // namespace ldm::server
