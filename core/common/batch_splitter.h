// BatchSplitter: runs one batched computation as contiguous row chunks on a fixed set of threads.
//
// Why: on a CPU, torch parallelises each operator over its intra-op (OpenMP) threads, so one
// UNet step is hundreds of small parallel regions, each ending in a barrier that waits for the
// slowest thread. When a thread is descheduled for a moment (another process, the server's own
// gRPC threads, or a virtual CPU that its hypervisor shares), every barrier of the step waits for
// it. Splitting the batch's rows into chunks that run whole forwards on single-threaded workers
// puts one barrier per step instead (docs/BENCHMARKS.md: on the 2-core CI machine a 32-row
// toy-shapes step varied 0.10-0.16 s with 2 intra-op threads; two single-threaded halves ran
// steadily ~1.4x faster). Each chunk runs with the process's intra-op thread count
// (at::get_num_threads()), so N chunks x T intra-op threads should not exceed the cores.
//
// ForEachChunk calls fn(chunk, begin, end) on Chunks(rows) = min(threads, rows) contiguous,
// near-equal chunks that cover [0, rows) exactly (chunk = 0, 1, ... in row order), the calling
// thread running chunk 0; it returns when all have
// returned. Each chunk runs under the caller's torch thread-local state (inference mode, grad
// mode, dispatch keys), so it computes what the caller would. If chunks throw, the first
// exception by chunk order is rethrown in the caller after every chunk has finished.
//
// Thread safety: ForEachChunk may be called from any thread; concurrent calls are serialised.
// fn must be safe to call concurrently on disjoint row ranges (torch modules in inference mode
// are). Ownership: the splitter owns threads() - 1 helper threads, joined by the destructor.
#pragma once

#include <cstdint>
#include <exception>
#include <memory>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/functional/function_ref.h"
#include "absl/synchronization/mutex.h"

namespace ldm {

class BatchSplitter {
 public:
  // threads >= 1 (values below are treated as 1: everything runs on the caller).
  explicit BatchSplitter(int threads);
  ~BatchSplitter();
  BatchSplitter(const BatchSplitter&) = delete;
  BatchSplitter& operator=(const BatchSplitter&) = delete;

  int threads() const { return threads_; }

  // The number of chunks ForEachChunk makes of `rows` rows: min(threads(), rows), 0 for none.
  int Chunks(int64_t rows) const;

  // The [begin, end) of chunk `index` when `rows` rows are split into `chunks` chunks.
  static std::pair<int64_t, int64_t> ChunkRange(int64_t rows, int chunks, int index);

  void ForEachChunk(int64_t rows,
                    absl::FunctionRef<void(int chunk, int64_t begin, int64_t end)> fn);

 private:
  struct Call;  // one ForEachChunk's work, shared with the helpers while it runs

  void Helper(int index);
  void RunChunk(const Call& call, int index);

  const int threads_;
  absl::Mutex call_mu_;  // serialises ForEachChunk calls
  absl::Mutex mu_;
  const Call* call_ ABSL_GUARDED_BY(mu_) = nullptr;
  uint64_t generation_ ABSL_GUARDED_BY(mu_) = 0;
  int running_ ABSL_GUARDED_BY(mu_) = 0;  // helpers still on the current call's chunks
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  std::vector<std::thread> helpers_;
};

}  // namespace ldm
