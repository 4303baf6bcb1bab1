// Builds a torch module from its parsed config and loads its weights from a component folder.
//
// The one loading path of every model part (UNet, VAE, text encoder): the dtype must be floating
// point (INVALID_ARGUMENT otherwise), the weights file is found with FindWeightsFile, the module is
// constructed and moved to `device`/`dtype` under TorchGuard, loaded strictly with LoadStateDict
// and put in eval mode.
#pragma once

#include <filesystem>

#include <torch/nn/module.h>
#include <torch/types.h>

#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "core/common/status_macros.h"
#include "core/common/torch_guard.h"
#include "core/io/diffusers_folder.h"
#include "core/io/safetensors_file.h"
#include "core/io/state_dict_loader.h"

namespace ldm {

// INVALID_ARGUMENT unless `dtype` is a floating type. Loaders call it before reading anything.
inline absl::Status CheckFloatingDtype(absl::string_view what, torch::ScalarType dtype) {
  if (c10::isFloatingType(dtype)) return absl::OkStatus();
  return absl::InvalidArgumentError(
      absl::StrCat("Load", what, ": dtype must be floating point, got ", c10::toString(dtype)));
}

template <typename Holder, typename Config>
absl::StatusOr<Holder> LoadModuleFromFolder(absl::string_view what,
                                            const std::filesystem::path& dir,
                                            const Config& config, torch::Device device,
                                            torch::ScalarType dtype,
                                            const StateDictLoadOptions& options = {}) {
  LDM_RETURN_IF_ERROR(CheckFloatingDtype(what, dtype));
  LDM_ASSIGN_OR_RETURN(std::filesystem::path weights, FindWeightsFile(dir));
  LDM_ASSIGN_OR_RETURN(std::shared_ptr<const SafeTensorsFile> file, SafeTensorsFile::Open(weights));
  LDM_ASSIGN_OR_RETURN(Holder model,
                       TorchGuard(absl::StrCat("building ", what, " from ", dir.string()), [&]() {
                         Holder m(config);
                         m->to(device, dtype);
                         return m;
                       }));
  LDM_RETURN_IF_ERROR(LoadStateDict(*model, *file, options));
  model->eval();
  return model;
}

}  // namespace ldm
