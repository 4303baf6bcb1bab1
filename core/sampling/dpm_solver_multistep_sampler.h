// DPM-Solver++(2M) (Lu et al. 2022, "DPM-Solver++: Fast Solver for Guided Sampling of Diffusion
// Probabilistic Models", Alg. 2: multistep second-order data-prediction solver), with diffusers
// 0.27 `DPMSolverMultistepScheduler(algorithm_type="dpmsolver++", solver_order=2)` semantics:
//   alpha_i = 1 / sqrt(sigma_i^2 + 1), s_i = sigma_i alpha_i, lambda_i = log(alpha_i / s_i);
//   D_i = x0 prediction = (x - s_i eps) / alpha_i  (or alpha_i x - s_i v, or the sample);
//   h = lambda_{i+1} - lambda_i;
//   first order: x_next = s_{i+1}/s_i x - alpha_{i+1} (e^-h - 1) D_i;
//   second order (midpoint): r = (lambda_i - lambda_{i-1}) / h, D1 = (D_i - D_{i-1}) / r,
//     x_next = s_{i+1}/s_i x - alpha_{i+1} (e^-h - 1) (D_i + D1 / 2)   (heun: + alpha(...) D1).
// The first step is first order; with lower_order_final the last step (and, for fewer than 15
// steps, the last two steps' order) is lowered; final_sigmas_type "zero" ends at sigma 0.
// Karras sigmas (use_karras_sigmas) follow Karras et al. 2022 eq. 5, rho 7, over the whole
// training sigma range, with timesteps rounded to the nearest integer.
// No random draws. pred_original_sample() is the data prediction D_i of the last step.
//
// Config keys (resolved DPMSolverMultistepScheduler config): the NoiseSchedule keys, solver_order
// (1 or 2), algorithm_type (dpmsolver++), solver_type (midpoint | heun), lower_order_final,
// euler_at_final, use_karras_sigmas, sigma_min, sigma_max, use_lu_lambdas (true: UNIMPLEMENTED),
// final_sigmas_type (zero | sigma_min), lambda_min_clipped, variance_type (null only),
// thresholding (true: UNIMPLEMENTED).
// Thread safety and errors: see Sampler.
#pragma once

#include <memory>
#include <optional>

#include "absl/status/statusor.h"
#include "core/io/model_config.h"
#include "core/sampling/sampler.h"

namespace ldm {

class DpmSolverMultistepSampler : public Sampler {
 public:
  // `kind` is kDpmpp2m or kDpmpp2mKarras (it only labels the sampler; the config's
  // use_karras_sigmas decides the sigmas, and the factory sets it from the kind).
  static absl::StatusOr<std::unique_ptr<Sampler>> Create(const ModelConfig& config,
                                                         int num_inference_steps, SamplerKind kind);

 protected:
  torch::Tensor StepImpl(int call, const torch::Tensor& model_output, const torch::Tensor& sample,
                         torch::Generator& generator) override;

 private:
  using Sampler::Sampler;

  int solver_order_ = 2;
  bool heun_ = false;
  bool lower_order_final_ = true;
  bool euler_at_final_ = false;
  bool final_sigma_zero_ = true;
  int lower_order_nums_ = 0;
  std::optional<torch::Tensor> previous_x0_;
};

}  // namespace ldm
