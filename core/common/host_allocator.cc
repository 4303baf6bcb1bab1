#include "core/common/host_allocator.h"

#include <climits>  // also defines __GLIBC__ on glibc systems
#if defined(__GLIBC__)
#include <malloc.h>
#endif

namespace ldm {

bool HostAllocator::KeepFreedMemory() {
#if defined(__GLIBC__)
  // mallopt returns 1 on success, 0 on error.
  const bool no_mmap = mallopt(M_MMAP_MAX, 0) == 1;
  const bool keep_top = mallopt(M_TRIM_THRESHOLD, INT_MAX) == 1;
  return no_mmap && keep_top;
#else
  return false;
#endif
}

bool HostAllocator::ApplyPolicy(const std::string& policy, int64_t largest_weight_bytes) {
  const bool wanted =
      policy == "heap" || (policy == "auto" && ShouldKeepFreedMemory(largest_weight_bytes));
  return wanted && KeepFreedMemory();
}

}  // namespace ldm
