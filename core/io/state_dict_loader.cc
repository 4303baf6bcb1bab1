#include "core/io/state_dict_loader.h"

#include <set>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "core/common/status_macros.h"
#include "core/common/torch_guard.h"

namespace ldm {
namespace {

bool IsIgnored(const std::string& key, const std::vector<std::string>& patterns) {
  for (const auto& p : patterns) {
    if (p.empty()) continue;
    if (p.back() == '*') {
      if (absl::StartsWith(key, absl::string_view(p).substr(0, p.size() - 1))) return true;
    } else if (p.front() == '*') {
      if (absl::EndsWith(key, absl::string_view(p).substr(1))) return true;
    } else if (key == p) {
      return true;
    }
  }
  return false;
}

std::string ShapeString(c10::IntArrayRef shape) {
  return absl::StrCat("[", absl::StrJoin(shape, ", "), "]");
}

// Lists at most this many names per category; longer lists end with "... and N more".
constexpr size_t kMaxListed = 40;

std::string ListNames(const std::vector<std::string>& names) {
  if (names.size() <= kMaxListed) return absl::StrJoin(names, ", ");
  std::vector<std::string> head(names.begin(), names.begin() + kMaxListed);
  return absl::StrCat(absl::StrJoin(head, ", "), ", ... and ", names.size() - kMaxListed, " more");
}

}  // namespace

std::map<std::string, torch::Tensor> StateDictOf(const torch::nn::Module& module,
                                                 const std::string& prefix) {
  std::map<std::string, torch::Tensor> out;
  for (const auto& item : module.named_parameters(/*recurse=*/true)) {
    out[prefix + item.key()] = item.value().detach();
  }
  for (const auto& item : module.named_buffers(/*recurse=*/true)) {
    out[prefix + item.key()] = item.value().detach();
  }
  return out;
}

absl::Status LoadStateDict(torch::nn::Module& module, const SafeTensorsFile& file,
                           const StateDictLoadOptions& options) {
  std::map<std::string, torch::Tensor> targets = StateDictOf(module, options.prefix);
  std::vector<std::string> missing, unexpected, mismatched;
  for (const auto& [key, tensor] : targets) {
    auto it = file.tensors().find(key);
    if (it == file.tensors().end()) {
      missing.push_back(key);
      continue;
    }
    const auto& shape = it->second.shape;
    if (c10::IntArrayRef(shape) != tensor.sizes()) {
      mismatched.push_back(absl::StrCat(key, " (file ", ShapeString(shape), ", model ",
                                        ShapeString(tensor.sizes()), ")"));
    }
  }
  for (const auto& [key, info] : file.tensors()) {
    if (targets.count(key) == 0 && !IsIgnored(key, options.ignore_unexpected)) {
      unexpected.push_back(key);
    }
  }
  if (!missing.empty() || !unexpected.empty() || !mismatched.empty()) {
    std::vector<std::string> parts;
    if (!missing.empty()) {
      parts.push_back(absl::StrCat(missing.size(), " missing key(s): ", ListNames(missing)));
    }
    if (!unexpected.empty()) {
      parts.push_back(absl::StrCat(unexpected.size(), " unexpected key(s): ", ListNames(unexpected)));
    }
    if (!mismatched.empty()) {
      parts.push_back(absl::StrCat(mismatched.size(), " shape mismatch(es): ", ListNames(mismatched)));
    }
    return absl::InvalidArgumentError(
        absl::StrCat(file.path().string(), ": weights do not match the model config; ",
                     absl::StrJoin(parts, "; ")));
  }
  // Every key and shape was checked above, so the copies below cannot fail on a mismatch; each
  // source tensor's pages are released right after its copy, so peak memory stays near the size
  // of the model instead of model + file.
  return TorchGuard(absl::StrCat(file.path().string(), ": copying weights"), [&]() -> absl::Status {
    torch::NoGradGuard no_grad;
    for (auto& [key, target] : targets) {
      absl::StatusOr<torch::Tensor> source = file.Get(key);
      if (!source.ok()) return source.status();
      target.copy_(*source);
      file.ReleasePages(key);
    }
    return absl::OkStatus();
  });
}

}  // namespace ldm
