#include "tests/testing/tensor_matchers.h"

#include <sstream>

namespace ldm::testing {

double MaxAbsDiff(const torch::Tensor& a, const torch::Tensor& b) {
  if (a.numel() == 0) return 0.0;
  return (a.to(torch::kCPU, torch::kFloat64) - b.to(torch::kCPU, torch::kFloat64))
      .abs()
      .max()
      .item<double>();
}

::testing::AssertionResult AllClose(const torch::Tensor& actual, const torch::Tensor& expected,
                                    double atol, double rtol) {
  if (actual.sizes() != expected.sizes()) {
    return ::testing::AssertionFailure()
           << "shape " << actual.sizes() << " != expected " << expected.sizes();
  }
  if (actual.numel() == 0) return ::testing::AssertionSuccess();
  auto a = actual.to(torch::kCPU, torch::kFloat64);
  auto e = expected.to(torch::kCPU, torch::kFloat64);
  auto diff = (a - e).abs();
  auto bound = atol + rtol * e.abs();
  auto excess = diff - bound;
  if (excess.max().item<double>() <= 0.0) return ::testing::AssertionSuccess();
  int64_t worst = excess.flatten().argmax().item<int64_t>();
  return ::testing::AssertionFailure()
         << "max |diff| " << diff.max().item<double>() << " (atol " << atol << ", rtol " << rtol
         << "); worst at flat index " << worst << ": actual " << a.flatten()[worst].item<double>()
         << " expected " << e.flatten()[worst].item<double>() << "; "
         << (diff > bound).sum().item<int64_t>() << " of " << a.numel() << " elements out of bounds";
}

::testing::AssertionResult CloseRelativeToMax(const torch::Tensor& actual,
                                              const torch::Tensor& expected, double rtol) {
  if (actual.sizes() != expected.sizes()) {
    return ::testing::AssertionFailure()
           << "shape " << actual.sizes() << " != expected " << expected.sizes();
  }
  if (actual.numel() == 0) return ::testing::AssertionSuccess();
  const double scale = std::max(1e-12, expected.abs().max().item<double>());
  const double diff = MaxAbsDiff(actual, expected);
  if (diff <= rtol * scale) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << "max |diff| " << diff << " > " << rtol << " * max|expected| "
                                       << scale;
}

}  // namespace ldm::testing
