// Test helpers for comparing tensors and Status values.
#pragma once

#include <string>

#include <gtest/gtest.h>
#include <torch/types.h>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace ldm::testing {

// max |a - b| as double (0 for empty tensors). Shapes must match.
double MaxAbsDiff(const torch::Tensor& a, const torch::Tensor& b);

// Passes when shapes match and |actual - expected| <= atol + rtol * |expected| elementwise.
::testing::AssertionResult AllClose(const torch::Tensor& actual, const torch::Tensor& expected,
                                    double atol, double rtol = 0.0);

// Passes when max|actual - expected| <= rtol * max|expected| (relative-to-range check used for
// scheduler and pipeline latents).
::testing::AssertionResult CloseRelativeToMax(const torch::Tensor& actual,
                                              const torch::Tensor& expected, double rtol);

}  // namespace ldm::testing

#define LDM_ASSERT_OK(expr)                                            \
  do {                                                                 \
    const ::absl::Status ldm_s_ = ::ldm::testing::internal::ToStatus(expr); \
    ASSERT_TRUE(ldm_s_.ok()) << ldm_s_;                                \
  } while (false)

#define LDM_EXPECT_OK(expr)                                            \
  do {                                                                 \
    const ::absl::Status ldm_s_ = ::ldm::testing::internal::ToStatus(expr); \
    EXPECT_TRUE(ldm_s_.ok()) << ldm_s_;                                \
  } while (false)

// `LDM_ASSERT_OK_AND_ASSIGN(auto x, StatusOrExpr());`
#define LDM_ASSERT_OK_AND_ASSIGN(lhs, rexpr) \
  LDM_ASSERT_OK_AND_ASSIGN_IMPL_(LDM_TM_CONCAT_(ldm_tm_, __LINE__), lhs, rexpr)
#define LDM_TM_CONCAT_INNER_(a, b) a##b
#define LDM_TM_CONCAT_(a, b) LDM_TM_CONCAT_INNER_(a, b)
#define LDM_ASSERT_OK_AND_ASSIGN_IMPL_(var, lhs, rexpr) \
  auto var = (rexpr);                                    \
  ASSERT_TRUE(var.ok()) << var.status();                 \
  lhs = std::move(var).value()

namespace ldm::testing::internal {
inline absl::Status ToStatus(const absl::Status& s) { return s; }
template <typename T>
absl::Status ToStatus(const absl::StatusOr<T>& s) {
  return s.status();
}
}  // namespace ldm::testing::internal
