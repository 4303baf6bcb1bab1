#include "core/sampling/sampler_factory.h"

#include <limits>
#include <set>
#include <string>

#include "absl/strings/str_cat.h"
#include "core/common/status_macros.h"
#include "core/sampling/ddim_sampler.h"
#include "core/sampling/ddpm_sampler.h"
#include "core/sampling/dpm_solver_multistep_sampler.h"
#include "core/sampling/euler_ancestral_sampler.h"
#include "core/sampling/euler_sampler.h"
#include "core/sampling/pndm_sampler.h"

namespace ldm {
namespace {

using Json = nlohmann::json;

// Every __init__ argument of the diffusers 0.27 class with its default value. Keys absent here
// are not accepted by the class and are ignored when resolving a model's config.
Json ClassDefaults(SamplerKind kind) {
  Json base = {{"num_train_timesteps", 1000},
               {"beta_start", 0.0001},
               {"beta_end", 0.02},
               {"beta_schedule", "linear"},
               {"trained_betas", nullptr},
               {"prediction_type", "epsilon"},
               {"steps_offset", 0}};
  switch (kind) {
    case SamplerKind::kDdpm:
      base.update({{"variance_type", "fixed_small"},
                   {"clip_sample", true},
                   {"thresholding", false},
                   {"dynamic_thresholding_ratio", 0.995},
                   {"clip_sample_range", 1.0},
                   {"sample_max_value", 1.0},
                   {"timestep_spacing", "leading"},
                   {"rescale_betas_zero_snr", false}});
      break;
    case SamplerKind::kDdim:
      base.update({{"clip_sample", true},
                   {"set_alpha_to_one", true},
                   {"thresholding", false},
                   {"dynamic_thresholding_ratio", 0.995},
                   {"clip_sample_range", 1.0},
                   {"sample_max_value", 1.0},
                   {"timestep_spacing", "leading"},
                   {"rescale_betas_zero_snr", false}});
      break;
    case SamplerKind::kPndm:
      base.update({{"skip_prk_steps", false},
                   {"set_alpha_to_one", false},
                   {"timestep_spacing", "leading"}});
      break;
    case SamplerKind::kEuler:
      base.update({{"interpolation_type", "linear"},
                   {"use_karras_sigmas", false},
                   {"sigma_min", nullptr},
                   {"sigma_max", nullptr},
                   {"timestep_spacing", "linspace"},
                   {"timestep_type", "discrete"},
                   {"rescale_betas_zero_snr", false}});
      break;
    case SamplerKind::kEulerAncestral:
      base.update({{"timestep_spacing", "linspace"}, {"rescale_betas_zero_snr", false}});
      break;
    case SamplerKind::kDpmpp2m:
    case SamplerKind::kDpmpp2mKarras:
      base.update({{"solver_order", 2},
                   {"thresholding", false},
                   {"dynamic_thresholding_ratio", 0.995},
                   {"sample_max_value", 1.0},
                   {"algorithm_type", "dpmsolver++"},
                   {"solver_type", "midpoint"},
                   {"lower_order_final", true},
                   {"euler_at_final", false},
                   {"use_karras_sigmas", false},
                   {"use_lu_lambdas", false},
                   {"final_sigmas_type", "zero"},
                   {"lambda_min_clipped", -std::numeric_limits<double>::infinity()},
                   {"variance_type", nullptr},
                   {"timestep_spacing", "linspace"},
                   {"rescale_betas_zero_snr", false},
                   // Not __init__ arguments, but diffusers keeps them as hidden config entries
                   // and _convert_to_karras reads them when present (e.g. from an Euler config).
                   {"sigma_min", nullptr},
                   {"sigma_max", nullptr}});
      break;
  }
  return base;
}

}  // namespace

absl::StatusOr<ModelConfig> ResolveSchedulerConfig(const ModelConfig& scheduler_config,
                                                   SamplerKind kind) {
  const Json& in = scheduler_config.json();
  if (!in.is_object()) {
    return absl::InvalidArgumentError(
        absl::StrCat(scheduler_config.source(), ": scheduler config must be a JSON object"));
  }
  std::set<std::string> used_defaults;
  if (auto it = in.find("_use_default_values"); it != in.end() && it->is_array()) {
    for (const Json& key : *it) {
      if (key.is_string()) used_defaults.insert(key.get<std::string>());
    }
  }
  Json resolved = ClassDefaults(kind);
  for (auto it = in.begin(); it != in.end(); ++it) {
    const std::string& key = it.key();
    if (key.empty() || key[0] == '_' || used_defaults.count(key) > 0) continue;
    if (resolved.contains(key)) resolved[key] = it.value();
  }
  if (kind == SamplerKind::kDpmpp2m || kind == SamplerKind::kDpmpp2mKarras) {
    resolved["algorithm_type"] = "dpmsolver++";
    resolved["solver_order"] = 2;
    resolved["use_karras_sigmas"] = kind == SamplerKind::kDpmpp2mKarras;
  }
  return ModelConfig(std::move(resolved), absl::StrCat(scheduler_config.source(), " (as ",
                                                       SamplerKindClassName(kind), ")"));
}

absl::StatusOr<std::unique_ptr<Sampler>> CreateSampler(const ModelConfig& scheduler_config,
                                                       SamplerKind kind, int num_inference_steps,
                                                       const SamplerOptions& options) {
  if (!(options.eta >= 0) || !std::isfinite(options.eta)) {
    return absl::InvalidArgumentError(
        absl::StrCat("eta must be a finite value >= 0, got ", options.eta));
  }
  if (options.eta != 0 && kind != SamplerKind::kDdim) {
    return absl::InvalidArgumentError(absl::StrCat("eta applies only to the ddim sampler, got eta ",
                                                   options.eta, " for ", SamplerKindName(kind)));
  }
  LDM_ASSIGN_OR_RETURN(const ModelConfig config, ResolveSchedulerConfig(scheduler_config, kind));
  switch (kind) {
    case SamplerKind::kDdpm:
      return DdpmSampler::Create(config, num_inference_steps);
    case SamplerKind::kDdim:
      return DdimSampler::Create(config, num_inference_steps, options.eta);
    case SamplerKind::kPndm:
      return PndmSampler::Create(config, num_inference_steps);
    case SamplerKind::kEuler:
      return EulerSampler::Create(config, num_inference_steps);
    case SamplerKind::kEulerAncestral:
      return EulerAncestralSampler::Create(config, num_inference_steps);
    case SamplerKind::kDpmpp2m:
    case SamplerKind::kDpmpp2mKarras:
      return DpmSolverMultistepSampler::Create(config, num_inference_steps, kind);
  }
  return absl::InvalidArgumentError("unknown sampler kind");
}

}  // namespace ldm
