#include "tools/bench/latency_summary.h"

#include <gtest/gtest.h>

#include <cmath>

namespace ldm::bench {
namespace latency_summary_test {

TEST(LatencySummaryTest, PercentilesInterpolateBetweenClosestRanksLikeNumpy) {
  // numpy.percentile([1, 2, 3, 4], [50, 95, 99]) = 2.5, 3.85, 3.97
  const LatencySummary s = LatencySummary::Of({4, 1, 3, 2});
  EXPECT_EQ(s.count, 4);
  EXPECT_DOUBLE_EQ(s.mean, 2.5);
  EXPECT_DOUBLE_EQ(s.min, 1);
  EXPECT_DOUBLE_EQ(s.max, 4);
  EXPECT_DOUBLE_EQ(s.p50, 2.5);
  EXPECT_NEAR(s.p95, 3.85, 1e-12);
  EXPECT_NEAR(s.p99, 3.97, 1e-12);
}

TEST(LatencySummaryTest, HundredValuesGiveTheExpectedRanks) {
  std::vector<double> v;
  for (int i = 1; i <= 100; ++i) v.push_back(i);
  const LatencySummary s = LatencySummary::Of(v);
  EXPECT_DOUBLE_EQ(s.p50, 50.5);
  EXPECT_NEAR(s.p95, 95.05, 1e-9);
  EXPECT_NEAR(s.p99, 99.01, 1e-9);
}

TEST(LatencySummaryTest, SingleValueIsEveryStatistic) {
  const LatencySummary s = LatencySummary::Of({0.25});
  EXPECT_EQ(s.count, 1);
  EXPECT_DOUBLE_EQ(s.p50, 0.25);
  EXPECT_DOUBLE_EQ(s.p99, 0.25);
  EXPECT_DOUBLE_EQ(s.mean, 0.25);
}

TEST(LatencySummaryTest, EmptySampleHasZeroCountAndNullStatisticsInJson) {
  const LatencySummary s = LatencySummary::Of({});
  EXPECT_EQ(s.count, 0);
  EXPECT_TRUE(std::isnan(s.p50));
  const nlohmann::json j = s.ToJson();
  EXPECT_EQ(j["count"], 0);
  EXPECT_TRUE(j["p50"].is_null());
  EXPECT_TRUE(j["mean"].is_null());
}

TEST(LatencySummaryTest, PercentileClampsTheQuantile) {
  const std::vector<double> sorted = {1, 2, 3};
  EXPECT_DOUBLE_EQ(LatencySummary::Percentile(sorted, -1), 1);
  EXPECT_DOUBLE_EQ(LatencySummary::Percentile(sorted, 2), 3);
  EXPECT_TRUE(std::isnan(LatencySummary::Percentile({}, 0.5)));
}

TEST(LatencySummaryTest, JsonHasEveryField) {
  const nlohmann::json j = LatencySummary::Of({1, 2}).ToJson();
  for (const char* key : {"count", "mean", "min", "p50", "p95", "p99", "max"}) {
    EXPECT_TRUE(j.contains(key)) << key;
  }
  EXPECT_DOUBLE_EQ(j["p50"].get<double>(), 1.5);
}

}  // namespace latency_summary_test
}  // namespace ldm::bench
