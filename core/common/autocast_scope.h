// AutocastScope: bfloat16 autocast for the forward passes run while it is alive. libtorch's
// autocast runs the matrix products and convolutions of the calling thread on the scope's device
// in bfloat16; the weights (and in training their gradients, the optimizer state and the EMA)
// stay in the module's own dtype, and losses should be computed after the scope ends, in float32.
// Core's modules accept the bfloat16 activations this hands their norm layers (nn::NormInput).
// ldm-train's --mixed-precision bf16 uses it: on this project's CPU (AMX / AVX512-BF16) a
// diffusion step of the toy model takes 0.45 s instead of 0.61 s (docs/MODEL.md, "Mixed
// precision"); on CUDA it is the usual bf16 autocast.
//
// Autocast state is thread-local: construct the scope on the thread that runs the forward. Scopes
// nest; the destructor restores the enclosing state (enabled flag and dtype) and clears
// autocast's weight-cast cache when the outermost scope ends. Not copyable.
#pragma once

#include <torch/types.h>

#include <string>
#include <string_view>

#include "absl/status/statusor.h"

namespace ldm {

enum class MixedPrecision { kOff, kBFloat16 };

// "off" or "bf16" (the names of ldm-train's --mixed-precision).
absl::StatusOr<MixedPrecision> ParseMixedPrecision(std::string_view name);
std::string MixedPrecisionName(MixedPrecision precision);

class AutocastScope {
 public:
  // kOff: does nothing. kBFloat16 on a CPU or CUDA device: enables autocast there. Other device
  // types: c10::Error (callers validate with Supports() first).
  AutocastScope(torch::Device device, MixedPrecision precision);
  ~AutocastScope();
  AutocastScope(const AutocastScope&) = delete;
  AutocastScope& operator=(const AutocastScope&) = delete;

  // Whether `precision` can be used on `device` (kOff always; kBFloat16 on CPU and CUDA).
  static bool Supports(torch::Device device, MixedPrecision precision);
  // Whether autocast is enabled on `device`'s type on this thread (false for other types).
  static bool Enabled(torch::Device device);

 private:
  bool active_ = false;
  bool cuda_ = false;
  bool previous_enabled_ = false;
  torch::ScalarType previous_dtype_ = torch::kBFloat16;
};

}  // namespace ldm
