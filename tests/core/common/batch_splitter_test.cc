#include "core/common/batch_splitter.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

#include <mutex>
#include <set>
#include <stdexcept>
#include <thread>
#include <vector>

namespace ldm {
namespace batch_splitter_test {

TEST(BatchSplitterTest, ChunkRangesCoverTheRowsInNearEqualContiguousParts) {
  for (int64_t rows : {1, 2, 3, 7, 32, 33}) {
    for (int chunks = 1; chunks <= std::min<int64_t>(rows, 5); ++chunks) {
      int64_t next = 0, smallest = rows, largest = 0;
      for (int i = 0; i < chunks; ++i) {
        const auto [begin, end] = BatchSplitter::ChunkRange(rows, chunks, i);
        EXPECT_EQ(begin, next) << rows << " rows, chunk " << i << " of " << chunks;
        smallest = std::min(smallest, end - begin);
        largest = std::max(largest, end - begin);
        next = end;
      }
      EXPECT_EQ(next, rows);
      EXPECT_GE(smallest, 1);
      EXPECT_LE(largest - smallest, 1);
    }
  }
}

TEST(BatchSplitterTest, EachRowIsVisitedOnceAndChunksRunOnDistinctThreads) {
  BatchSplitter splitter(3);
  EXPECT_EQ(splitter.threads(), 3);
  EXPECT_EQ(splitter.Chunks(0), 0);
  EXPECT_EQ(splitter.Chunks(2), 2);
  EXPECT_EQ(splitter.Chunks(10), 3);
  for (int64_t rows : {1, 2, 3, 10}) {
    std::mutex mu;
    std::vector<int> visits(static_cast<size_t>(rows), 0);
    std::set<std::thread::id> threads;
    splitter.ForEachChunk(rows, [&](int, int64_t begin, int64_t end) {
      std::lock_guard<std::mutex> lock(mu);
      threads.insert(std::this_thread::get_id());
      for (int64_t r = begin; r < end; ++r) ++visits[static_cast<size_t>(r)];
    });
    for (int v : visits) EXPECT_EQ(v, 1) << rows << " rows";
    EXPECT_EQ(threads.size(), static_cast<size_t>(std::min<int64_t>(rows, 3))) << rows << " rows";
    EXPECT_EQ(threads.count(std::this_thread::get_id()), 1u) << "the caller runs a chunk";
  }
}

TEST(BatchSplitterTest, OneThreadRunsEverythingOnTheCallerInOneChunk) {
  BatchSplitter splitter(0);
  EXPECT_EQ(splitter.threads(), 1);
  int calls = 0;
  const std::thread::id caller = std::this_thread::get_id();
  splitter.ForEachChunk(8, [&](int chunk, int64_t begin, int64_t end) {
    ++calls;
    EXPECT_EQ(chunk, 0);
    EXPECT_EQ(begin, 0);
    EXPECT_EQ(end, 8);
    EXPECT_EQ(std::this_thread::get_id(), caller);
  });
  EXPECT_EQ(calls, 1);
  splitter.ForEachChunk(0, [&](int, int64_t, int64_t) { ++calls; });
  EXPECT_EQ(calls, 1) << "no rows, no call";
}

TEST(BatchSplitterTest, AChunksExceptionReachesTheCallerAfterAllChunksAndTheSplitterStaysUsable) {
  BatchSplitter splitter(2);
  std::atomic<int> finished{0};
  EXPECT_THROW(splitter.ForEachChunk(4,
                                     [&](int, int64_t begin, int64_t) {
                                       if (begin > 0) throw std::runtime_error("chunk 1 failed");
                                       std::this_thread::sleep_for(std::chrono::milliseconds(20));
                                       ++finished;
                                     }),
               std::runtime_error);
  EXPECT_EQ(finished.load(), 1) << "the caller's chunk finished before the rethrow";
  int64_t rows = 0;
  std::mutex mu;
  splitter.ForEachChunk(4, [&](int, int64_t begin, int64_t end) {
    std::lock_guard<std::mutex> lock(mu);
    rows += end - begin;
  });
  EXPECT_EQ(rows, 4);
}

TEST(BatchSplitterTest, ChunksRunUnderTheCallersInferenceModeAndGradMode) {
  BatchSplitter splitter(2);
  auto modes = [&]() {
    std::mutex mu;
    std::vector<std::pair<bool, bool>> seen;
    splitter.ForEachChunk(2, [&](int, int64_t, int64_t) {
      std::lock_guard<std::mutex> lock(mu);
      seen.emplace_back(c10::InferenceMode::is_enabled(), at::GradMode::is_enabled());
    });
    return seen;
  };
  {
    c10::InferenceMode inference;
    for (const auto& [inf, grad] : modes()) {
      EXPECT_TRUE(inf);
      EXPECT_FALSE(grad);
    }
  }
  for (const auto& [inf, grad] : modes()) {
    EXPECT_FALSE(inf);
    EXPECT_TRUE(grad);
  }
}

TEST(BatchSplitterTest, ChunkedTorchComputationEqualsTheWholeBatch) {
  c10::InferenceMode inference;
  torch::manual_seed(1);
  const torch::Tensor x = torch::randn({7, 16, 8, 8});
  const torch::Tensor w = torch::randn({24, 16, 3, 3});
  const torch::Tensor whole = torch::conv2d(x, w, {}, 1, 1);
  std::vector<torch::Tensor> parts(3);
  BatchSplitter splitter(3);
  for (int repeat = 0; repeat < 200; ++repeat) {
    splitter.ForEachChunk(x.size(0), [&](int chunk, int64_t begin, int64_t end) {
      EXPECT_EQ(std::make_pair(begin, end), BatchSplitter::ChunkRange(7, 3, chunk));
      parts[static_cast<size_t>(chunk)] = torch::conv2d(x.slice(0, begin, end), w, {}, 1, 1);
    });
    ASSERT_TRUE(torch::allclose(torch::cat(parts, 0), whole, 1e-5, 1e-5)) << "call " << repeat;
  }
}

}  // namespace batch_splitter_test
}  // namespace ldm
