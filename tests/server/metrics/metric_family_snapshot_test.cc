#include "server/metrics/metric_family_snapshot.h"

#include <string>

#include "gtest/gtest.h"

namespace ldm::metrics {
namespace {

TEST(MetricFamilySnapshotTest, TypeNamesMatchPrometheusTypeLines) {
  EXPECT_EQ(std::string(MetricTypeName(MetricType::kCounter)), "counter");
  EXPECT_EQ(std::string(MetricTypeName(MetricType::kGauge)), "gauge");
  EXPECT_EQ(std::string(MetricTypeName(MetricType::kHistogram)), "histogram");
}

TEST(MetricFamilySnapshotTest, DefaultsAreEmpty) {
  MetricFamilySnapshot family;
  EXPECT_TRUE(family.metrics.empty());
  MetricSnapshot metric;
  EXPECT_TRUE(metric.labels.empty());
  EXPECT_EQ(metric.histogram.count, 0u);
}

}  // namespace
}  // namespace ldm::metrics
