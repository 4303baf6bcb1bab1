// HostAllocator: the process's malloc policy for torch inference on the CPU.
//
// libtorch's CPU allocator calls malloc/free for every intermediate tensor. glibc serves blocks
// above its mmap threshold (at most 32 MiB) with a fresh mmap and returns them with munmap on
// free, so a model whose per-call buffers are larger than that (Stable Diffusion's UNet: oneDNN
// reorders each 3x3 convolution's weights, up to 59 MB, on every call) pays page faults and page
// zeroing for every one of them, every step: measured on SD 1.5 shapes at 64x64, 1 thread, this
// was 60% of a UNet call (docs/BENCHMARKS.md). KeepFreedMemory() makes glibc serve every block
// from its heap (M_MMAP_MAX 0) and keep up to 2 GiB of freed memory at the heap's top
// (M_TRIM_THRESHOLD), so the buffers of one step are reused by the next. The resident set is
// then the peak working set, which a model server reaches on its first step anyway.
// The policy is not free for small models: with it, freeing any block above 64 KiB makes glibc
// consolidate its fast bins, and a toy-shapes step (many small tensors) ran up to 1.5x slower
// (docs/BENCHMARKS.md). ShouldKeepFreedMemory() is the rule `--malloc auto` applies: only when
// some per-call buffer can exceed the largest mmap threshold glibc picks by itself.
// Call KeepFreedMemory() once, before the allocations it should affect (mallopt changes how later
// blocks are served). Linux/glibc only (a no-op elsewhere). Not thread-safe with respect to
// concurrent mallopt calls.
#pragma once

#include <cstdint>
#include <string>

namespace ldm {

class HostAllocator {
 public:
  // glibc raises its mmap threshold up to the size of freed mmap'd blocks, but never above
  // DEFAULT_MMAP_THRESHOLD_MAX (32 MiB on 64-bit systems).
  static constexpr int64_t kLargestAdaptiveMmapThreshold = int64_t{32} << 20;

  // Returns false when the C library refused the settings (or is not glibc).
  static bool KeepFreedMemory();

  // True when a model whose largest convolution weight has `largest_weight_bytes` (as computed
  // with, on the CPU) needs KeepFreedMemory(): oneDNN's per-call reorder of that weight is then
  // a block glibc would mmap and unmap on every call.
  static bool ShouldKeepFreedMemory(int64_t largest_weight_bytes) {
    return largest_weight_bytes > kLargestAdaptiveMmapThreshold;
  }

  // The `--malloc` flag of ldm-server and ldm-bench raw: "heap" calls KeepFreedMemory(),
  // "auto" does when ShouldKeepFreedMemory(largest_weight_bytes), "system" (or anything else)
  // changes nothing. Returns whether the heap policy is in effect afterwards.
  static bool ApplyPolicy(const std::string& policy, int64_t largest_weight_bytes);
};

}  // namespace ldm
