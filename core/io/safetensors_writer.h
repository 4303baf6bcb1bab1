// Writes tensors to a .safetensors file.
//
// The output follows the reference serializer: compact JSON header with "__metadata__" first,
// padded with spaces so that the data starts at a multiple of 8, tensors ordered by dtype
// alignment (largest element first) then by name, so that every tensor is aligned to its element
// size. Tensors may live on any device and need not be contiguous. The file is written to a
// temporary name and renamed, so readers never see a partial file.
// Errors: INVALID_ARGUMENT for unsupported dtypes; INTERNAL for I/O failures (naming the path).
#pragma once

#include <filesystem>
#include <map>
#include <string>

#include <torch/types.h>

#include "absl/status/status.h"

namespace ldm {

absl::Status WriteSafeTensors(const std::filesystem::path& path,
                              const std::map<std::string, torch::Tensor>& tensors,
                              const std::map<std::string, std::string>& metadata = {});

}  // namespace ldm
