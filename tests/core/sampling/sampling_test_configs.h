// Scheduler configs shared by the sampling unit tests.
#pragma once

#include "core/io/model_config.h"
#include "nlohmann/json.hpp"

namespace ldm::testing {

// Stable Diffusion 1.5's scheduler/scheduler_config.json as diffusers 0.27 saves it (the hub file
// predates timestep_spacing; save_config writes the class default "leading" and prediction_type).
inline ModelConfig Sd15SchedulerConfig() {
  return ModelConfig(nlohmann::json::parse(R"({
      "_class_name": "PNDMScheduler", "_diffusers_version": "0.6.0", "beta_end": 0.012,
      "beta_schedule": "scaled_linear", "beta_start": 0.00085, "num_train_timesteps": 1000,
      "set_alpha_to_one": false, "skip_prk_steps": true, "steps_offset": 1,
      "trained_betas": null, "clip_sample": false, "timestep_spacing": "leading",
      "prediction_type": "epsilon"})"),
                     "sd15/scheduler_config.json");
}

// `base` with the given keys replaced.
inline ModelConfig WithOverrides(const ModelConfig& base, const nlohmann::json& overrides) {
  nlohmann::json j = base.json();
  j.update(overrides);
  return ModelConfig(j, base.source());
}

}  // namespace ldm::testing
