#include "server/prometheus_scheduler_metrics.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "server/metrics/builder.h"

namespace ldm::server {
namespace {

using ::testing::HasSubstr;

TEST(PrometheusSchedulerMetricsTest, ObservationsLandInTheDesignSeries) {
  metrics::Registry registry;
  auto m = PrometheusSchedulerMetrics::Create(&registry);
  ASSERT_TRUE(m.ok()) << m.status();
  (*m)->RequestFinished("sd", absl::StatusCode::kOk, 1.5);
  (*m)->RequestFinished("sd", absl::StatusCode::kResourceExhausted, 0);
  (*m)->QueueWait(0.2);
  (*m)->TimeToFirstPreview(0.3);
  (*m)->QueueDepth(4);
  (*m)->ActiveJobs(0, 3);
  (*m)->ActiveJobs(1, 2);
  (*m)->Batch(3, 0.05);
  (*m)->ImagesGenerated("sd", 2);
  (*m)->Cancelled("client");
  (*m)->PromptCacheTotals(5, 2);
  (*m)->PromptCacheTotals(7, 2);
  (*m)->DeviceMemory("cuda:0", 1024);
  (*m)->BuildInfo("0.1.0", "1.13.1");
  const std::string text = registry.Serialize();
  EXPECT_THAT(text, HasSubstr("ldm_requests_total{code=\"OK\",model=\"sd\"} 1"));
  EXPECT_THAT(text, HasSubstr("ldm_requests_total{code=\"RESOURCE_EXHAUSTED\",model=\"sd\"} 1"));
  EXPECT_THAT(text, HasSubstr("ldm_request_duration_seconds_count 2"));
  EXPECT_THAT(text, HasSubstr("ldm_queue_wait_seconds_count 1"));
  EXPECT_THAT(text, HasSubstr("ldm_time_to_first_preview_seconds_count 1"));
  EXPECT_THAT(text, HasSubstr("ldm_queue_depth 4"));
  EXPECT_THAT(text, HasSubstr("ldm_active_jobs 5"));  // summed over workers
  EXPECT_THAT(text, HasSubstr("ldm_batch_rows_bucket{le=\"2\"} 0"));
  EXPECT_THAT(text, HasSubstr("ldm_batch_rows_bucket{le=\"4\"} 1"));
  EXPECT_THAT(text, HasSubstr("ldm_batch_rows_bucket{le=\"64\"} 1"));
  EXPECT_THAT(text, HasSubstr("ldm_step_duration_seconds_count 1"));
  EXPECT_THAT(text, HasSubstr("ldm_images_generated_total{model=\"sd\"} 2"));
  EXPECT_THAT(text, HasSubstr("ldm_cancelled_total{reason=\"client\"} 1"));
  EXPECT_THAT(text, HasSubstr("ldm_prompt_cache_hits_total 7"));
  EXPECT_THAT(text, HasSubstr("ldm_prompt_cache_misses_total 2"));
  EXPECT_THAT(text, HasSubstr("ldm_device_memory_bytes{device=\"cuda:0\"} 1024"));
  EXPECT_THAT(text, HasSubstr("ldm_build_info{torch=\"1.13.1\",version=\"0.1.0\"} 1"));
}

TEST(PrometheusSchedulerMetricsTest, ANameTakenWithAnotherTypeIsAnError) {
  metrics::Registry registry;
  ASSERT_TRUE(metrics::BuildGauge().Name("ldm_requests_total").Help("x").Register(registry).ok());
  EXPECT_FALSE(PrometheusSchedulerMetrics::Create(&registry).ok());
}

}  // namespace
}  // namespace ldm::server
