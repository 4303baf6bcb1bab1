#include "core/pipeline/model_extras.h"

#include "absl/strings/str_cat.h"
#include "core/common/status_macros.h"
#include "core/pipeline/job_spec.h"

namespace ldm {

absl::StatusOr<ModelExtras> ModelExtras::FromConfig(const ModelConfig& c) {
  ModelExtras e;
  if (c.Has("class_names")) {
    LDM_ASSIGN_OR_RETURN(e.class_names, c.GetStringList("class_names"));
  }
  if (c.Has("null_class_label")) {
    LDM_ASSIGN_OR_RETURN(int64_t v, c.GetInt("null_class_label"));
    if (v < 0) return c.Invalid("null_class_label", "must be >= 0");
    e.null_class_label = static_cast<int>(v);
  }
  if (c.Has("semantic_labels")) {
    LDM_ASSIGN_OR_RETURN(e.semantic_labels, c.GetStringList("semantic_labels"));
  }
  if (c.Has("latent_rgb_factors")) {
    const auto& rows = c.json().at("latent_rgb_factors");
    if (!rows.is_array()) return c.Invalid("latent_rgb_factors", "must be a list of [r, g, b]");
    for (const auto& row : rows) {
      if (!row.is_array() || row.size() != 3) {
        return c.Invalid("latent_rgb_factors", "rows must have 3 numbers");
      }
      std::vector<double> r;
      for (const auto& v : row) {
        if (!v.is_number()) return c.Invalid("latent_rgb_factors", "rows must have 3 numbers");
        r.push_back(v.get<double>());
      }
      e.latent_rgb_factors.push_back(r);
    }
  }
  if (c.Has("latent_rgb_bias")) {
    LDM_ASSIGN_OR_RETURN(e.latent_rgb_bias, c.GetDoubleList("latent_rgb_bias"));
    if (e.latent_rgb_bias.size() != 3) return c.Invalid("latent_rgb_bias", "must have 3 numbers");
  }
  if (c.Has("cfg_unconditional")) {
    const auto& u = c.json().at("cfg_unconditional");
    if (!u.is_object()) return c.Invalid("cfg_unconditional", "must be an object");
    const std::string cls = u.value("class", "keep");
    const std::string map = u.value("semantic_map", "keep");
    if (cls != "null" && cls != "keep") {
      return c.Invalid("cfg_unconditional.class", "must be \"null\" or \"keep\"");
    }
    if (map != "zero" && map != "keep") {
      return c.Invalid("cfg_unconditional.semantic_map", "must be \"zero\" or \"keep\"");
    }
    e.uncond_null_class = cls == "null";
    e.uncond_zero_map = map == "zero";
    if (e.uncond_null_class && !e.null_class_label.has_value()) {
      return c.Invalid("cfg_unconditional.class", "is \"null\" but null_class_label is not set");
    }
  }
  LDM_ASSIGN_OR_RETURN(e.default_sampler, c.GetString("default_sampler", ""));
  // The defaults obey the ranges the pipeline checks each job against (Pipeline::CreateJob), so
  // a bad file fails at load, naming its field, rather than every request that relies on it.
  LDM_ASSIGN_OR_RETURN(int64_t steps, c.GetInt("default_steps", 25));
  if (steps < 1 || steps > kMaxSteps) {
    return c.Invalid("default_steps",
                     absl::StrCat("= ", steps, " must be in [1, ", kMaxSteps, "]"));
  }
  e.default_steps = static_cast<int>(steps);
  auto guidance = [&](const std::string& key, double fallback) -> absl::StatusOr<double> {
    LDM_ASSIGN_OR_RETURN(double g, c.GetDouble(key, fallback));
    if (!(g >= 0.0 && g <= kMaxGuidanceScale)) {
      return c.Invalid(key, absl::StrCat("= ", g, " must be in [0, ", kMaxGuidanceScale, "]"));
    }
    return g;
  };
  LDM_ASSIGN_OR_RETURN(e.default_guidance_scale, guidance("default_guidance_scale", 7.5));
  if (c.Has("default_guidance_scale_map_only")) {
    LDM_ASSIGN_OR_RETURN(e.default_guidance_scale_map_only,
                         guidance("default_guidance_scale_map_only", 0.0));
  }
  LDM_ASSIGN_OR_RETURN(e.default_eta, c.GetDouble("default_eta", 0.0));
  if (!(e.default_eta >= 0.0 && e.default_eta <= 1.0)) {
    return c.Invalid("default_eta", absl::StrCat("= ", e.default_eta, " must be in [0, 1]"));
  }
  LDM_ASSIGN_OR_RETURN(int64_t padding, c.GetInt("decode_latent_padding", 0));
  if (padding < 0 || padding > kMaxDecodeLatentPadding) {
    return c.Invalid("decode_latent_padding",
                     absl::StrCat("= ", padding, " must be in [0, ", kMaxDecodeLatentPadding, "]"));
  }
  e.decode_latent_padding = static_cast<int>(padding);
  LDM_ASSIGN_OR_RETURN(int64_t subcells, c.GetInt("semantic_map_subcells", 1));
  if (subcells < 1 || subcells > kMaxSemanticMapSubcells) {
    return c.Invalid("semantic_map_subcells", absl::StrCat("= ", subcells, " must be in [1, ",
                                                           kMaxSemanticMapSubcells, "]"));
  }
  e.semantic_map_subcells = static_cast<int>(subcells);
  LDM_ASSIGN_OR_RETURN(int64_t max_size, c.GetInt("max_size", 2048));
  e.max_size = static_cast<int>(max_size);
  if (c.Has("low_res_image")) {
    const auto& lr = c.json().at("low_res_image");
    if (!lr.is_object()) return c.Invalid("low_res_image", "must be an object");
    LowResImageExtras l;
    const auto up = lr.find("upscale_factor");
    if (up == lr.end() || !up->is_number_integer() || up->get<int64_t>() < 1 ||
        up->get<int64_t>() > 64) {
      return c.Invalid("low_res_image.upscale_factor", "must be an integer in [1, 64]");
    }
    l.upscale_factor = static_cast<int>(up->get<int64_t>());
    const auto to = lr.find("to_latent");
    if (to != lr.end() && (!to->is_string() || to->get<std::string>() != "pixel_unshuffle")) {
      return c.Invalid("low_res_image.to_latent", "must be \"pixel_unshuffle\"");
    }
    const auto bp = lr.find("back_projection");
    if (bp != lr.end()) {
      if (!bp->is_number_integer() || bp->get<int64_t>() < 0 || bp->get<int64_t>() > 100) {
        return c.Invalid("low_res_image.back_projection", "must be an integer in [0, 100]");
      }
      l.back_projection = static_cast<int>(bp->get<int64_t>());
    }
    const auto init = lr.find("init");
    if (init != lr.end()) {
      if (!init->is_string() ||
          (init->get<std::string>() != "noise" && init->get<std::string>() != "noised_input")) {
        return c.Invalid("low_res_image.init", "must be \"noise\" or \"noised_input\"");
      }
      l.init = init->get<std::string>() == "noise" ? LowResImageExtras::Init::kNoise
                                                   : LowResImageExtras::Init::kNoisedInput;
    }
    e.low_res_image = l;
  }
  return e;
}

}  // namespace ldm
