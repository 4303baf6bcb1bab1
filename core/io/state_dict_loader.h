// Moves weights between torch::nn::Module trees and safetensors files.
//
// ldm's modules register parameters and submodules under exactly the names of the diffusers /
// transformers state_dict keys, so a module's named_parameters() + named_buffers() are the keys of
// the checkpoint (optionally under a prefix). Loading is strict: the error lists every missing
// key, every unexpected key and every shape mismatch at once, so a user sees the whole problem.
// Values are converted to the parameter's dtype and device while copying.
#pragma once

#include <map>
#include <string>
#include <vector>

#include <torch/nn/module.h>

#include "absl/status/status.h"
#include "core/io/safetensors_file.h"

namespace ldm {

struct StateDictLoadOptions {
  // Prepended to each module key to form the file key ("text_model." for CLIPTextModel, say).
  std::string prefix;
  // File keys that may be present without a matching module entry (e.g. "*.position_ids").
  // An entry ending in '*' matches by prefix, one starting with '*' by suffix.
  std::vector<std::string> ignore_unexpected;
};

// Copies every parameter and buffer of `module` from `file`. Keys and shapes are all checked
// before anything is copied, so a mismatch leaves the module unchanged (an I/O or device error
// during the copy may leave it partly loaded). Releases the file's pages as it goes (see
// SafeTensorsFile::ReleasePages). INVALID_ARGUMENT lists missing/unexpected keys and shape mismatches (names the
// file); INTERNAL for copy failures.
absl::Status LoadStateDict(torch::nn::Module& module, const SafeTensorsFile& file,
                           const StateDictLoadOptions& options = {});

// The module's parameters and buffers under `prefix`, detached (the tensors alias the module).
std::map<std::string, torch::Tensor> StateDictOf(const torch::nn::Module& module,
                                                 const std::string& prefix = "");

}  // namespace ldm
