// Euler ancestral sampling (the ancestral Euler sampler of k-diffusion, Karras et al. 2022
// sigma parameterisation with the DDPM ancestral split of each step), with diffusers 0.27
// `EulerAncestralDiscreteScheduler` semantics:
//   model input = x / sqrt(sigma_i^2 + 1); x0 = x - sigma_i eps (or from v);
//   sigma_up = sqrt(sigma_{i+1}^2 (sigma_i^2 - sigma_{i+1}^2) / sigma_i^2),
//   sigma_down = sqrt(sigma_{i+1}^2 - sigma_up^2);
//   x_next = x + (x - x0) / sigma_i * (sigma_down - sigma_i) + sigma_up z.
// Sigmas interpolate the training sigmas at the (fractional) timesteps; init_noise_sigma as for
// Euler. Random draws: one randn per step (also the last, where sigma_up = 0).
//
// Config keys (resolved EulerAncestralDiscreteScheduler config): the NoiseSchedule keys.
// prediction_type epsilon | v_prediction.
// Thread safety and errors: see Sampler.
#pragma once

#include <memory>

#include "absl/status/statusor.h"
#include "core/io/model_config.h"
#include "core/sampling/sampler.h"

namespace ldm {

class EulerAncestralSampler : public Sampler {
 public:
  static absl::StatusOr<std::unique_ptr<Sampler>> Create(const ModelConfig& config,
                                                         int num_inference_steps);

  torch::Tensor ScaleModelInput(const torch::Tensor& sample) const override;

 protected:
  torch::Tensor StepImpl(int call, const torch::Tensor& model_output, const torch::Tensor& sample,
                         torch::Generator& generator) override;

 private:
  using Sampler::Sampler;
};

}  // namespace ldm
