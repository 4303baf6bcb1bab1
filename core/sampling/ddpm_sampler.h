// Ancestral DDPM sampling (Ho et al. 2020, "Denoising Diffusion Probabilistic Models",
// Algorithm 2 / eq. 6-7), with diffusers 0.27 `DDPMScheduler` semantics for strided steps:
//   x0 = (x_t - sqrt(1 - ab_t) eps) / sqrt(ab_t)            (or from v / the sample itself)
//   x_prev = sqrt(ab_prev) beta'_t / (1 - ab_t) x0 + sqrt(a'_t) (1 - ab_prev) / (1 - ab_t) x_t
//            + sigma_t z,  with a'_t = ab_t / ab_prev, beta'_t = 1 - a'_t, prev = t - T / N.
// sigma_t^2 = max(beta'_t (1 - ab_prev) / (1 - ab_t), 1e-20) ("fixed_small" and
// "fixed_small_log") or beta'_t ("fixed_large"). One randn draw per step whenever t > 0.
// With num_inference_steps = num_train_timesteps the timesteps are T-1 .. 0 for every spacing
// (the full ancestral chain of Algorithm 2).
//
// Config keys (resolved DDPMScheduler config): the NoiseSchedule keys, variance_type
// (fixed_small | fixed_small_log | fixed_large; learned variants are UNIMPLEMENTED),
// clip_sample, clip_sample_range, thresholding (true: UNIMPLEMENTED).
// Thread safety and errors: see Sampler.
#pragma once

#include <memory>

#include "absl/status/statusor.h"
#include "core/io/model_config.h"
#include "core/sampling/sampler.h"

namespace ldm {

class DdpmSampler : public Sampler {
 public:
  static absl::StatusOr<std::unique_ptr<Sampler>> Create(const ModelConfig& config,
                                                         int num_inference_steps);

 protected:
  torch::Tensor StepImpl(int call, const torch::Tensor& model_output, const torch::Tensor& sample,
                         torch::Generator& generator) override;

 private:
  using Sampler::Sampler;

  bool fixed_large_ = false;
  bool clip_sample_ = false;
  double clip_sample_range_ = 1.0;
  int64_t step_ratio_ = 1;
};

}  // namespace ldm
