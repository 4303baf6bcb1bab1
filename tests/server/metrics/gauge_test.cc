#include "server/metrics/gauge.h"

#include <chrono>
#include <thread>
#include <vector>

#include "gtest/gtest.h"

namespace ldm::metrics {
namespace {

TEST(GaugeTest, StartsAtZero) { EXPECT_EQ(Gauge().Value(), 0.0); }

TEST(GaugeTest, SetIncrementDecrement) {
  Gauge gauge;
  gauge.Set(10.0);
  gauge.Increment();
  gauge.Increment(4.5);
  gauge.Decrement();
  gauge.Decrement(20.0);
  EXPECT_EQ(gauge.Value(), -5.5);
}

TEST(GaugeTest, SetToCurrentTimeIsUnixSeconds) {
  Gauge gauge;
  const double before =
      std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
  gauge.SetToCurrentTime();
  const double after =
      std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
  EXPECT_GE(gauge.Value(), before);
  EXPECT_LE(gauge.Value(), after);
  EXPECT_GT(gauge.Value(), 1.6e9);  // Seconds, not milliseconds or nanoseconds.
  EXPECT_LT(gauge.Value(), 1e11);
}

TEST(GaugeTest, ConcurrentIncrementsAndDecrementsBalance) {
  Gauge gauge;
  constexpr int kThreads = 8;
  constexpr int kOps = 10000;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&gauge] {
      for (int i = 0; i < kOps; ++i) {
        gauge.Increment(3.0);
        gauge.Decrement(2.0);
      }
    });
  }
  for (auto& thread : threads) thread.join();
  EXPECT_EQ(gauge.Value(), kThreads * kOps * 1.0);
}

}  // namespace
}  // namespace ldm::metrics
