#include "server/metrics/labels.h"

#include "gtest/gtest.h"

namespace ldm::metrics {
namespace {

TEST(LabelsTest, AcceptsValidMetricNames) {
  for (const char* name : {"a", "_x", ":y", "ldm_requests_total", "ns:sub:metric_1", "A9_:"}) {
    EXPECT_TRUE(ValidateMetricName(name).ok()) << name;
  }
}

TEST(LabelsTest, RejectsInvalidMetricNamesWithInvalidArgument) {
  for (const char* name : {"", "1abc", "has-dash", "has space", "dot.ted", "ünï", "a{b}"}) {
    absl::Status status = ValidateMetricName(name);
    EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument) << name;
  }
}

TEST(LabelsTest, MetricNameErrorNamesTheMetric) {
  EXPECT_NE(ValidateMetricName("bad-name").message().find("bad-name"), absl::string_view::npos);
}

TEST(LabelsTest, AcceptsValidLabelNames) {
  for (const char* name : {"a", "_x", "model", "code_2", "A_b", "_"}) {
    EXPECT_TRUE(ValidateLabelName(name).ok()) << name;
  }
}

TEST(LabelsTest, RejectsInvalidLabelNames) {
  // Colons are allowed in metric names but not in label names.
  for (const char* name : {"", "1a", "a:b", "a-b", "a b", "é"}) {
    EXPECT_EQ(ValidateLabelName(name).code(), absl::StatusCode::kInvalidArgument) << name;
  }
}

TEST(LabelsTest, RejectsReservedDoubleUnderscoreLabelNames) {
  EXPECT_EQ(ValidateLabelName("__name__").code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(ValidateLabelName("__x").code(), absl::StatusCode::kInvalidArgument);
}

TEST(LabelsTest, ValidateLabelNamesChecksEveryName) {
  EXPECT_TRUE(ValidateLabelNames({}).ok());
  EXPECT_TRUE(ValidateLabelNames({{"a", "any \"value\"\n"}, {"b", ""}}).ok());
  EXPECT_EQ(ValidateLabelNames({{"a", "1"}, {"b-c", "2"}}).code(),
            absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace ldm::metrics
