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

}  // namespace host_allocator_test
}  // namespace ldm
