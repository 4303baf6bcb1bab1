// Euler's method on the probability-flow ODE in the sigma parameterisation (Karras et al. 2022,
// "Elucidating the Design Space of Diffusion-Based Generative Models", Alg. 2 with
// S_churn = 0), with diffusers 0.27 `EulerDiscreteScheduler` semantics:
//   model input = x / sqrt(sigma_i^2 + 1), timestep t_i (fractional);
//   x0 = x - sigma_i eps   (v: x0 = -sigma_i / sqrt(sigma_i^2 + 1) v + x / (sigma_i^2 + 1));
//   x_next = x + (x - x0) / sigma_i * (sigma_{i+1} - sigma_i).
// sigma_i = interp(train sigmas, t_i) or, with use_karras_sigmas, Karras et al. eq. 5 (rho 7)
// between sigma_min and sigma_max with t_i = the matching fractional timestep.
// init_noise_sigma is max sigma for linspace/trailing spacing, sqrt(max^2 + 1) for leading.
// Random draws: one randn per step although S_churn = 0 leaves it unused, exactly as diffusers
// does, to keep the generator in step with a diffusers run.
//
// Config keys (resolved EulerDiscreteScheduler config): the NoiseSchedule keys,
// interpolation_type (linear; log_linear UNIMPLEMENTED), use_karras_sigmas, sigma_min, sigma_max,
// timestep_type (continuous with v_prediction: UNIMPLEMENTED).
// Thread safety and errors: see Sampler.
#pragma once

#include <memory>

#include "absl/status/statusor.h"
#include "core/io/model_config.h"
#include "core/sampling/sampler.h"

namespace ldm {

class EulerSampler : public Sampler {
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
