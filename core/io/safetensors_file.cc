#include "core/io/safetensors_file.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <limits>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "core/common/status_macros.h"
#include "core/common/torch_guard.h"
#include "nlohmann/json.hpp"

namespace ldm {
namespace {

// Headers larger than this are rejected before allocation: real files have headers of a few MB.
constexpr uint64_t kMaxHeaderBytes = 100ull << 20;

absl::StatusOr<int64_t> ElementSize(const std::string& dtype) {
  static const std::map<std::string, int64_t> kSizes = {
      {"F64", 8}, {"F32", 4}, {"F16", 2}, {"BF16", 2}, {"I64", 8}, {"I32", 4},
      {"I16", 2}, {"I8", 1},  {"U8", 1},  {"BOOL", 1}};
  auto it = kSizes.find(dtype);
  if (it == kSizes.end()) return absl::InvalidArgumentError(absl::StrCat("unsupported dtype ", dtype));
  return it->second;
}

}  // namespace

struct SafeTensorsFile::Mapping {
  void* addr = nullptr;
  size_t size = 0;
  ~Mapping() {
    if (addr != nullptr && addr != MAP_FAILED) munmap(addr, size);
  }
};

SafeTensorsFile::~SafeTensorsFile() = default;

absl::StatusOr<torch::ScalarType> SafeTensorsFile::ScalarTypeFor(const std::string& dtype) {
  static const std::map<std::string, torch::ScalarType> kTypes = {
      {"F64", torch::kFloat64}, {"F32", torch::kFloat32}, {"F16", torch::kFloat16},
      {"BF16", torch::kBFloat16}, {"I64", torch::kInt64}, {"I32", torch::kInt32},
      {"I16", torch::kInt16},   {"I8", torch::kInt8},     {"U8", torch::kUInt8},
      {"BOOL", torch::kBool}};
  auto it = kTypes.find(dtype);
  if (it == kTypes.end()) {
    return absl::InvalidArgumentError(absl::StrCat("unsupported safetensors dtype '", dtype, "'"));
  }
  return it->second;
}

absl::StatusOr<std::string> SafeTensorsFile::DtypeNameFor(torch::ScalarType type) {
  switch (type) {
    case torch::kFloat64: return std::string("F64");
    case torch::kFloat32: return std::string("F32");
    case torch::kFloat16: return std::string("F16");
    case torch::kBFloat16: return std::string("BF16");
    case torch::kInt64: return std::string("I64");
    case torch::kInt32: return std::string("I32");
    case torch::kInt16: return std::string("I16");
    case torch::kInt8: return std::string("I8");
    case torch::kUInt8: return std::string("U8");
    case torch::kBool: return std::string("BOOL");
    default:
      return absl::InvalidArgumentError(
          absl::StrCat("dtype ", c10::toString(type), " cannot be stored in safetensors"));
  }
}

std::vector<std::string> SafeTensorsFile::Names() const {
  std::vector<std::string> names;
  names.reserve(tensors_.size());
  for (const auto& [name, info] : tensors_) names.push_back(name);
  return names;
}

absl::StatusOr<std::shared_ptr<const SafeTensorsFile>> SafeTensorsFile::Open(
    const std::filesystem::path& path) {
  const std::string where = path.string();
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    const int err = errno;
    if (err == ENOENT) return absl::NotFoundError(absl::StrCat(where, ": no such file"));
    return absl::InternalError(absl::StrCat(where, ": cannot open: ", std::strerror(err)));
  }
  struct stat st {};
  if (fstat(fd, &st) != 0) {
    ::close(fd);
    return absl::InternalError(absl::StrCat(where, ": cannot stat"));
  }
  const uint64_t file_size = static_cast<uint64_t>(st.st_size);
  if (file_size < 8) {
    ::close(fd);
    return absl::InvalidArgumentError(
        absl::StrCat(where, ": truncated safetensors file (", file_size, " bytes, need at least 8)"));
  }
  auto mapping = std::make_shared<Mapping>();
  mapping->size = file_size;
  // Private (copy-on-write) so that tensors aliasing the file may be written in place safely.
  mapping->addr = mmap(nullptr, file_size, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
  ::close(fd);
  if (mapping->addr == MAP_FAILED) {
    return absl::InternalError(absl::StrCat(where, ": mmap failed: ", std::strerror(errno)));
  }
  const auto* bytes = static_cast<const uint8_t*>(mapping->addr);
  uint64_t header_len = 0;
  for (int i = 7; i >= 0; --i) header_len = (header_len << 8) | bytes[i];
  if (header_len > kMaxHeaderBytes || header_len > file_size - 8) {
    return absl::InvalidArgumentError(absl::StrCat(where, ": header length ", header_len,
                                                   " exceeds the file size ", file_size,
                                                   " (truncated or not a safetensors file)"));
  }
  const absl::string_view header_text(reinterpret_cast<const char*>(bytes + 8), header_len);
  nlohmann::json header = nlohmann::json::parse(header_text, nullptr, /*allow_exceptions=*/false);
  if (header.is_discarded() || !header.is_object()) {
    return absl::InvalidArgumentError(
        absl::StrCat(where, ": header is not a valid JSON object"));
  }

  std::shared_ptr<SafeTensorsFile> file(new SafeTensorsFile());
  file->path_ = path;
  file->mapping_ = mapping;
  file->data_ = bytes + 8 + header_len;
  file->data_size_ = file_size - 8 - header_len;

  for (auto it = header.begin(); it != header.end(); ++it) {
    const std::string& name = it.key();
    const nlohmann::json& entry = it.value();
    if (name == "__metadata__") {
      if (!entry.is_object()) {
        return absl::InvalidArgumentError(absl::StrCat(where, ": __metadata__ is not an object"));
      }
      for (auto m = entry.begin(); m != entry.end(); ++m) {
        if (!m.value().is_string()) {
          return absl::InvalidArgumentError(
              absl::StrCat(where, ": __metadata__ value for '", m.key(), "' is not a string"));
        }
        file->metadata_[m.key()] = m.value().get<std::string>();
      }
      continue;
    }
    auto bad = [&](absl::string_view what) {
      return absl::InvalidArgumentError(absl::StrCat(where, ": tensor '", name, "': ", what));
    };
    if (!entry.is_object() || !entry.contains("dtype") || !entry.contains("shape") ||
        !entry.contains("data_offsets")) {
      return bad("entry needs dtype, shape and data_offsets");
    }
    if (!entry["dtype"].is_string()) return bad("dtype is not a string");
    TensorInfo info;
    info.dtype = entry["dtype"].get<std::string>();
    auto elem_size = ElementSize(info.dtype);
    if (!elem_size.ok()) return bad(elem_size.status().message());
    const auto& shape = entry["shape"];
    if (!shape.is_array()) return bad("shape is not an array");
    uint64_t numel = 1;
    for (const auto& d : shape) {
      if (!d.is_number_integer() || d.get<int64_t>() < 0) return bad("shape has a negative or non-integer dimension");
      const uint64_t dim = d.get<uint64_t>();
      if (dim != 0 && numel > std::numeric_limits<uint64_t>::max() / dim / 8) return bad("shape overflows");
      numel *= dim;
      info.shape.push_back(static_cast<int64_t>(dim));
    }
    const auto& offs = entry["data_offsets"];
    if (!offs.is_array() || offs.size() != 2 || !offs[0].is_number_unsigned() ||
        !offs[1].is_number_unsigned()) {
      return bad("data_offsets must be two non-negative integers");
    }
    info.begin = offs[0].get<uint64_t>();
    info.end = offs[1].get<uint64_t>();
    if (info.begin > info.end) return bad("data_offsets are reversed");
    if (info.end > file->data_size_) {
      return bad(absl::StrCat("data_offsets [", info.begin, ", ", info.end,
                              ") run past the end of the data section (", file->data_size_,
                              " bytes): the file is truncated"));
    }
    if (info.end - info.begin != numel * static_cast<uint64_t>(*elem_size)) {
      return bad(absl::StrCat("byte size ", info.end - info.begin, " does not match shape x dtype (",
                              numel * static_cast<uint64_t>(*elem_size), " bytes)"));
    }
    file->tensors_.emplace(name, std::move(info));
  }
  // Overlapping tensors indicate a corrupt file (the format requires disjoint ranges).
  std::vector<std::pair<uint64_t, uint64_t>> ranges;
  for (const auto& [name, info] : file->tensors_) {
    if (info.end > info.begin) ranges.emplace_back(info.begin, info.end);
  }
  std::sort(ranges.begin(), ranges.end());
  for (size_t i = 1; i < ranges.size(); ++i) {
    if (ranges[i].first < ranges[i - 1].second) {
      return absl::InvalidArgumentError(absl::StrCat(where, ": tensor data ranges overlap"));
    }
  }
  return std::shared_ptr<const SafeTensorsFile>(std::move(file));
}

void SafeTensorsFile::ReleasePages(const std::string& name) const {
  auto it = tensors_.find(name);
  if (it == tensors_.end() || it->second.end == it->second.begin) return;
  const uintptr_t page = static_cast<uintptr_t>(sysconf(_SC_PAGESIZE));
  // Only whole pages inside the tensor's range: neighbours may still be needed.
  uintptr_t first = reinterpret_cast<uintptr_t>(data_ + it->second.begin);
  uintptr_t last = reinterpret_cast<uintptr_t>(data_ + it->second.end);
  first = (first + page - 1) / page * page;
  last = last / page * page;
  if (last > first) madvise(reinterpret_cast<void*>(first), last - first, MADV_DONTNEED);
}

absl::StatusOr<torch::Tensor> SafeTensorsFile::Get(const std::string& name) const {
  auto it = tensors_.find(name);
  if (it == tensors_.end()) {
    return absl::NotFoundError(absl::StrCat(path_.string(), ": no tensor named '", name, "'"));
  }
  const TensorInfo& info = it->second;
  LDM_ASSIGN_OR_RETURN(torch::ScalarType type, ScalarTypeFor(info.dtype));
  return TorchGuard(absl::StrCat(path_.string(), ": reading '", name, "'"), [&]() {
    auto options = torch::TensorOptions().dtype(type).device(torch::kCPU);
    void* ptr = const_cast<uint8_t*>(data_ + info.begin);
    const int64_t elem = torch::elementSize(type);
    if (info.end == info.begin) return torch::empty(info.shape, options);
    if (reinterpret_cast<uintptr_t>(ptr) % static_cast<uintptr_t>(elem) != 0) {
      // Misaligned data: copy into a fresh (aligned) tensor.
      torch::Tensor out = torch::empty(info.shape, options);
      std::memcpy(out.data_ptr(), ptr, info.end - info.begin);
      return out;
    }
    std::shared_ptr<Mapping> keep = mapping_;
    return torch::from_blob(ptr, info.shape, [keep](void*) mutable { keep.reset(); }, options);
  });
}

}  // namespace ldm
