#include "server/rpc/model_catalog.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "server/rpc/sampler_names.h"

namespace ldm::server {

ModelCatalog::ModelCatalog(std::map<std::string, ModelInfo> models, std::string default_model)
    : models_(std::move(models)), default_model_(std::move(default_model)) {
  for (auto& [name, info] : models_) {
    for (int i = static_cast<int>(info.class_names.size()); i < info.num_classes; ++i) {
      info.class_names.push_back(std::to_string(i));
    }
    for (int i = static_cast<int>(info.semantic_labels.size()); i < info.semantic_channels; ++i) {
      info.semantic_labels.push_back(std::to_string(i));
    }
  }
}

std::vector<std::string> ModelCatalog::names() const {
  std::vector<std::string> out;
  for (const auto& [name, info] : models_) out.push_back(name);
  return out;
}

std::string ModelCatalog::default_upscaler() const {
  for (const auto& [name, info] : models_) {
    if (info.supports_low_res_image) return name;
  }
  return "";
}

absl::StatusOr<const ModelInfo*> ModelCatalog::Resolve(const std::string& request_id,
                                                       const std::string& name) const {
  const std::string& wanted = name.empty() ? default_model_ : name;
  auto it = models_.find(wanted);
  if (it == models_.end()) {
    return absl::NotFoundError(absl::StrCat("request ", request_id, ": model: unknown model '",
                                            wanted, "' (loaded: ", absl::StrJoin(names(), ", "),
                                            ")"));
  }
  return &it->second;
}

v1::ModelDescription ModelCatalog::Describe(const ModelInfo& info, bool is_default) {
  v1::ModelDescription d;
  d.set_name(info.name);
  d.set_native_width(static_cast<uint32_t>(info.native_width));
  d.set_native_height(static_cast<uint32_t>(info.native_height));
  if (info.supports_text) d.add_conditioning("text");
  if (info.supports_class) d.add_conditioning("class");
  if (info.supports_semantic_map) d.add_conditioning("semantic_map");
  if (info.supports_low_res_image) d.add_conditioning("low_res_image");
  d.set_upscale_factor(static_cast<uint32_t>(info.upscale_factor));
  // Only the usable labels: class_names may also name the null (unconditional) class.
  for (int i = 0; i < info.num_classes && i < static_cast<int>(info.class_names.size()); ++i) {
    d.add_class_names(info.class_names[static_cast<size_t>(i)]);
  }
  for (const auto& label : info.semantic_labels) d.add_semantic_labels(label);
  for (const auto& sampler : info.samplers) {
    const v1::Sampler s = SamplerFromName(sampler);
    if (s != v1::SAMPLER_UNSPECIFIED) d.add_samplers(s);
  }
  d.set_default_sampler(SamplerFromName(info.default_sampler));
  d.set_default_steps(static_cast<uint32_t>(info.default_steps));
  d.set_default_guidance_scale(static_cast<float>(info.default_guidance));
  d.set_default_eta(static_cast<float>(info.default_eta));
  if (info.default_guidance_map_only.has_value()) {
    d.set_default_guidance_scale_map_only(static_cast<float>(*info.default_guidance_map_only));
  }
  d.set_is_default(is_default);
  d.set_min_size(static_cast<uint32_t>(info.min_size));
  d.set_max_size(static_cast<uint32_t>(info.max_size));
  d.set_size_multiple(static_cast<uint32_t>(info.size_multiple));
  d.set_max_prompt_tokens(static_cast<uint32_t>(info.max_prompt_tokens));
  d.set_has_classifier(info.has_classifier);
  return d;
}

v1::ListModelsResponse ModelCatalog::Describe() const {
  v1::ListModelsResponse response;
  if (auto it = models_.find(default_model_); it != models_.end()) {
    *response.add_models() = Describe(it->second, true);
  }
  for (const auto& [name, info] : models_) {
    if (name != default_model_) *response.add_models() = Describe(info, false);
  }
  return response;
}

}  // namespace ldm::server
