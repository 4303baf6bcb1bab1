#include "server/metrics/registry.h"

#include <atomic>
#include <string>
#include <thread>
#include <vector>

#include "gtest/gtest.h"
#include "server/metrics/builder.h"

namespace ldm::metrics {
namespace {

TEST(RegistryTest, EmptyRegistrySerializesToEmptyString) {
  Registry registry;
  EXPECT_EQ(registry.Serialize(), "");
  EXPECT_TRUE(registry.Collect().empty());
}

TEST(RegistryTest, SerializesAllTypesExactlyInRegistrationOrder) {
  Registry registry;
  Family<Counter>* requests =
      *BuildCounter().Name("ldm_requests_total").Help("Finished requests.").Register(registry);
  Family<Gauge>* depth =
      *BuildGauge().Name("ldm_queue_depth").Help("Queued jobs.").Register(registry);
  Family<Histogram>* latency = *BuildHistogram()
                                    .Name("ldm_request_duration_seconds")
                                    .Help("Request latency.")
                                    .ConstantLabels({{"model", "sd"}})
                                    .Buckets({0.5, 1.0})
                                    .Register(registry);
  requests->Add({{"model", "sd"}, {"code", "OK"}}).Increment(2);
  requests->Add({{"model", "sd"}, {"code", "CANCELLED"}}).Increment();
  depth->Add({}).Set(7);
  Histogram& h = latency->Add({});
  h.Observe(0.25);
  h.Observe(0.75);
  h.Observe(3.0);

  EXPECT_EQ(registry.Serialize(),
            "# HELP ldm_requests_total Finished requests.\n"
            "# TYPE ldm_requests_total counter\n"
            "ldm_requests_total{code=\"CANCELLED\",model=\"sd\"} 1\n"
            "ldm_requests_total{code=\"OK\",model=\"sd\"} 2\n"
            "# HELP ldm_queue_depth Queued jobs.\n"
            "# TYPE ldm_queue_depth gauge\n"
            "ldm_queue_depth 7\n"
            "# HELP ldm_request_duration_seconds Request latency.\n"
            "# TYPE ldm_request_duration_seconds histogram\n"
            "ldm_request_duration_seconds_bucket{model=\"sd\",le=\"0.5\"} 1\n"
            "ldm_request_duration_seconds_bucket{model=\"sd\",le=\"1\"} 2\n"
            "ldm_request_duration_seconds_bucket{model=\"sd\",le=\"+Inf\"} 3\n"
            "ldm_request_duration_seconds_sum{model=\"sd\"} 4\n"
            "ldm_request_duration_seconds_count{model=\"sd\"} 3\n");
}

TEST(RegistryTest, LabelValuesAreEscapedInSerializedOutput) {
  Registry registry;
  auto family = *BuildGauge().Name("g").Help("G.").Register(registry);
  family->Add({{"v", "a\\b\"c\nd"}}).Set(1);
  EXPECT_EQ(registry.Serialize(), "# HELP g G.\n# TYPE g gauge\ng{v=\"a\\\\b\\\"c\\nd\"} 1\n");
}

TEST(RegistryTest, SameNameWithDifferentTypeIsInvalidArgument) {
  Registry registry;
  ASSERT_TRUE(BuildCounter().Name("ldm_x").Register(registry).ok());
  absl::StatusOr<Family<Gauge>*> gauge = BuildGauge().Name("ldm_x").Register(registry);
  EXPECT_EQ(gauge.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(gauge.status().message().find("counter"), absl::string_view::npos);
  EXPECT_EQ(BuildHistogram().Name("ldm_x").Buckets({1}).Register(registry).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(registry.Collect().size(), 1u);
}

TEST(RegistryTest, SameNameSameTypeSameOptionsReturnsExistingFamily) {
  Registry registry;
  auto first = BuildCounter().Name("ldm_x_total").Help("X.").Register(registry);
  auto second = BuildCounter().Name("ldm_x_total").Help("X.").Register(registry);
  ASSERT_TRUE(first.ok());
  ASSERT_TRUE(second.ok());
  EXPECT_EQ(*first, *second);
  EXPECT_EQ(registry.Collect().size(), 1u);
}

TEST(RegistryTest, SameNameSameTypeDifferentOptionsIsAlreadyExists) {
  Registry registry;
  ASSERT_TRUE(BuildHistogram().Name("h").Help("H.").Buckets({1}).Register(registry).ok());
  EXPECT_EQ(
      BuildHistogram().Name("h").Help("Other.").Buckets({1}).Register(registry).status().code(),
      absl::StatusCode::kAlreadyExists);
  EXPECT_EQ(BuildHistogram().Name("h").Help("H.").Buckets({2}).Register(registry).status().code(),
            absl::StatusCode::kAlreadyExists);
  EXPECT_EQ(BuildHistogram()
                .Name("h")
                .Help("H.")
                .ConstantLabels({{"a", "b"}})
                .Buckets({1})
                .Register(registry)
                .status()
                .code(),
            absl::StatusCode::kAlreadyExists);
}

TEST(RegistryTest, HistogramSeriesNamesCollideWithOtherFamilies) {
  Registry registry;
  ASSERT_TRUE(BuildHistogram().Name("lat").Buckets({1}).Register(registry).ok());
  EXPECT_EQ(BuildCounter().Name("lat_count").Register(registry).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(BuildGauge().Name("lat_sum").Register(registry).status().code(),
            absl::StatusCode::kInvalidArgument);

  ASSERT_TRUE(BuildGauge().Name("other_bucket").Register(registry).ok());
  EXPECT_EQ(BuildHistogram().Name("other").Buckets({1}).Register(registry).status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST(RegistryTest, InvalidNamesAreInvalidArgument) {
  Registry registry;
  EXPECT_EQ(registry.Register<Counter>({"0abc", "", {}, {}}).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(registry.Register<Gauge>({"ok", "", {{"__x", "y"}}, {}}).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(registry.Collect().empty());
}

TEST(RegistryTest, CollectSnapshotsAreValuesNotViews) {
  Registry registry;
  auto family = *BuildGauge().Name("g").Register(registry);
  Gauge& gauge = family->Add({});
  gauge.Set(1);
  std::vector<MetricFamilySnapshot> before = registry.Collect();
  gauge.Set(2);
  EXPECT_EQ(before[0].metrics[0].value, 1.0);
  EXPECT_EQ(registry.Collect()[0].metrics[0].value, 2.0);
}

TEST(RegistryTest, ConcurrentRegisterUpdateAndSerializeAreSafe) {
  Registry registry;
  auto shared = *BuildCounter().Name("shared_total").Register(registry);
  std::atomic<bool> stop{false};
  std::thread scraper([&] {
    while (!stop.load()) {
      std::string text = registry.Serialize();
      ASSERT_NE(text.find("# TYPE shared_total counter"), std::string::npos);
    }
  });
  std::vector<std::thread> writers;
  for (int t = 0; t < 4; ++t) {
    writers.emplace_back([&, t] {
      for (int i = 0; i < 200; ++i) {
        shared->Add({{"thread", std::to_string(t)}}).Increment();
        auto own = BuildGauge()
                       .Name("g_" + std::to_string(t) + "_" + std::to_string(i % 10))
                       .Register(registry);
        ASSERT_TRUE(own.ok()) << own.status();
        (*own)->Add({}).Increment();
      }
    });
  }
  for (auto& writer : writers) writer.join();
  stop.store(true);
  scraper.join();
  EXPECT_EQ(registry.Collect().size(), 1u + 4 * 10);
  const std::vector<MetricFamilySnapshot> snapshots = registry.Collect();
  double total = 0;
  for (const MetricSnapshot& m : snapshots[0].metrics) total += m.value;
  EXPECT_EQ(total, 800.0);
}

}  // namespace
}  // namespace ldm::metrics
