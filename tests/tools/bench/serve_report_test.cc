#include "tools/bench/serve_report.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace ldm::bench {
namespace serve_report_test {

RequestRecord Ok(int index, double sent, double started, double first_preview, double done) {
  RequestRecord r;
  r.index = index;
  r.request_id = "r-" + std::to_string(index);
  r.sent = sent;
  r.queued = sent;
  r.started = started;
  r.first_progress = first_preview;
  r.first_step = 1;
  r.first_preview = first_preview;
  r.last_progress = first_preview + 0.9;  // steps 1..10, 0.1 s each
  r.last_step = 10;
  r.total_steps = 10;
  r.done = done;
  r.images = 2;
  r.code = absl::StatusCode::kOk;
  r.server_queue_seconds = started - sent;
  r.batch_rows_max = 4;
  return r;
}

LoadRun TwoOkOneErrorOneAbandoned() {
  LoadRun run;
  run.kind = "closed";
  run.concurrency = 2;
  run.warmup = 1;
  run.measured = 2;
  run.records.push_back(Ok(0, 0.0, 0.0, 0.1, 1.0));   // warm-up
  run.records.push_back(Ok(1, 1.0, 1.5, 1.65, 3.0));  // counted
  run.records.push_back(Ok(2, 1.0, 1.0, 1.2, 5.0));   // counted
  RequestRecord failed;
  failed.index = 3;
  failed.request_id = "r-3";
  failed.code = absl::StatusCode::kResourceExhausted;
  failed.message = "queue full";
  failed.sent = 0.5;
  failed.done = 0.5;
  run.records.push_back(failed);  // an error during the warm-up
  RequestRecord abandoned;
  abandoned.index = 4;
  abandoned.code = absl::StatusCode::kCancelled;
  abandoned.abandoned = true;
  run.records.push_back(abandoned);
  run.counted = {1, 2};
  run.window_start = 1.0;
  run.window_end = 5.0;
  run.wall_seconds = 5.5;
  return run;
}

TEST(ServeReportTest, ThroughputIsImagesInTheWindowOverItsLength) {
  const nlohmann::json p = ServeReport::Summarize(TwoOkOneErrorOneAbandoned());
  EXPECT_EQ(p["kind"], "closed");
  EXPECT_EQ(p["concurrency"], 2);
  EXPECT_EQ(p["requests"], 2);
  EXPECT_EQ(p["ok"], 2);
  EXPECT_EQ(p["images"], 4);
  EXPECT_DOUBLE_EQ(p["window_seconds"].get<double>(), 4.0);
  EXPECT_DOUBLE_EQ(p["images_per_second"].get<double>(), 1.0);
  EXPECT_DOUBLE_EQ(p["requests_per_second"].get<double>(), 0.5);
  EXPECT_TRUE(p["rate"].is_null());
}

TEST(ServeReportTest, LatencyQueueAndPreviewTimesComeFromTheCountedRequests) {
  const nlohmann::json p = ServeReport::Summarize(TwoOkOneErrorOneAbandoned());
  // Latencies 2.0 and 4.0.
  EXPECT_EQ(p["latency_seconds"]["count"], 2);
  EXPECT_DOUBLE_EQ(p["latency_seconds"]["p50"].get<double>(), 3.0);
  EXPECT_DOUBLE_EQ(p["latency_seconds"]["max"].get<double>(), 4.0);
  // Server queue waits 0.5 and 0.0.
  EXPECT_DOUBLE_EQ(p["queue_wait_seconds"]["max"].get<double>(), 0.5);
  // First preview 0.15 s and 0.2 s after admission; the step time is 0.1 s.
  EXPECT_NEAR(p["time_to_first_preview_seconds"]["min"].get<double>(), 0.15, 1e-9);
  EXPECT_NEAR(p["time_to_first_preview_seconds"]["max"].get<double>(), 0.2, 1e-9);
  EXPECT_NEAR(p["time_to_first_preview_steps"]["min"].get<double>(), 1.5, 1e-9);
  EXPECT_NEAR(p["time_to_first_preview_steps"]["max"].get<double>(), 2.0, 1e-9);
  EXPECT_NEAR(p["step_seconds"]["p50"].get<double>(), 0.1, 1e-9);
  EXPECT_NEAR(p["started_to_first_preview_seconds"]["max"].get<double>(), 0.2, 1e-9);
  EXPECT_DOUBLE_EQ(p["batch_rows_max"]["p50"].get<double>(), 4.0);
}

TEST(ServeReportTest, ErrorsCountEveryFailedRequestButNotAbandonedOnes) {
  const nlohmann::json p = ServeReport::Summarize(TwoOkOneErrorOneAbandoned());
  EXPECT_EQ(p["errors"], 1);
  EXPECT_EQ(p["errors_by_code"]["RESOURCE_EXHAUSTED"], 1);
  EXPECT_EQ(p["abandoned"], 1);
  ASSERT_EQ(p["error_messages"].size(), 1u);
  EXPECT_THAT(p["error_messages"][0].get<std::string>(), ::testing::HasSubstr("queue full"));
  EXPECT_EQ(ServeReport::ErrorCount({p, p}), 2);
}

TEST(ServeReportTest, FirstPreviewCountsFromAdmissionNotFromTheStartedEventsArrival) {
  LoadRun run = TwoOkOneErrorOneAbandoned();
  // The StartedEvent of request 1 arrived late, together with its first preview.
  run.records[1].started = run.records[1].first_preview;
  const nlohmann::json p = ServeReport::Summarize(run);
  // Admission is sent + the server's queue wait: 1.0 + 0.5 = 1.5, 0.15 s before the preview.
  EXPECT_NEAR(p["time_to_first_preview_seconds"]["min"].get<double>(), 0.15, 1e-9);
  EXPECT_NEAR(p["started_to_first_preview_seconds"]["min"].get<double>(), 0.0, 1e-9);
}

TEST(ServeReportTest, RequestsWithoutPreviewsLeaveTheTimeToFirstPreviewEmpty) {
  LoadRun run = TwoOkOneErrorOneAbandoned();
  for (RequestRecord& r : run.records) r.first_preview = -1;
  const nlohmann::json p = ServeReport::Summarize(run);
  EXPECT_EQ(p["time_to_first_preview_seconds"]["count"], 0);
  EXPECT_TRUE(p["time_to_first_preview_seconds"]["p50"].is_null());
}

TEST(ServeReportTest, TableHasAHeaderAndOneLinePerPoint) {
  LoadRun open = TwoOkOneErrorOneAbandoned();
  open.kind = "open";
  open.rate = 2.5;
  const std::string table = ServeReport::Table(
      {ServeReport::Summarize(TwoOkOneErrorOneAbandoned()), ServeReport::Summarize(open)});
  EXPECT_THAT(table, ::testing::HasSubstr("img/s"));
  EXPECT_THAT(table, ::testing::HasSubstr("2.50/s"));
  EXPECT_EQ(std::count(table.begin(), table.end(), '\n'), 3);
}

}  // namespace serve_report_test
}  // namespace ldm::bench
