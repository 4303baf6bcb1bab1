#include "core/common/autocast_scope.h"

#include <ATen/autocast_mode.h>
#include <torch/version.h>

#include "absl/strings/str_cat.h"

// libtorch 2.4 replaced the CUDA-specific autocast setters by device-type ones (the old ones are
// deprecated there).
#if TORCH_VERSION_MAJOR > 2 || (TORCH_VERSION_MAJOR == 2 && TORCH_VERSION_MINOR >= 4)
#define LDM_AUTOCAST_BY_DEVICE_TYPE 1
#else
#define LDM_AUTOCAST_BY_DEVICE_TYPE 0
#endif

namespace ldm {
namespace {

// Autocast's per-thread state for CUDA (cuda) or the CPU.
bool IsEnabled(bool cuda) {
#if LDM_AUTOCAST_BY_DEVICE_TYPE
  return at::autocast::is_autocast_enabled(cuda ? at::kCUDA : at::kCPU);
#else
  return cuda ? at::autocast::is_enabled() : at::autocast::is_cpu_enabled();
#endif
}

torch::ScalarType Dtype(bool cuda) {
#if LDM_AUTOCAST_BY_DEVICE_TYPE
  return at::autocast::get_autocast_dtype(cuda ? at::kCUDA : at::kCPU);
#else
  return cuda ? at::autocast::get_autocast_gpu_dtype() : at::autocast::get_autocast_cpu_dtype();
#endif
}

void Set(bool cuda, bool enabled, torch::ScalarType dtype) {
#if LDM_AUTOCAST_BY_DEVICE_TYPE
  const at::DeviceType type = cuda ? at::kCUDA : at::kCPU;
  at::autocast::set_autocast_enabled(type, enabled);
  at::autocast::set_autocast_dtype(type, dtype);
#else
  if (cuda) {
    at::autocast::set_enabled(enabled);
    at::autocast::set_autocast_gpu_dtype(dtype);
  } else {
    at::autocast::set_cpu_enabled(enabled);
    at::autocast::set_autocast_cpu_dtype(dtype);
  }
#endif
}

}  // namespace

absl::StatusOr<MixedPrecision> ParseMixedPrecision(std::string_view name) {
  if (name == "off") return MixedPrecision::kOff;
  if (name == "bf16") return MixedPrecision::kBFloat16;
  return absl::InvalidArgumentError(
      absl::StrCat("mixed precision must be off or bf16, got \"", std::string(name), "\""));
}

std::string MixedPrecisionName(MixedPrecision precision) {
  return precision == MixedPrecision::kBFloat16 ? "bf16" : "off";
}

bool AutocastScope::Supports(torch::Device device, MixedPrecision precision) {
  return precision == MixedPrecision::kOff || device.is_cpu() || device.is_cuda();
}

bool AutocastScope::Enabled(torch::Device device) {
  return (device.is_cpu() || device.is_cuda()) && IsEnabled(device.is_cuda());
}

AutocastScope::AutocastScope(torch::Device device, MixedPrecision precision) {
  if (precision == MixedPrecision::kOff) return;
  TORCH_CHECK(Supports(device, precision), "mixed precision ", MixedPrecisionName(precision),
              " is not supported on ", device.str());
  cuda_ = device.is_cuda();
  previous_enabled_ = IsEnabled(cuda_);
  previous_dtype_ = Dtype(cuda_);
  Set(cuda_, true, torch::kBFloat16);
  // As torch.autocast's __enter__: the weight-cast cache lives until the outermost scope ends.
  at::autocast::increment_nesting();
  active_ = true;
}

AutocastScope::~AutocastScope() {
  if (!active_) return;
  Set(cuda_, previous_enabled_, previous_dtype_);
  if (at::autocast::decrement_nesting() == 0) at::autocast::clear_cache();
}

}  // namespace ldm
