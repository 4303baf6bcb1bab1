#include "core/pipeline/prompt_embedding_cache.h"

#include "absl/strings/str_cat.h"

namespace ldm {

PromptEmbeddingCache::Key PromptEmbeddingCache::MakeKey(const std::string& prompt, int clip_skip) {
  // '\0' cannot be confused with prompt text that happens to end in digits.
  return absl::StrCat(clip_skip, std::string(1, '\0'), prompt);
}

std::optional<torch::Tensor> PromptEmbeddingCache::Get(const std::string& prompt, int clip_skip) {
  absl::MutexLock lock(&mu_);
  auto it = index_.find(MakeKey(prompt, clip_skip));
  if (it == index_.end()) {
    misses_.fetch_add(1);
    return std::nullopt;
  }
  lru_.splice(lru_.begin(), lru_, it->second);
  hits_.fetch_add(1);
  return it->second->second;
}

void PromptEmbeddingCache::Put(const std::string& prompt, int clip_skip, torch::Tensor embedding) {
  if (capacity_ == 0) return;
  absl::MutexLock lock(&mu_);
  Key key = MakeKey(prompt, clip_skip);
  auto it = index_.find(key);
  if (it != index_.end()) {
    it->second->second = std::move(embedding);
    lru_.splice(lru_.begin(), lru_, it->second);
    return;
  }
  lru_.emplace_front(key, std::move(embedding));
  index_[key] = lru_.begin();
  while (lru_.size() > capacity_) {
    index_.erase(lru_.back().first);
    lru_.pop_back();
  }
}

size_t PromptEmbeddingCache::size() const {
  absl::MutexLock lock(&mu_);
  return lru_.size();
}

}  // namespace ldm
