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
// Call it once at start-up, before any allocation worth keeping. Linux/glibc only (a no-op
// elsewhere). Not thread-safe with respect to concurrent mallopt calls.
#pragma once

namespace ldm {

class HostAllocator {
 public:
  // Returns false when the C library refused the settings (or is not glibc).
  static bool KeepFreedMemory();
};

}  // namespace ldm
