// Builds a per-job Sampler from a model's scheduler_config.json and a requested SamplerKind.
//
// The config is resolved the way diffusers' `Cls.from_config(scheduler_config)` does, with Cls
// the kind's class (SamplerKindClassName): keys listed in `_use_default_values` and private
// `_`-keys are dropped; every remaining key that Cls accepts overrides Cls's default; keys Cls does
// not accept are ignored; absent keys take Cls's defaults. So an Euler sampler built from the
// SD 1.5 PNDM config inherits timestep_spacing "leading" and steps_offset 1, while one built from a
// config without timestep_spacing gets Euler's default "linspace".
// The kind then pins what its name promises: dpmpp_2m / dpmpp_2m_karras set
// algorithm_type "dpmsolver++", solver_order 2 and use_karras_sigmas false / true.
//
// Errors: INVALID_ARGUMENT naming the field for num_inference_steps outside
// [1, num_train_timesteps], eta < 0, eta != 0 for a sampler other than ddim, and malformed config
// values; UNIMPLEMENTED naming the field for config settings ldm does not implement (e.g.
// thresholding=true, skip_prk_steps=false for pndm). Never a silent default.
// Thread safety: stateless; the returned sampler is owned by the caller (one job).
#pragma once

#include <memory>

#include "absl/status/statusor.h"
#include "core/io/model_config.h"
#include "core/sampling/sampler.h"
#include "core/sampling/sampler_kind.h"

namespace ldm {

struct SamplerOptions {
  // DDIM's stochasticity (Song et al. 2021, eq. 16): 0 is deterministic DDIM, 1 is DDPM-like.
  double eta = 0.0;
};

// The resolved config of the kind's diffusers class (see above). Its source() names the model
// config and the class, e.g. "scheduler_config.json (as EulerDiscreteScheduler)".
absl::StatusOr<ModelConfig> ResolveSchedulerConfig(const ModelConfig& scheduler_config,
                                                   SamplerKind kind);

absl::StatusOr<std::unique_ptr<Sampler>> CreateSampler(const ModelConfig& scheduler_config,
                                                       SamplerKind kind, int num_inference_steps,
                                                       const SamplerOptions& options = {});

}  // namespace ldm
