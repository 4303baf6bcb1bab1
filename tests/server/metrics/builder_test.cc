#include "server/metrics/builder.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace ldm::metrics {
namespace {

using ::testing::ElementsAre;
using ::testing::Pair;

TEST(BuilderTest, BuildCounterRegistersFamilyWithNameHelpAndConstantLabels) {
  Registry registry;
  absl::StatusOr<Family<Counter>*> family = BuildCounter()
                                                .Name("ldm_images_generated_total")
                                                .Help("Images.")
                                                .ConstantLabels({{"device", "cpu"}})
                                                .Register(registry);
  ASSERT_TRUE(family.ok()) << family.status();
  EXPECT_EQ((*family)->name(), "ldm_images_generated_total");
  EXPECT_EQ((*family)->help(), "Images.");
  EXPECT_THAT((*family)->constant_labels(), ElementsAre(Pair("device", "cpu")));
  EXPECT_EQ(registry.Collect().size(), 1u);
}

TEST(BuilderTest, BuildGaugeRegistersGaugeFamily) {
  Registry registry;
  auto family = BuildGauge().Name("ldm_active_jobs").Help("Jobs.").Register(registry);
  ASSERT_TRUE(family.ok());
  (*family)->Add({}).Set(3);
  EXPECT_EQ(registry.Collect()[0].type, MetricType::kGauge);
}

TEST(BuilderTest, BuildHistogramPassesBuckets) {
  Registry registry;
  auto family = BuildHistogram()
                    .Name("ldm_batch_rows")
                    .Help("Rows.")
                    .Buckets(LinearBuckets(1, 1, 4))
                    .Register(registry);
  ASSERT_TRUE(family.ok()) << family.status();
  EXPECT_THAT((*family)->buckets(), ElementsAre(1.0, 2.0, 3.0, 4.0));
}

TEST(BuilderTest, HistogramWithoutBucketsIsInvalidArgument) {
  Registry registry;
  auto family = BuildHistogram().Name("ldm_batch_rows").Help("Rows.").Register(registry);
  EXPECT_EQ(family.status().code(), absl::StatusCode::kInvalidArgument);
}

TEST(BuilderTest, HistogramWithExplicitlyEmptyBucketsIsValid) {
  Registry registry;
  EXPECT_TRUE(BuildHistogram().Name("h").Buckets({}).Register(registry).ok());
}

TEST(BuilderTest, InvalidNameIsInvalidArgument) {
  Registry registry;
  EXPECT_EQ(BuildCounter().Name("bad name").Register(registry).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(BuildCounter().Register(registry).status().code(),
            absl::StatusCode::kInvalidArgument);  // No name at all.
}

TEST(BuilderTest, BuilderIsReusable) {
  Registry registry;
  auto builder = BuildGauge().Name("g").Help("G.");
  auto first = builder.Register(registry);
  auto second = builder.Register(registry);
  ASSERT_TRUE(first.ok());
  ASSERT_TRUE(second.ok());
  EXPECT_EQ(*first, *second);
}

}  // namespace
}  // namespace ldm::metrics
