#include "server/device_memory.h"

#ifdef LDM_WITH_CUDA
#include <c10/cuda/CUDACachingAllocator.h>
#endif

namespace ldm::server {

std::optional<double> DeviceMemoryBytes(const std::string& device) {
#ifdef LDM_WITH_CUDA
  if (device.rfind("cuda:", 0) != 0) return std::nullopt;
  int index = 0;
  try {
    index = std::stoi(device.substr(5));
  } catch (...) {
    return std::nullopt;
  }
  const auto stats = c10::cuda::CUDACachingAllocator::getDeviceStats(index);
  return static_cast<double>(stats
                                 .allocated_bytes[static_cast<size_t>(
                                     c10::cuda::CUDACachingAllocator::StatType::AGGREGATE)]
                                 .current);
#else
  (void)device;
  return std::nullopt;
#endif
}

}  // namespace ldm::server
