#include "server/metrics/family.h"

#include <set>
#include <thread>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace ldm::metrics {
namespace {

using ::testing::ElementsAre;
using ::testing::Pair;

std::unique_ptr<Family<Counter>> MakeCounterFamily(Labels constant_labels = {}) {
  absl::StatusOr<std::unique_ptr<Family<Counter>>> family =
      Family<Counter>::Create({"ldm_test_total", "Help.", std::move(constant_labels), {}});
  EXPECT_TRUE(family.ok()) << family.status();
  return *std::move(family);
}

TEST(FamilyTest, AddReturnsSameChildForSameLabels) {
  auto family = MakeCounterFamily();
  Counter& a = family->Add({{"model", "sd"}, {"code", "OK"}});
  Counter& b = family->Add({{"code", "OK"}, {"model", "sd"}});  // Order does not matter.
  EXPECT_EQ(&a, &b);
  a.Increment();
  EXPECT_EQ(b.Value(), 1.0);
  EXPECT_EQ(family->size(), 1u);
}

TEST(FamilyTest, AddReturnsDistinctChildrenForDistinctLabels) {
  auto family = MakeCounterFamily();
  Counter& ok = family->Add({{"code", "OK"}});
  Counter& err = family->Add({{"code", "INTERNAL"}});
  Counter& none = family->Add({});
  EXPECT_NE(&ok, &err);
  EXPECT_NE(&ok, &none);
  EXPECT_EQ(family->size(), 3u);
}

TEST(FamilyTest, ChildReferencesStayValidAsFamilyGrows) {
  auto family = MakeCounterFamily();
  Counter& first = family->Add({{"i", "0"}});
  first.Increment(7.0);
  for (int i = 1; i < 1000; ++i) family->Add({{"i", std::to_string(i)}});
  EXPECT_EQ(&family->Add({{"i", "0"}}), &first);
  EXPECT_EQ(first.Value(), 7.0);
}

TEST(FamilyTest, ConcurrentAddOfSameLabelsCreatesOneChild) {
  auto family = MakeCounterFamily();
  constexpr int kThreads = 8;
  std::vector<Counter*> seen(kThreads);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 1000; ++i) {
        Counter& c = family->Add({{"code", "OK"}});
        c.Increment();
        seen[t] = &c;
      }
    });
  }
  for (auto& thread : threads) thread.join();
  EXPECT_EQ(std::set<Counter*>(seen.begin(), seen.end()).size(), 1u);
  EXPECT_EQ(family->size(), 1u);
  EXPECT_EQ(seen[0]->Value(), kThreads * 1000.0);
}

TEST(FamilyTest, TryAddRejectsInvalidLabelName) {
  auto family = MakeCounterFamily();
  absl::StatusOr<Counter*> child = family->TryAdd({{"bad-name", "x"}});
  EXPECT_EQ(child.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(family->TryAdd({{"__reserved", "x"}}).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(family->size(), 0u);
}

TEST(FamilyTest, TryAddRejectsLabelThatRepeatsConstantLabel) {
  auto family = MakeCounterFamily({{"device", "cpu"}});
  EXPECT_EQ(family->TryAdd({{"device", "cuda"}}).status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST(FamilyDeathTest, AddAbortsOnInvalidLabelName) {
  auto family = MakeCounterFamily();
  EXPECT_DEATH(family->Add({{"1bad", "x"}}), "invalid label name");
}

TEST(FamilyTest, HistogramFamilyRejectsLeLabel) {
  auto family = Family<Histogram>::Create({"ldm_h_seconds", "", {}, {1.0}});
  ASSERT_TRUE(family.ok());
  EXPECT_EQ((*family)->TryAdd({{"le", "1"}}).status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(Family<Histogram>::Create({"ldm_h_seconds", "", {{"le", "1"}}, {1.0}}).status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST(FamilyTest, HistogramChildrenUseFamilyBuckets) {
  auto family = Family<Histogram>::Create({"ldm_h_seconds", "", {}, {0.5, 1.0}});
  ASSERT_TRUE(family.ok());
  EXPECT_THAT((*family)->Add({{"a", "b"}}).upper_bounds(), ElementsAre(0.5, 1.0));
}

TEST(FamilyTest, CreateValidatesNameLabelsAndBuckets) {
  EXPECT_EQ(Family<Gauge>::Create({"bad name", "", {}, {}}).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(Family<Gauge>::Create({"ok", "", {{"bad-label", "x"}}, {}}).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(Family<Gauge>::Create({"ok", "", {}, {1.0}}).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(Family<Histogram>::Create({"ok", "", {}, {2.0, 1.0}}).status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST(FamilyTest, CollectMergesConstantLabelsAndOrdersChildrenByLabels) {
  auto family = MakeCounterFamily({{"device", "cpu"}});
  family->Add({{"code", "b"}}).Increment(2.0);
  family->Add({{"code", "a"}}).Increment(1.0);
  const MetricFamilySnapshot snapshot = family->Collect();
  EXPECT_EQ(snapshot.name, "ldm_test_total");
  EXPECT_EQ(snapshot.help, "Help.");
  EXPECT_EQ(snapshot.type, MetricType::kCounter);
  ASSERT_EQ(snapshot.metrics.size(), 2u);
  EXPECT_THAT(snapshot.metrics[0].labels, ElementsAre(Pair("code", "a"), Pair("device", "cpu")));
  EXPECT_EQ(snapshot.metrics[0].value, 1.0);
  EXPECT_THAT(snapshot.metrics[1].labels, ElementsAre(Pair("code", "b"), Pair("device", "cpu")));
  EXPECT_EQ(snapshot.metrics[1].value, 2.0);
}

TEST(FamilyTest, TypeConstantMatchesT) {
  EXPECT_EQ(Family<Counter>::kType, MetricType::kCounter);
  EXPECT_EQ(Family<Gauge>::kType, MetricType::kGauge);
  EXPECT_EQ(Family<Histogram>::kType, MetricType::kHistogram);
}

}  // namespace
}  // namespace ldm::metrics
