// Read-only access to a .safetensors file (https://github.com/huggingface/safetensors format).
//
// Layout: u64 little-endian header length N, N bytes of JSON header, then the raw little-endian
// tensor data. The file is memory-mapped (copy-on-write, so tensors are writable without touching
// the file); tensors returned by Get() alias the mapping and keep it alive.
//
// Thread safety: an opened file is immutable; Get() may be called from any thread.
// Errors: Open() validates the whole header (size, JSON, dtypes, shapes, offsets inside the data
// section and consistent with shape x dtype) and returns INVALID_ARGUMENT naming the file and the
// offending tensor; NOT_FOUND if the file does not exist. Get() returns NOT_FOUND for unknown names.
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include <torch/types.h>

#include "absl/status/statusor.h"

namespace ldm {

class SafeTensorsFile {
 public:
  struct TensorInfo {
    std::string dtype;            // "F32", "F16", "BF16", "I64", ...
    std::vector<int64_t> shape;   // empty for 0-dim tensors
    uint64_t begin = 0;           // byte offsets relative to the data section
    uint64_t end = 0;
  };

  static absl::StatusOr<std::shared_ptr<const SafeTensorsFile>> Open(
      const std::filesystem::path& path);

  ~SafeTensorsFile();
  SafeTensorsFile(const SafeTensorsFile&) = delete;
  SafeTensorsFile& operator=(const SafeTensorsFile&) = delete;

  const std::filesystem::path& path() const { return path_; }
  const std::map<std::string, TensorInfo>& tensors() const { return tensors_; }
  const std::map<std::string, std::string>& metadata() const { return metadata_; }
  bool Contains(const std::string& name) const { return tensors_.count(name) > 0; }
  std::vector<std::string> Names() const;

  // Returns the tensor in its stored dtype on the CPU. The tensor aliases the memory map (no copy)
  // when the data is suitably aligned, otherwise it is an aligned copy.
  absl::StatusOr<torch::Tensor> Get(const std::string& name) const;

  // Tells the kernel that the pages holding `name` are not needed any more (madvise DONTNEED), so
  // that loading a large checkpoint does not keep the whole file resident next to the model's own
  // copy of the weights. Tensors from Get() that alias those pages stay valid: unmodified pages
  // are read back from the file on the next access. No-op for unknown names.
  void ReleasePages(const std::string& name) const;

  // Maps a safetensors dtype string to a torch scalar type; INVALID_ARGUMENT if unsupported.
  static absl::StatusOr<torch::ScalarType> ScalarTypeFor(const std::string& dtype);
  // The inverse; INVALID_ARGUMENT for types safetensors cannot store.
  static absl::StatusOr<std::string> DtypeNameFor(torch::ScalarType type);

 private:
  struct Mapping;
  SafeTensorsFile() = default;

  std::filesystem::path path_;
  std::shared_ptr<Mapping> mapping_;
  const uint8_t* data_ = nullptr;  // start of the data section inside the mapping
  uint64_t data_size_ = 0;
  std::map<std::string, TensorInfo> tensors_;
  std::map<std::string, std::string> metadata_;
};

}  // namespace ldm
