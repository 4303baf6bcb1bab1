#include "server/metrics/atomic_double.h"

#include <thread>
#include <vector>

#include "gtest/gtest.h"

namespace ldm::metrics {
namespace {

TEST(AtomicDoubleTest, StartsAtInitialValueAndStores) {
  AtomicDouble value(2.5);
  EXPECT_EQ(value.Load(), 2.5);
  value.Store(-1.0);
  EXPECT_EQ(value.Load(), -1.0);
}

TEST(AtomicDoubleTest, AddReturnsNewValue) {
  AtomicDouble value;
  EXPECT_EQ(value.Add(1.5), 1.5);
  EXPECT_EQ(value.Add(-0.5), 1.0);
}

TEST(AtomicDoubleTest, ConcurrentAddsLoseNothing) {
  AtomicDouble value;
  constexpr int kThreads = 8;
  constexpr int kAdds = 20000;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < kAdds; ++i) value.Add(0.5);  // Exact in binary: no rounding error.
    });
  }
  for (auto& thread : threads) thread.join();
  EXPECT_EQ(value.Load(), kThreads * kAdds * 0.5);
}

}  // namespace
}  // namespace ldm::metrics
