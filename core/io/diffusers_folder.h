// A model folder in the diffusers layout.
//
//   <root>/model_index.json                  pipeline class and components
//   <root>/{unet,vae,text_encoder}/config.json + *.safetensors
//   <root>/tokenizer/{vocab.json,merges.txt,tokenizer_config.json,special_tokens_map.json}
//   <root>/scheduler/scheduler_config.json
//   <root>/ldm_model.json                    optional ldm extras (class names, semantic labels,
//                                            latent->RGB preview factors), see docs/MODEL.md
//
// Open() only reads model_index.json (and ldm_model.json when present); the component accessors
// read lazily. Thread safety: immutable after Open(); safe to share.
// Errors: NOT_FOUND for a missing folder, file or component, naming the path; INVALID_ARGUMENT for
// malformed JSON; FAILED_PRECONDITION when a component only has pickle (.bin) weights, which ldm
// does not load.
#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "core/io/model_config.h"

namespace ldm {

// The safetensors weights of one component folder: diffusion_pytorch_model.safetensors or
// model.safetensors (the .fp16 variants when the full-precision file is absent). NOT_FOUND when
// there are none; FAILED_PRECONDITION when only pickle (.bin) weights exist.
absl::StatusOr<std::filesystem::path> FindWeightsFile(const std::filesystem::path& dir);

class DiffusersFolder {
 public:
  static absl::StatusOr<DiffusersFolder> Open(const std::filesystem::path& root);

  const std::filesystem::path& root() const { return root_; }
  const ModelConfig& model_index() const { return model_index_; }
  // "_class_name" of model_index.json, e.g. "StableDiffusionPipeline".
  const std::string& pipeline_class() const { return pipeline_class_; }

  // True when model_index.json lists `name` with a non-null library and its folder exists.
  bool HasComponent(absl::string_view name) const;
  std::filesystem::path ComponentDir(absl::string_view name) const;
  // config.json (scheduler: scheduler_config.json) of a component.
  absl::StatusOr<ModelConfig> ComponentConfig(absl::string_view name) const;
  // The component's safetensors weights: model.safetensors or diffusion_pytorch_model.safetensors
  // (the .fp16 variants are accepted when the full-precision file is absent).
  absl::StatusOr<std::filesystem::path> WeightsFile(absl::string_view name) const;

  // ldm_model.json, when present.
  const std::optional<ModelConfig>& extras() const { return extras_; }

 private:
  std::filesystem::path root_;
  ModelConfig model_index_;
  std::string pipeline_class_;
  std::optional<ModelConfig> extras_;
};

}  // namespace ldm
