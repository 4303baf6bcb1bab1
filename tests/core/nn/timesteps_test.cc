#include "core/nn/timesteps.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

#include <cmath>

#include "tests/testing/tensor_matchers.h"

namespace ldm::nn {
namespace timesteps_test {

// Straightforward double-precision evaluation of the formula in the header.
torch::Tensor Expected(const std::vector<double>& ts, int64_t dim, bool flip, double shift) {
  const int64_t half = dim / 2;
  torch::Tensor out = torch::zeros({static_cast<int64_t>(ts.size()), dim}, torch::kFloat64);
  for (size_t i = 0; i < ts.size(); ++i) {
    for (int64_t j = 0; j < half; ++j) {
      const double freq = std::exp(-std::log(10000.0) * j / (half - shift));
      const double s = std::sin(ts[i] * freq), c = std::cos(ts[i] * freq);
      out[i][j] = flip ? c : s;
      out[i][half + j] = flip ? s : c;
    }
  }
  return out;
}

TEST(TimestepsTest, MatchesTheFormulaForIntAndFractionalTimesteps) {
  for (bool flip : {true, false}) {
    for (double shift : {0.0, 1.0}) {
      SCOPED_TRACE(::testing::Message() << "flip " << flip << " shift " << shift);
      Timesteps proj(
          TimestepsOptions{.dim = 8, .flip_sin_to_cos = flip, .downscale_freq_shift = shift});
      auto a = proj(torch::tensor({0, 1, 999}));
      EXPECT_EQ(a.scalar_type(), torch::kFloat32);
      EXPECT_TRUE(testing::AllClose(a, Expected({0, 1, 999}, 8, flip, shift), 2e-4));
      auto b = proj(torch::tensor({957.375f, 41.625f}));
      EXPECT_TRUE(testing::AllClose(b, Expected({957.375, 41.625}, 8, flip, shift), 2e-4));
    }
  }
}

TEST(TimestepsTest, OddDimIsZeroPadded) {
  auto e = TimestepEmbeddingSinusoidal(torch::tensor({5.0}), 7, true, 0.0);
  ASSERT_EQ(e.sizes(), (std::vector<int64_t>{1, 7}));
  EXPECT_EQ(e[0][6].item<float>(), 0.0f);
}

TEST(TimestepsTest, RejectsNon1DInput) {
  EXPECT_THROW(TimestepEmbeddingSinusoidal(torch::ones({2, 2}), 8, true, 0.0), c10::Error);
}

}  // namespace
}  // namespace ldm::nn
