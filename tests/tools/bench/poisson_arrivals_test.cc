#include "tools/bench/poisson_arrivals.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>

namespace ldm::bench {
namespace poisson_arrivals_test {

TEST(PoissonArrivalsTest, SameRateAndSeedGiveTheSameSchedule) {
  auto a = PoissonArrivals::Create(4.0, 42);
  auto b = PoissonArrivals::Create(4.0, 42);
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_EQ(a->Times(50), b->Times(50));
}

TEST(PoissonArrivalsTest, DifferentSeedsGiveDifferentSchedules) {
  auto a = PoissonArrivals::Create(4.0, 1);
  auto b = PoissonArrivals::Create(4.0, 2);
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_NE(a->Times(10), b->Times(10));
}

TEST(PoissonArrivalsTest, TimesIncreaseAndGapsAreExponentialWithMeanOneOverRate) {
  auto arrivals = PoissonArrivals::Create(2.5, 7);
  ASSERT_TRUE(arrivals.ok());
  const int n = 20000;
  const std::vector<double> t = arrivals->Times(n);
  ASSERT_EQ(t.size(), static_cast<size_t>(n));
  double sum = 0, sum_sq = 0;
  int above_mean = 0;
  for (int i = 0; i < n; ++i) {
    const double gap = t[i] - (i > 0 ? t[i - 1] : 0.0);
    ASSERT_GE(gap, 0);
    sum += gap;
    sum_sq += gap * gap;
    if (gap > 0.4) ++above_mean;
  }
  const double mean = sum / n;
  const double var = sum_sq / n - mean * mean;
  // Exponential(rate 2.5): mean 0.4, variance 0.16, P(gap > mean) = 1/e. Fixed seed: exact
  // values; the bounds are several standard errors wide.
  EXPECT_NEAR(mean, 0.4, 0.4 * 0.03);
  EXPECT_NEAR(var, 0.16, 0.16 * 0.08);
  EXPECT_NEAR(static_cast<double>(above_mean) / n, std::exp(-1.0), 0.015);
}

TEST(PoissonArrivalsTest, RejectsNonPositiveOrNonFiniteRates) {
  for (double rate : {0.0, -1.0, std::nan(""), std::numeric_limits<double>::infinity()}) {
    auto a = PoissonArrivals::Create(rate, 1);
    ASSERT_FALSE(a.ok()) << rate;
    EXPECT_EQ(a.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_NE(a.status().message().find("rate"), absl::string_view::npos);
  }
}

}  // namespace poisson_arrivals_test
}  // namespace ldm::bench
