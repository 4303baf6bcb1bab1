#include "core/io/safetensors_writer.h"

#include <cstdio>
#include <fstream>
#include <vector>

#include "absl/strings/str_cat.h"
#include "core/common/status_macros.h"
#include "core/common/torch_guard.h"
#include "core/io/safetensors_file.h"
#include "nlohmann/json.hpp"

namespace ldm {

absl::Status WriteSafeTensors(const std::filesystem::path& path,
                              const std::map<std::string, torch::Tensor>& tensors,
                              const std::map<std::string, std::string>& metadata) {
  struct Entry {
    std::string name;
    std::string dtype;
    torch::Tensor data;  // contiguous CPU copy
    int64_t elem_size;
  };
  std::vector<Entry> entries;
  for (const auto& [name, tensor] : tensors) {
    if (name == "__metadata__") {
      return absl::InvalidArgumentError("tensor name __metadata__ is reserved");
    }
    LDM_ASSIGN_OR_RETURN(std::string dtype, SafeTensorsFile::DtypeNameFor(tensor.scalar_type()));
    LDM_ASSIGN_OR_RETURN(torch::Tensor cpu, TorchGuard("WriteSafeTensors", [&]() {
                           return tensor.detach().to(torch::kCPU).contiguous();
                         }));
    entries.push_back({name, dtype, cpu, static_cast<int64_t>(cpu.element_size())});
  }
  // Largest element size first, then by name: every tensor stays aligned to its element size.
  std::stable_sort(entries.begin(), entries.end(), [](const Entry& a, const Entry& b) {
    if (a.elem_size != b.elem_size) return a.elem_size > b.elem_size;
    return a.name < b.name;
  });

  // nlohmann's ordered_json keeps insertion order, so __metadata__ comes first.
  nlohmann::ordered_json header = nlohmann::ordered_json::object();
  if (!metadata.empty()) {
    nlohmann::ordered_json meta = nlohmann::ordered_json::object();
    for (const auto& [k, v] : metadata) meta[k] = v;
    header["__metadata__"] = meta;
  }
  uint64_t offset = 0;
  for (const auto& e : entries) {
    const uint64_t bytes = static_cast<uint64_t>(e.data.numel()) * e.elem_size;
    header[e.name] = {{"dtype", e.dtype},
                      {"shape", e.data.sizes().vec()},
                      {"data_offsets", {offset, offset + bytes}}};
    offset += bytes;
  }
  std::string header_text = header.dump();
  while ((8 + header_text.size()) % 8 != 0) header_text.push_back(' ');

  const std::filesystem::path tmp = path.string() + ".tmp";
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    if (!out) return absl::InternalError(absl::StrCat(tmp.string(), ": cannot open for writing"));
    uint64_t n = header_text.size();
    char len[8];
    for (int i = 0; i < 8; ++i) len[i] = static_cast<char>((n >> (8 * i)) & 0xff);
    out.write(len, 8);
    out.write(header_text.data(), static_cast<std::streamsize>(header_text.size()));
    for (const auto& e : entries) {
      out.write(static_cast<const char*>(e.data.data_ptr()),
                static_cast<std::streamsize>(e.data.numel() * e.elem_size));
    }
    out.flush();
    if (!out) return absl::InternalError(absl::StrCat(tmp.string(), ": write failed"));
  }
  std::error_code ec;
  std::filesystem::rename(tmp, path, ec);
  if (ec) return absl::InternalError(absl::StrCat(path.string(), ": rename failed: ", ec.message()));
  return absl::OkStatus();
}

}  // namespace ldm
