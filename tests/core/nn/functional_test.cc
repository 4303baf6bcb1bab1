#include "core/nn/functional.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

#include <cmath>

#include "tests/testing/tensor_matchers.h"

namespace ldm::nn {
namespace functional_test {

// Per-head softmax(q k^T / sqrt(d)) v written out with explicit loops over heads, in float64.
torch::Tensor NaiveAttention(const torch::Tensor& q, const torch::Tensor& k, const torch::Tensor& v,
                             int64_t heads) {
  const int64_t d = q.size(2) / heads;
  std::vector<torch::Tensor> outs;
  for (int64_t h = 0; h < heads; ++h) {
    auto qh = q.narrow(2, h * d, d).to(torch::kFloat64);
    auto kh = k.narrow(2, h * d, d).to(torch::kFloat64);
    auto vh = v.narrow(2, h * d, d).to(torch::kFloat64);
    auto p = torch::softmax(torch::matmul(qh, kh.transpose(1, 2)) / std::sqrt(double(d)), -1);
    outs.push_back(torch::matmul(p, vh));
  }
  return torch::cat(outs, 2);
}

TEST(MultiHeadAttentionTest, MatchesNaiveSelfAndCrossAttention) {
  torch::manual_seed(1);
  for (int64_t heads : {1, 2, 4}) {
    auto q = torch::randn({3, 10, 16});
    auto kv_self = q;
    auto k = torch::randn({3, 7, 16});
    auto v = torch::randn({3, 7, 16});
    EXPECT_TRUE(testing::AllClose(MultiHeadAttention(q, kv_self, kv_self, heads, false, false),
                                  NaiveAttention(q, kv_self, kv_self, heads), 1e-5, 1e-5));
    EXPECT_TRUE(testing::AllClose(MultiHeadAttention(q, k, v, heads, false, false),
                                  NaiveAttention(q, k, v, heads), 1e-5, 1e-5));
  }
}

// Checks the output rows [row, row + n) against the naive reference (cheap for long sequences).
void ExpectRowsMatch(const torch::Tensor& out, const torch::Tensor& q, const torch::Tensor& k,
                     const torch::Tensor& v, int64_t heads, int64_t row, int64_t n) {
  EXPECT_TRUE(testing::AllClose(out.narrow(1, row, n),
                                NaiveAttention(q.narrow(1, row, n), k, v, heads), 1e-5, 1e-5))
      << "rows " << row << ".." << row + n;
}

TEST(MultiHeadAttentionTest, ManyHeadsOfLongSequencesAreChunkedCorrectly) {
  torch::manual_seed(2);
  // 8 heads of 4096 x 4096 scores span more than one (batch, head) chunk.
  auto q = torch::randn({1, 4096, 32});
  auto k = torch::randn({1, 4096, 32});
  auto v = torch::randn({1, 4096, 32});
  auto out = MultiHeadAttention(q, k, v, 8, false, false);
  ASSERT_EQ(out.sizes(), q.sizes());
  ExpectRowsMatch(out, q, k, v, 8, 0, 16);
  ExpectRowsMatch(out, q, k, v, 8, 4080, 16);
}

TEST(MultiHeadAttentionTest, VeryLongQueriesAreSplitByRows) {
  torch::manual_seed(4);
  // One head with 16400 x 4100 scores exceeds the chunk bound, so query rows are split.
  auto q = torch::randn({1, 16400, 4});
  auto k = torch::randn({1, 4100, 4});
  auto v = torch::randn({1, 4100, 4});
  auto out = MultiHeadAttention(q, k, v, 1, false, false);
  ASSERT_EQ(out.sizes(), q.sizes());
  ExpectRowsMatch(out, q, k, v, 1, 0, 8);
  ExpectRowsMatch(out, q, k, v, 1, 16360, 40);
}

TEST(MultiHeadAttentionTest, UpcastKeepsReducedPrecisionDtypeAndAccuracy) {
  torch::manual_seed(3);
  auto q = torch::randn({2, 12, 8});
  auto k = torch::randn({2, 9, 8});
  auto v = torch::randn({2, 9, 8});
  auto ref = NaiveAttention(q, k, v, 2);
  auto out = MultiHeadAttention(q.to(torch::kBFloat16), k.to(torch::kBFloat16),
                                v.to(torch::kBFloat16), 2, true, true);
  EXPECT_EQ(out.scalar_type(), torch::kBFloat16);
  EXPECT_TRUE(testing::AllClose(out, ref, 5e-2, 5e-2));
}

TEST(MultiHeadAttentionTest, RejectsIndivisibleHeads) {
  auto q = torch::randn({1, 4, 10});
  EXPECT_THROW(MultiHeadAttention(q, q, q, 3, false, false), c10::Error);
}

TEST(AttentionProbabilitiesTest, AreThePerHeadSoftmaxOfTheScoresAndKeepGradients) {
  torch::manual_seed(4);
  auto q = torch::randn({2, 6, 8}, torch::requires_grad());
  auto k = torch::randn({2, 5, 8});
  torch::Tensor p = AttentionProbabilities(q, k, 2);
  ASSERT_EQ(p.sizes(), (std::vector<int64_t>{2, 2, 6, 5}));
  EXPECT_TRUE(testing::AllClose(p.sum(-1), torch::ones({2, 2, 6}), 1e-6, 1e-6));
  // Head 1 uses channels 4..7 of q and k.
  auto ref =
      torch::softmax(torch::matmul(q.narrow(2, 4, 4), k.narrow(2, 4, 4).transpose(1, 2)) / 2.0, -1);
  EXPECT_TRUE(testing::AllClose(p.select(1, 1), ref, 1e-6, 1e-6));
  // Probabilities times v are the attention output.
  auto v = torch::randn({2, 5, 8});
  auto out =
      torch::matmul(p, v.view({2, 5, 2, 4}).transpose(1, 2)).transpose(1, 2).reshape({2, 6, 8});
  EXPECT_TRUE(testing::AllClose(out, NaiveAttention(q.detach(), k, v, 2), 1e-5, 1e-5));
  p.select(-1, 0).sum().backward();
  EXPECT_TRUE(q.grad().defined());
  EXPECT_THROW(AttentionProbabilities(q, torch::randn({2, 5, 6}), 2), c10::Error);
}

TEST(MultiHeadAttentionWithProbabilitiesTest,
     OutputMatchesMultiHeadAttentionAndComesFromTheProbabilities) {
  torch::manual_seed(5);
  auto q = torch::randn({2, 7, 12});
  auto k = torch::randn({2, 4, 12});
  auto v = torch::randn({2, 4, 12});
  ExplicitAttention a = MultiHeadAttentionWithProbabilities(q, k, v, 3);
  ASSERT_EQ(a.output.sizes(), q.sizes());
  ASSERT_EQ(a.probabilities.sizes(), (std::vector<int64_t>{2, 3, 7, 4}));
  EXPECT_TRUE(
      testing::AllClose(a.output, MultiHeadAttention(q, k, v, 3, false, false), 1e-5, 1e-5));
  EXPECT_TRUE(testing::AllClose(a.probabilities, AttentionProbabilities(q, k, 3), 0, 0));
  // Reduced-precision inputs come back in their dtype.
  EXPECT_EQ(MultiHeadAttentionWithProbabilities(q.to(torch::kBFloat16), k.to(torch::kBFloat16),
                                                v.to(torch::kBFloat16), 3)
                .output.scalar_type(),
            torch::kBFloat16);
  EXPECT_THROW(MultiHeadAttentionWithProbabilities(q, k, torch::randn({2, 5, 12}), 3), c10::Error);
}

TEST(FreshHelpersTest, InPlaceOnlyWhenAutogradAllows) {
  auto x = torch::randn({4});
  auto y = torch::randn({4});
  auto expected = x + y;
  auto x_copy = x.clone();
  auto sum = AddFresh(x_copy, y);
  EXPECT_EQ(sum.data_ptr(), x_copy.data_ptr());
  EXPECT_TRUE(torch::allclose(sum, expected));
  auto leaf = torch::randn({4}, torch::requires_grad());
  auto tmp = leaf * 2;
  auto out = SiluFresh(tmp);
  EXPECT_NE(out.data_ptr(), tmp.data_ptr());
  out.sum().backward();
  EXPECT_TRUE(leaf.grad().defined());
}

TEST(NormInputTest, CastsOnlyWhenTheWeightDtypeDiffers) {
  torch::Tensor x = torch::randn({2, 3}).to(torch::kBFloat16);
  torch::Tensor weight = torch::ones({3});
  torch::Tensor cast = NormInput(x, weight);
  EXPECT_EQ(cast.scalar_type(), torch::kFloat32);
  EXPECT_TRUE(torch::equal(cast, x.to(torch::kFloat32)));
  // Same dtype, or no weight: the very tensor (no copy at inference).
  EXPECT_TRUE(NormInput(x, weight.to(torch::kBFloat16)).is_same(x));
  EXPECT_TRUE(NormInput(x, torch::Tensor()).is_same(x));
}

}  // namespace functional_test
}  // namespace ldm::nn
