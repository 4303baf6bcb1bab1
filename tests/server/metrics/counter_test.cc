#include "server/metrics/counter.h"

#include <cmath>
#include <thread>
#include <vector>

#include "gtest/gtest.h"

namespace ldm::metrics {
namespace {

TEST(CounterTest, StartsAtZero) { EXPECT_EQ(Counter().Value(), 0.0); }

TEST(CounterTest, IncrementAddsOneOrDelta) {
  Counter counter;
  counter.Increment();
  EXPECT_TRUE(counter.Increment(2.5));
  EXPECT_TRUE(counter.Increment(0.0));
  EXPECT_EQ(counter.Value(), 3.5);
}

TEST(CounterTest, RejectsNegativeIncrementAndKeepsValue) {
  Counter counter;
  counter.Increment(4.0);
  EXPECT_FALSE(counter.Increment(-1.0));
  EXPECT_FALSE(counter.Increment(-0.0001));
  EXPECT_EQ(counter.Value(), 4.0);
}

TEST(CounterTest, RejectsNaNIncrement) {
  Counter counter;
  EXPECT_FALSE(counter.Increment(std::nan("")));
  EXPECT_EQ(counter.Value(), 0.0);
}

TEST(CounterTest, ConcurrentIncrementsFromManyThreadsSumExactly) {
  Counter counter;
  constexpr int kThreads = 16;
  constexpr int kIncrements = 10000;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&counter, t] {
      for (int i = 0; i < kIncrements; ++i) {
        if (t % 2 == 0) {
          counter.Increment();
        } else {
          counter.Increment(2.0);
        }
      }
    });
  }
  for (auto& thread : threads) thread.join();
  EXPECT_EQ(counter.Value(),
            (kThreads / 2) * kIncrements * 1.0 + (kThreads / 2) * kIncrements * 2.0);
}

}  // namespace
}  // namespace ldm::metrics
