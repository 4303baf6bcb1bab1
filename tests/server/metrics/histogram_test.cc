#include "server/metrics/histogram.h"

#include <cmath>
#include <limits>
#include <thread>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace ldm::metrics {
namespace {

using ::testing::ElementsAre;

TEST(HistogramTest, ObservationGoesToFirstBucketWithBoundAtLeastValue) {
  Histogram histogram({1.0, 2.0, 5.0});
  histogram.Observe(0.5);  // le=1
  histogram.Observe(1.0);  // le=1 (bounds are inclusive)
  histogram.Observe(1.5);  // le=2
  histogram.Observe(5.0);  // le=5
  histogram.Observe(7.0);  // +Inf only
  const HistogramSnapshot snapshot = histogram.Snapshot();
  EXPECT_THAT(snapshot.upper_bounds, ElementsAre(1.0, 2.0, 5.0));
  EXPECT_THAT(snapshot.cumulative_counts, ElementsAre(2u, 3u, 4u, 5u));
  EXPECT_EQ(snapshot.count, 5u);
  EXPECT_DOUBLE_EQ(snapshot.sum, 15.0);
}

TEST(HistogramTest, CountsAreCumulativeAndInfBucketEqualsCount) {
  Histogram histogram({0.1, 0.2});
  for (double v : {0.05, 0.15, 0.15, 0.3, 0.3, 0.3}) histogram.Observe(v);
  const HistogramSnapshot snapshot = histogram.Snapshot();
  EXPECT_THAT(snapshot.cumulative_counts, ElementsAre(1u, 3u, 6u));
  EXPECT_EQ(snapshot.cumulative_counts.back(), snapshot.count);
}

TEST(HistogramTest, EmptyBoundsMeansOnlyInfBucket) {
  Histogram histogram({});
  histogram.Observe(-3.0);
  histogram.Observe(1e300);
  EXPECT_THAT(histogram.Snapshot().cumulative_counts, ElementsAre(2u));
}

TEST(HistogramTest, NaNGoesToInfBucketOnly) {
  Histogram histogram({1.0});
  histogram.Observe(std::nan(""));
  const HistogramSnapshot snapshot = histogram.Snapshot();
  EXPECT_THAT(snapshot.cumulative_counts, ElementsAre(0u, 1u));
  EXPECT_TRUE(std::isnan(snapshot.sum));
}

TEST(HistogramTest, ValidateBucketsRejectsUnsortedDuplicateAndNonFinite) {
  EXPECT_TRUE(Histogram::ValidateBuckets({}).ok());
  EXPECT_TRUE(Histogram::ValidateBuckets({-1.0, 0.0, 1.0}).ok());
  const double inf = std::numeric_limits<double>::infinity();
  for (const std::vector<double>& bad : std::vector<std::vector<double>>{
           {2.0, 1.0}, {1.0, 1.0}, {1.0, inf}, {std::nan("")}, {-inf, 0.0}}) {
    EXPECT_EQ(Histogram::ValidateBuckets(bad).code(), absl::StatusCode::kInvalidArgument);
  }
}

TEST(HistogramDeathTest, ConstructorAbortsOnInvalidBuckets) {
  EXPECT_DEATH(Histogram({3.0, 2.0}), "strictly increasing");
}

TEST(HistogramTest, ConcurrentObservationsAreAllCounted) {
  Histogram histogram({1.0, 10.0});
  constexpr int kThreads = 8;
  constexpr int kObservations = 10000;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&histogram] {
      for (int i = 0; i < kObservations; ++i) histogram.Observe(i % 2 == 0 ? 0.5 : 2.0);
    });
  }
  for (auto& thread : threads) thread.join();
  const HistogramSnapshot snapshot = histogram.Snapshot();
  constexpr uint64_t kTotal = kThreads * kObservations;
  EXPECT_THAT(snapshot.cumulative_counts, ElementsAre(kTotal / 2, kTotal, kTotal));
  EXPECT_EQ(snapshot.sum, (kTotal / 2) * 0.5 + (kTotal / 2) * 2.0);
}

TEST(HistogramTest, ExponentialBucketsMultiplyByFactor) {
  EXPECT_THAT(ExponentialBuckets(1.0, 2.0, 4), ElementsAre(1.0, 2.0, 4.0, 8.0));
  EXPECT_THAT(ExponentialBuckets(0.5, 10.0, 1), ElementsAre(0.5));
}

TEST(HistogramTest, LinearBucketsAddWidth) {
  EXPECT_THAT(LinearBuckets(0.0, 2.5, 4), ElementsAre(0.0, 2.5, 5.0, 7.5));
  EXPECT_THAT(LinearBuckets(-1.0, 1.0, 3), ElementsAre(-1.0, 0.0, 1.0));
}

TEST(HistogramTest, BucketHelpersProduceValidBuckets) {
  EXPECT_TRUE(Histogram::ValidateBuckets(ExponentialBuckets(0.001, 1.5, 30)).ok());
  EXPECT_TRUE(Histogram::ValidateBuckets(LinearBuckets(1, 1, 64)).ok());
  EXPECT_TRUE(Histogram::ValidateBuckets(DefaultBuckets()).ok());
}

TEST(HistogramDeathTest, BucketHelpersAbortOnBadArguments) {
  EXPECT_DEATH(ExponentialBuckets(0.0, 2.0, 3), "ExponentialBuckets");
  EXPECT_DEATH(ExponentialBuckets(1.0, 1.0, 3), "ExponentialBuckets");
  EXPECT_DEATH(ExponentialBuckets(1.0, 2.0, 0), "ExponentialBuckets");
  EXPECT_DEATH(LinearBuckets(0.0, 0.0, 3), "LinearBuckets");
  EXPECT_DEATH(LinearBuckets(0.0, 1.0, 0), "LinearBuckets");
}

}  // namespace
}  // namespace ldm::metrics
