#include "tools/train/ema_weights.h"

#include <torch/torch.h>

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "core/common/status_macros.h"
#include "core/common/torch_guard.h"
#include "core/io/safetensors_file.h"
#include "core/io/safetensors_writer.h"

namespace ldm::train {

EmaWeights::EmaWeights(const torch::nn::Module& module, double decay) : decay_(decay) {
  torch::NoGradGuard no_grad;
  for (const auto& p : module.named_parameters()) {
    shadow_[p.key()] = p.value().detach().to(torch::kFloat32).clone();
  }
}

void EmaWeights::Update(const torch::nn::Module& module, int64_t num_updates) {
  torch::NoGradGuard no_grad;
  const double d = std::min(
      decay_, (1.0 + static_cast<double>(num_updates)) / (10.0 + static_cast<double>(num_updates)));
  for (const auto& p : module.named_parameters()) {
    torch::Tensor& s = shadow_.at(p.key());
    s.mul_(d).add_(p.value().detach().to(torch::kFloat32), 1.0 - d);
  }
}

void EmaWeights::CopyTo(torch::nn::Module& module) const {
  torch::NoGradGuard no_grad;
  for (auto& p : module.named_parameters()) p.value().copy_(shadow_.at(p.key()));
}

absl::Status EmaWeights::Save(const std::filesystem::path& file) const {
  return WriteSafeTensors(file, shadow_);
}

absl::Status EmaWeights::Load(const std::filesystem::path& file) {
  LDM_ASSIGN_OR_RETURN(std::shared_ptr<const SafeTensorsFile> f, SafeTensorsFile::Open(file));
  if (f->tensors().size() != shadow_.size()) {
    return absl::InvalidArgumentError(absl::StrCat(file.string(), ": has ", f->tensors().size(),
                                                   " tensors, the EMA has ", shadow_.size()));
  }
  std::map<std::string, torch::Tensor> loaded;
  for (const auto& [name, s] : shadow_) {
    if (!f->Contains(name)) {
      return absl::InvalidArgumentError(absl::StrCat(file.string(), ": missing ", name));
    }
    LDM_ASSIGN_OR_RETURN(torch::Tensor t, f->Get(name));
    if (t.sizes() != s.sizes()) {
      return absl::InvalidArgumentError(absl::StrCat(file.string(), ": shape mismatch for ", name));
    }
    loaded[name] = t.to(s.device(), torch::kFloat32).clone();
  }
  shadow_ = std::move(loaded);
  return absl::OkStatus();
}

}  // namespace ldm::train
