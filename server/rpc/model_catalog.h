// The models a server offers: name -> ModelInfo, plus which one answers requests without a
// model name. Resolves request model names and describes models for ListModels.
//
// Models without names for their classes or semantic labels (no ldm_model.json) get their
// indices as names ("0", "1", ...), so that ListModels always tells clients how many there are
// and class_name works for every model.
// Ownership: holds copies of the ModelInfos (taken from Scheduler::models()).
// Thread safety: immutable after construction; every method is safe from any thread.
// Errors: Resolve returns NOT_FOUND naming the request, the model and the loaded names.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "core/pipeline/model_info.h"
#include "ldm/v1/image_generation.pb.h"

namespace ldm::server {

class ModelCatalog {
 public:
  // `default_model` must be a key of `models` (or empty when `models` is empty).
  ModelCatalog(std::map<std::string, ModelInfo> models, std::string default_model);

  // The model for a request's `model` field ("" = the default one).
  absl::StatusOr<const ModelInfo*> Resolve(const std::string& request_id,
                                           const std::string& name) const;

  const std::string& default_model() const { return default_model_; }
  // The upscaler a request's `upscale` uses without upscale_model: the first super-resolution
  // model (ModelInfo::supports_low_res_image) by name; "" when none is loaded.
  std::string default_upscaler() const;
  const std::map<std::string, ModelInfo>& models() const { return models_; }
  std::vector<std::string> names() const;

  // ListModels' answer: every model, the default one first.
  v1::ListModelsResponse Describe() const;
  static v1::ModelDescription Describe(const ModelInfo& info, bool is_default);

 private:
  std::map<std::string, ModelInfo> models_;
  std::string default_model_;
};

}  // namespace ldm::server
