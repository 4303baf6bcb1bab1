#include "core/pipeline/prompt_embedding_cache.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

namespace ldm {
namespace prompt_embedding_cache_test {

TEST(PromptEmbeddingCacheTest, EvictsTheLeastRecentlyUsedAndCountsHits) {
  PromptEmbeddingCache cache(2);
  cache.Put("a", 0, torch::ones({1}));
  cache.Put("b", 0, torch::ones({1}) * 2);
  ASSERT_TRUE(cache.Get("a", 0).has_value());  // a is now most recent
  cache.Put("c", 0, torch::ones({1}) * 3);      // evicts b
  EXPECT_FALSE(cache.Get("b", 0).has_value());
  EXPECT_EQ(cache.Get("c", 0)->item<float>(), 3.0f);
  EXPECT_EQ(cache.size(), 2u);
  EXPECT_EQ(cache.hits(), 2u);
  EXPECT_EQ(cache.misses(), 1u);
}

TEST(PromptEmbeddingCacheTest, ClipSkipIsPartOfTheKey) {
  PromptEmbeddingCache cache(4);
  cache.Put("a", 0, torch::zeros({1}));
  EXPECT_FALSE(cache.Get("a", 1).has_value());
}

TEST(PromptEmbeddingCacheTest, ZeroCapacityCachesNothing) {
  PromptEmbeddingCache cache(0);
  cache.Put("a", 0, torch::zeros({1}));
  EXPECT_FALSE(cache.Get("a", 0).has_value());
}

}  // namespace
}  // namespace ldm
