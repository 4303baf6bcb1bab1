#include "server/metrics/text_format.h"

#include <cmath>
#include <limits>
#include <string>

#include "gtest/gtest.h"

namespace ldm::metrics {
namespace {

TEST(TextFormatTest, ContentTypeIsPrometheus004) {
  EXPECT_EQ(std::string(kTextFormatContentType), "text/plain; version=0.0.4; charset=utf-8");
}

TEST(TextFormatTest, EscapesBackslashQuoteAndNewlineInLabelValues) {
  EXPECT_EQ(EscapeLabelValue("plain"), "plain");
  EXPECT_EQ(EscapeLabelValue("a\\b"), "a\\\\b");
  EXPECT_EQ(EscapeLabelValue("say \"hi\""), "say \\\"hi\\\"");
  EXPECT_EQ(EscapeLabelValue("two\nlines"), "two\\nlines");
  EXPECT_EQ(EscapeLabelValue("tab\tand ünïcode"), "tab\tand ünïcode");  // Left as is.
}

TEST(TextFormatTest, EscapesBackslashAndNewlineButNotQuotesInHelp) {
  EXPECT_EQ(EscapeHelp("a \"quoted\" \\ help\nline"), "a \"quoted\" \\\\ help\\nline");
}

TEST(TextFormatTest, FormatsValuesShortestRoundTrip) {
  EXPECT_EQ(FormatValue(0.0), "0");
  EXPECT_EQ(FormatValue(1.0), "1");
  EXPECT_EQ(FormatValue(-2.5), "-2.5");
  EXPECT_EQ(FormatValue(0.1), "0.1");
  EXPECT_EQ(FormatValue(0.005), "0.005");
  EXPECT_EQ(FormatValue(1234567.0), "1234567");
  EXPECT_EQ(std::stod(FormatValue(1.0 / 3.0)), 1.0 / 3.0);
  EXPECT_EQ(std::stod(FormatValue(1e300)), 1e300);
}

TEST(TextFormatTest, FormatsNonFiniteValuesAsPrometheusSpellings) {
  EXPECT_EQ(FormatValue(std::numeric_limits<double>::infinity()), "+Inf");
  EXPECT_EQ(FormatValue(-std::numeric_limits<double>::infinity()), "-Inf");
  EXPECT_EQ(FormatValue(std::nan("")), "NaN");
}

TEST(TextFormatTest, SerializesCounterWithHelpTypeAndLabels) {
  MetricFamilySnapshot family{"ldm_requests_total", "Requests.", MetricType::kCounter, {}};
  family.metrics.push_back({{{"code", "OK"}, {"model", "sd"}}, 3.0, {}});
  family.metrics.push_back({{{"code", "INTERNAL"}, {"model", "sd"}}, 0.5, {}});
  EXPECT_EQ(SerializeTextFormat({family}),
            "# HELP ldm_requests_total Requests.\n"
            "# TYPE ldm_requests_total counter\n"
            "ldm_requests_total{code=\"OK\",model=\"sd\"} 3\n"
            "ldm_requests_total{code=\"INTERNAL\",model=\"sd\"} 0.5\n");
}

TEST(TextFormatTest, SerializesUnlabelledGaugeWithoutBraces) {
  MetricFamilySnapshot family{"ldm_queue_depth", "Queued jobs.", MetricType::kGauge, {}};
  family.metrics.push_back({{}, 4.0, {}});
  EXPECT_EQ(SerializeTextFormat({family}),
            "# HELP ldm_queue_depth Queued jobs.\n"
            "# TYPE ldm_queue_depth gauge\n"
            "ldm_queue_depth 4\n");
}

TEST(TextFormatTest, OmitsHelpLineWhenHelpIsEmpty) {
  MetricFamilySnapshot family{"g", "", MetricType::kGauge, {}};
  family.metrics.push_back({{}, 1.0, {}});
  EXPECT_EQ(SerializeTextFormat({family}), "# TYPE g gauge\ng 1\n");
}

TEST(TextFormatTest, EmitsHelpAndTypeForFamilyWithoutChildren) {
  MetricFamilySnapshot family{"g", "H", MetricType::kGauge, {}};
  EXPECT_EQ(SerializeTextFormat({family}), "# HELP g H\n# TYPE g gauge\n");
}

TEST(TextFormatTest, EscapesLabelValuesAndHelpInOutput) {
  MetricFamilySnapshot family{"g", "multi\nline \\ help", MetricType::kGauge, {}};
  family.metrics.push_back({{{"path", "C:\\dir\\\"x\"\nnext"}}, 1.0, {}});
  EXPECT_EQ(SerializeTextFormat({family}),
            "# HELP g multi\\nline \\\\ help\n"
            "# TYPE g gauge\n"
            "g{path=\"C:\\\\dir\\\\\\\"x\\\"\\nnext\"} 1\n");
}

TEST(TextFormatTest, SerializesHistogramBucketsSumAndCountWithLeLast) {
  MetricFamilySnapshot family{
      "ldm_step_duration_seconds", "Step time.", MetricType::kHistogram, {}};
  MetricSnapshot metric;
  metric.labels = {{"model", "sd"}};
  metric.histogram = {{0.1, 1.0}, {1, 3, 4}, 2.75, 4};
  family.metrics.push_back(metric);
  EXPECT_EQ(SerializeTextFormat({family}),
            "# HELP ldm_step_duration_seconds Step time.\n"
            "# TYPE ldm_step_duration_seconds histogram\n"
            "ldm_step_duration_seconds_bucket{model=\"sd\",le=\"0.1\"} 1\n"
            "ldm_step_duration_seconds_bucket{model=\"sd\",le=\"1\"} 3\n"
            "ldm_step_duration_seconds_bucket{model=\"sd\",le=\"+Inf\"} 4\n"
            "ldm_step_duration_seconds_sum{model=\"sd\"} 2.75\n"
            "ldm_step_duration_seconds_count{model=\"sd\"} 4\n");
}

TEST(TextFormatTest, SerializesUnlabelledHistogramWithOnlyLe) {
  MetricFamilySnapshot family{"h", "", MetricType::kHistogram, {}};
  MetricSnapshot metric;
  metric.histogram = {{}, {2}, 1.5, 2};
  family.metrics.push_back(metric);
  EXPECT_EQ(SerializeTextFormat({family}),
            "# TYPE h histogram\n"
            "h_bucket{le=\"+Inf\"} 2\n"
            "h_sum 1.5\n"
            "h_count 2\n");
}

TEST(TextFormatTest, SerializesFamiliesInGivenOrder) {
  MetricFamilySnapshot b{"b", "", MetricType::kGauge, {{{}, 2.0, {}}}};
  MetricFamilySnapshot a{"a", "", MetricType::kGauge, {{{}, 1.0, {}}}};
  EXPECT_EQ(SerializeTextFormat({b, a}), "# TYPE b gauge\nb 2\n# TYPE a gauge\na 1\n");
}

TEST(TextFormatTest, EmptyInputGivesEmptyOutput) { EXPECT_EQ(SerializeTextFormat({}), ""); }

}  // namespace
}  // namespace ldm::metrics
