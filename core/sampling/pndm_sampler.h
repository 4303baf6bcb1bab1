// PNDM with the PLMS update only (Liu et al. 2022, "Pseudo Numerical Methods for Diffusion Models
// on Manifolds": the transfer function phi of Sec. 3 and the pseudo linear multi-step method,
// Alg. 2), with diffusers 0.27 `PNDMScheduler(skip_prk_steps=True)` semantics as used by Stable
// Diffusion:
//   the first model call is repeated: calls are t_N, t_{N-1}, t_{N-1}, ..., t_1 (N + 1 calls for
//   N >= 2); the second call averages its output with the first and restarts from the first
//   sample (a 2nd-order Heun-like start); later calls use the Adams-Bashforth combinations
//   (3e1 - e2)/2, (23e1 - 16e2 + 5e3)/12, (55e1 - 59e2 + 37e3 - 9e4)/24;
//   phi(x, t -> p, e) = sqrt(ab_p / ab_t) x
//                       - (ab_p - ab_t) e / (ab_t sqrt(1 - ab_p) + sqrt(ab_t (1 - ab_t) ab_p)).
// No random draws. No x_0 estimate (pred_original_sample() stays empty).
//
// Config keys (resolved PNDMScheduler config): the NoiseSchedule keys, skip_prk_steps (false, the
// Runge-Kutta warm-up, is UNIMPLEMENTED), set_alpha_to_one. prediction_type epsilon | v_prediction.
// Thread safety and errors: see Sampler.
#pragma once

#include <memory>
#include <optional>
#include <vector>

#include "absl/status/statusor.h"
#include "core/io/model_config.h"
#include "core/sampling/sampler.h"

namespace ldm {

class PndmSampler : public Sampler {
 public:
  static absl::StatusOr<std::unique_ptr<Sampler>> Create(const ModelConfig& config,
                                                         int num_inference_steps);

 protected:
  torch::Tensor StepImpl(int call, const torch::Tensor& model_output, const torch::Tensor& sample,
                         torch::Generator& generator) override;

 private:
  using Sampler::Sampler;

  // phi: moves `sample` from timestep t to prev_t along the noise estimate `eps`.
  torch::Tensor Transfer(const torch::Tensor& sample, int64_t t, int64_t prev_t,
                         torch::Tensor eps) const;

  double final_alpha_cumprod_ = 1.0;
  int64_t step_ratio_ = 1;
  std::vector<torch::Tensor> history_;         // the last (up to 4) raw model outputs
  std::optional<torch::Tensor> first_sample_;  // the sample of call 0, reused by call 1
};

}  // namespace ldm
