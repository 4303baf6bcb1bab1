#include "core/common/host_allocator.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <cstring>

namespace ldm {
namespace host_allocator_test {

TEST(HostAllocatorTest, GlibcAcceptsThePolicyAndLargeBlocksStillWork) {
#if defined(__GLIBC__)
  EXPECT_TRUE(HostAllocator::KeepFreedMemory());
#endif
  // Blocks above glibc's largest mmap threshold (32 MiB) now come from the heap.
  for (int i = 0; i < 3; ++i) {
    const size_t n = 64u << 20;
    auto* p = static_cast<char*>(std::malloc(n));
    ASSERT_NE(p, nullptr);
    std::memset(p, i, n);
    EXPECT_EQ(p[n - 1], static_cast<char>(i));
    std::free(p);
  }
}

TEST(HostAllocatorTest, OnlyWeightsAboveGlibcsLargestAdaptiveThresholdNeedTheHeapPolicy) {
  EXPECT_FALSE(HostAllocator::ShouldKeepFreedMemory(0));
  EXPECT_FALSE(HostAllocator::ShouldKeepFreedMemory(int64_t{32} << 20));
  EXPECT_TRUE(HostAllocator::ShouldKeepFreedMemory((int64_t{32} << 20) + 1));
  // SD 1.5's largest UNet convolution: 1280 x 1280 x 3 x 3 float32.
  EXPECT_TRUE(HostAllocator::ShouldKeepFreedMemory(int64_t{1280} * 1280 * 9 * 4));
}

TEST(HostAllocatorTest, ApplyPolicyFollowsTheFlagAndTheAutoRule) {
  EXPECT_FALSE(HostAllocator::ApplyPolicy("system", int64_t{1} << 40));
  EXPECT_FALSE(HostAllocator::ApplyPolicy("auto", int64_t{1} << 20));
#if defined(__GLIBC__)
  EXPECT_TRUE(HostAllocator::ApplyPolicy("auto", int64_t{64} << 20));
  EXPECT_TRUE(HostAllocator::ApplyPolicy("heap", 0));
#endif
}

}  // namespace host_allocator_test
}  // namespace ldm
