// DDIM sampling (Song et al. 2021, "Denoising Diffusion Implicit Models", eq. 12 and eq. 16 for
// sigma(eta)), with diffusers 0.27 `DDIMScheduler` semantics:
//   x0 = (x_t - sqrt(1 - ab_t) eps) / sqrt(ab_t)      (v and sample predictions converted)
//   x_prev = sqrt(ab_prev) x0 + sqrt(1 - ab_prev - s^2) eps + s z,
//   s = eta sqrt((1 - ab_prev) / (1 - ab_t) (1 - ab_t / ab_prev)),  prev = t - T / N,
// where ab_prev before step 0 is 1 (set_alpha_to_one) or ab_0. One randn draw per step only when
// eta > 0; eta = 0 is deterministic.
//
// Config keys (resolved DDIMScheduler config): the NoiseSchedule keys, set_alpha_to_one,
// clip_sample, clip_sample_range, thresholding (true: UNIMPLEMENTED).
// Thread safety and errors: see Sampler.
#pragma once

#include <memory>

#include "absl/status/statusor.h"
#include "core/io/model_config.h"
#include "core/sampling/sampler.h"

namespace ldm {

class DdimSampler : public Sampler {
 public:
  // `eta` >= 0 (checked by the factory; INVALID_ARGUMENT here too).
  static absl::StatusOr<std::unique_ptr<Sampler>> Create(const ModelConfig& config,
                                                         int num_inference_steps, double eta);

 protected:
  torch::Tensor StepImpl(int call, const torch::Tensor& model_output, const torch::Tensor& sample,
                         torch::Generator& generator) override;

 private:
  using Sampler::Sampler;

  double eta_ = 0;
  double final_alpha_cumprod_ = 1.0;
  bool clip_sample_ = false;
  double clip_sample_range_ = 1.0;
  int64_t step_ratio_ = 1;
};

}  // namespace ldm
