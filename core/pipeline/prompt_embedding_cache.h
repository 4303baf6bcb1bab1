// An LRU cache of text-encoder outputs keyed by (prompt, clip_skip), so that repeated prompts
// (and the empty negative prompt of every CFG request) skip the text encoder.
// Thread safety: all methods are thread-safe. Tensors are shared, never modified.
#pragma once

#include <atomic>
#include <cstdint>
#include <list>
#include <optional>
#include <string>
#include <unordered_map>

#include <torch/types.h>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"

namespace ldm {

class PromptEmbeddingCache {
 public:
  explicit PromptEmbeddingCache(size_t capacity) : capacity_(capacity) {}

  std::optional<torch::Tensor> Get(const std::string& prompt, int clip_skip);
  void Put(const std::string& prompt, int clip_skip, torch::Tensor embedding);

  uint64_t hits() const { return hits_.load(); }
  uint64_t misses() const { return misses_.load(); }
  size_t size() const;

 private:
  using Key = std::string;
  static Key MakeKey(const std::string& prompt, int clip_skip);

  const size_t capacity_;
  mutable absl::Mutex mu_;
  std::list<std::pair<Key, torch::Tensor>> lru_ ABSL_GUARDED_BY(mu_);  // front = most recent
  std::unordered_map<Key, std::list<std::pair<Key, torch::Tensor>>::iterator> index_
      ABSL_GUARDED_BY(mu_);
  std::atomic<uint64_t> hits_{0};
  std::atomic<uint64_t> misses_{0};
};

}  // namespace ldm
