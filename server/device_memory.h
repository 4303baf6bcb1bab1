// Accelerator memory in use by this process, for ldm_device_memory_bytes.
// Thread safety: safe from any thread.
#pragma once

#include <optional>
#include <string>

namespace ldm::server {

// Bytes allocated on `device` ("cuda:N") by torch's caching allocator; nullopt for the CPU, for
// unknown devices, and in builds without CUDA (Debian's libtorch is CPU-only).
std::optional<double> DeviceMemoryBytes(const std::string& device);

}  // namespace ldm::server
