#include "core/common/batch_splitter.h"

#include <ATen/Parallel.h>
#include <ATen/ThreadLocalState.h>

#include <algorithm>

namespace ldm {

struct BatchSplitter::Call {
  Call(int64_t rows, int chunks, absl::FunctionRef<void(int, int64_t, int64_t)> fn)
      : rows(rows), chunks(chunks), fn(fn), errors(static_cast<size_t>(chunks)) {}
  int64_t rows;
  int chunks;
  absl::FunctionRef<void(int, int64_t, int64_t)> fn;
  at::ThreadLocalState tls;  // the caller's, captured at construction
  // errors[i] is written only by the thread running chunk i and read by the caller after every
  // chunk has finished (ordered by mu_).
  std::vector<std::exception_ptr> errors;
};

BatchSplitter::BatchSplitter(int threads) : threads_(std::max(1, threads)) {
  for (int i = 1; i < threads_; ++i) helpers_.emplace_back([this, i] { Helper(i); });
}

BatchSplitter::~BatchSplitter() {
  {
    absl::MutexLock lock(&mu_);
    stopping_ = true;
  }
  for (std::thread& t : helpers_) t.join();
}

int BatchSplitter::Chunks(int64_t rows) const {
  return rows <= 0 ? 0 : static_cast<int>(std::min<int64_t>(threads_, rows));
}

std::pair<int64_t, int64_t> BatchSplitter::ChunkRange(int64_t rows, int chunks, int index) {
  return {rows * index / chunks, rows * (index + 1) / chunks};
}

void BatchSplitter::RunChunk(const Call& call, int index) {
  const auto [begin, end] = ChunkRange(call.rows, call.chunks, index);
  try {
    at::ThreadLocalStateGuard guard(call.tls);
    call.fn(index, begin, end);
  } catch (...) {
    const_cast<Call&>(call).errors[static_cast<size_t>(index)] = std::current_exception();
  }
}

void BatchSplitter::Helper(int index) {
  // A new thread takes the process's intra-op thread count only when ATen first parallelises
  // on it; set it now so that BLAS calls made before that (which read the OpenMP setting of
  // the calling thread) do not use the OpenMP default of one thread per core.
  at::init_num_threads();
  uint64_t seen = 0;
  struct Wake {
    BatchSplitter* self;
    const uint64_t* seen;
    static bool Ready(Wake* w) ABSL_EXCLUSIVE_LOCKS_REQUIRED(w->self->mu_) {
      return w->self->stopping_ || w->self->generation_ != *w->seen;
    }
  } wake{this, &seen};
  while (true) {
    const Call* call = nullptr;
    {
      absl::MutexLock lock(&mu_, absl::Condition(&Wake::Ready, &wake));
      if (stopping_) return;
      seen = generation_;
      call = call_;
    }
    // Not part of this call: fewer chunks than threads, or woken after the call ended.
    if (call == nullptr || index >= call->chunks) continue;
    RunChunk(*call, index);
    absl::MutexLock lock(&mu_);
    --running_;
  }
}

void BatchSplitter::ForEachChunk(
    int64_t rows, absl::FunctionRef<void(int chunk, int64_t begin, int64_t end)> fn) {
  const int chunks = Chunks(rows);
  if (chunks == 0) return;
  if (chunks == 1) {
    fn(0, 0, rows);
    return;
  }
  absl::MutexLock serial(&call_mu_);
  Call call(rows, chunks, fn);
  {
    absl::MutexLock lock(&mu_);
    call_ = &call;
    running_ = chunks - 1;
    ++generation_;
  }
  RunChunk(call, 0);
  {
    absl::MutexLock lock(&mu_);
    mu_.Await(absl::Condition(
        +[](int* running) { return *running == 0; }, &running_));
    call_ = nullptr;
  }
  for (const std::exception_ptr& e : call.errors) {
    if (e) std::rethrow_exception(e);
  }
}

}  // namespace ldm
