#include "core/nn/attention.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

#include "tests/testing/tensor_matchers.h"

namespace ldm::nn {
namespace {

TEST(AttentionTest, ProbabilitySinkRecordsCrossAttentionMapsWithoutChangingTheOutput) {
  torch::manual_seed(2);
  Attention attn(AttentionOptions{.query_dim = 16, .cross_attention_dim = 12, .heads = 2,
                                  .dim_head = 8});
  EXPECT_TRUE(attn->is_cross_attention());
  auto x = torch::randn({3, 10, 16});
  auto ctx = torch::randn({3, 7, 12});
  torch::Tensor plain = attn(x, ctx);
  std::vector<torch::Tensor> sink;
  attn->set_probability_sink(&sink);
  torch::Tensor recorded = attn(x, ctx);
  attn->set_probability_sink(nullptr);
  ASSERT_EQ(sink.size(), 1u);
  EXPECT_EQ(sink[0].sizes(), (std::vector<int64_t>{3, 2, 10, 7}));
  EXPECT_TRUE(testing::AllClose(recorded, plain, 1e-5, 1e-5));
  // The recorded maps carry gradients to the projections (a loss on them trains to_q / to_k).
  sink[0].select(-1, 3).sum().backward();
  EXPECT_TRUE(attn->named_parameters()["to_k.weight"].grad().defined());
  // Off again: nothing more is recorded.
  attn(x, ctx);
  EXPECT_EQ(sink.size(), 1u);
  Attention self(AttentionOptions{.query_dim = 16, .heads = 2, .dim_head = 8});
  EXPECT_FALSE(self->is_cross_attention());
}

}  // namespace
}  // namespace ldm::nn
