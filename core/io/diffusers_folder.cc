#include "core/io/diffusers_folder.h"

#include "absl/strings/str_cat.h"
#include "core/common/status_macros.h"

namespace ldm {

absl::StatusOr<DiffusersFolder> DiffusersFolder::Open(const std::filesystem::path& root) {
  std::error_code ec;
  if (!std::filesystem::is_directory(root, ec)) {
    return absl::NotFoundError(absl::StrCat(root.string(), ": model folder does not exist"));
  }
  DiffusersFolder folder;
  folder.root_ = root;
  LDM_ASSIGN_OR_RETURN(folder.model_index_, ModelConfig::FromFile(root / "model_index.json"));
  LDM_ASSIGN_OR_RETURN(folder.pipeline_class_, folder.model_index_.GetString("_class_name", ""));
  if (std::filesystem::exists(root / "ldm_model.json", ec)) {
    LDM_ASSIGN_OR_RETURN(ModelConfig extras, ModelConfig::FromFile(root / "ldm_model.json"));
    folder.extras_ = std::move(extras);
  }
  return folder;
}

bool DiffusersFolder::HasComponent(absl::string_view name) const {
  const std::string key(name);
  const auto& j = model_index_.json();
  auto it = j.find(key);
  if (it == j.end() || !it->is_array() || it->empty() || (*it)[0].is_null()) return false;
  std::error_code ec;
  return std::filesystem::is_directory(ComponentDir(name), ec);
}

std::filesystem::path DiffusersFolder::ComponentDir(absl::string_view name) const {
  return root_ / std::string(name);
}

absl::StatusOr<ModelConfig> DiffusersFolder::ComponentConfig(absl::string_view name) const {
  const std::filesystem::path dir = ComponentDir(name);
  std::error_code ec;
  if (!std::filesystem::is_directory(dir, ec)) {
    return absl::NotFoundError(absl::StrCat(dir.string(), ": component folder does not exist"));
  }
  const char* file = name == "scheduler" ? "scheduler_config.json" : "config.json";
  return ModelConfig::FromFile(dir / file);
}

absl::StatusOr<std::filesystem::path> DiffusersFolder::WeightsFile(absl::string_view name) const {
  return FindWeightsFile(ComponentDir(name));
}

absl::StatusOr<std::filesystem::path> FindWeightsFile(const std::filesystem::path& dir) {
  std::error_code ec;
  for (const char* candidate :
       {"diffusion_pytorch_model.safetensors", "model.safetensors",
        "diffusion_pytorch_model.fp16.safetensors", "model.fp16.safetensors"}) {
    if (std::filesystem::is_regular_file(dir / candidate, ec)) return dir / candidate;
  }
  for (const char* pickle : {"diffusion_pytorch_model.bin", "pytorch_model.bin"}) {
    if (std::filesystem::exists(dir / pickle, ec)) {
      return absl::FailedPreconditionError(
          absl::StrCat((dir / pickle).string(),
                       ": only pickle weights found; convert them to .safetensors (ldm does not "
                       "execute pickle files)"));
    }
  }
  return absl::NotFoundError(absl::StrCat(dir.string(), ": no safetensors weights"));
}

}  // namespace ldm
