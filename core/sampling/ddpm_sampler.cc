#include "core/sampling/ddpm_sampler.h"

#include <torch/torch.h>

#include <algorithm>
#include <cmath>

#include "absl/strings/str_cat.h"
#include "core/common/status_macros.h"

namespace ldm {

absl::StatusOr<std::unique_ptr<Sampler>> DdpmSampler::Create(const ModelConfig& config,
                                                             int num_inference_steps) {
  LDM_ASSIGN_OR_RETURN(auto schedule, NoiseSchedule::Create(config));
  LDM_RETURN_IF_ERROR(CheckNumSteps(*schedule, num_inference_steps));
  using P = NoiseSchedule::PredictionType;
  LDM_RETURN_IF_ERROR(
      RequirePrediction(*schedule, SamplerKind::kDdpm, {P::kEpsilon, P::kVPrediction, P::kSample}));
  LDM_RETURN_IF_ERROR(RequireFalse(config, "thresholding", SamplerKind::kDdpm));
  LDM_ASSIGN_OR_RETURN(const std::string variance_type,
                       config.GetString("variance_type", "fixed_small"));
  if (variance_type != "fixed_small" && variance_type != "fixed_small_log" &&
      variance_type != "fixed_large") {
    return absl::UnimplementedError(absl::StrCat(
        config.source(), ": variance_type \"", variance_type,
        "\" is not implemented by the ddpm sampler (supported: fixed_small, fixed_small_log, "
        "fixed_large)"));
  }
  LDM_ASSIGN_OR_RETURN(const bool clip_sample, config.GetBool("clip_sample", true));
  LDM_ASSIGN_OR_RETURN(const double clip_range, config.GetDouble("clip_sample_range", 1.0));
  if (clip_sample && !(clip_range > 0)) {
    return config.Invalid("clip_sample_range", absl::StrCat("must be > 0, got ", clip_range));
  }

  std::vector<int64_t> timesteps = schedule->IntegerTimesteps(num_inference_steps);
  if (num_inference_steps == schedule->num_train_timesteps()) {
    // The full chain is DDPM's Algorithm 2 itself: every training timestep T-1 .. 0, whatever the
    // spacing. (diffusers' "leading" spacing with steps_offset 1, the Stable Diffusion setting,
    // would ask for timestep T here and fail with an index error.)
    for (int64_t i = 0; i < num_inference_steps; ++i) {
      timesteps[static_cast<size_t>(i)] = num_inference_steps - 1 - i;
    }
  }
  LDM_RETURN_IF_ERROR(schedule->CheckTimestepsInRange(timesteps, num_inference_steps));
  const int64_t step_ratio = schedule->num_train_timesteps() / num_inference_steps;
  std::unique_ptr<DdpmSampler> s(
      new DdpmSampler(SamplerKind::kDdpm, std::move(schedule), num_inference_steps));
  s->timesteps_.assign(timesteps.begin(), timesteps.end());
  s->fixed_large_ = variance_type == "fixed_large";
  s->clip_sample_ = clip_sample;
  s->clip_sample_range_ = clip_range;
  s->step_ratio_ = step_ratio;
  return std::unique_ptr<Sampler>(std::move(s));
}

torch::Tensor DdpmSampler::StepImpl(int call, const torch::Tensor& model_output,
                                    const torch::Tensor& sample, torch::Generator& generator) {
  const int64_t t = static_cast<int64_t>(timesteps_[call]);
  const int64_t prev_t = t - step_ratio_;
  const double ab_t = schedule().alpha_cumprod(t);
  // Before the first training step the signal is clean: ab = 1 (diffusers' `self.one`).
  const double ab_prev = prev_t >= 0 ? schedule().alpha_cumprod(prev_t) : 1.0;
  const double beta_prod_t = 1 - ab_t;
  const double beta_prod_prev = 1 - ab_prev;
  const double alpha_t = ab_t / ab_prev;  // a'_t of the strided chain
  const double beta_t = 1 - alpha_t;

  torch::Tensor x0;
  switch (schedule().prediction_type()) {
    case NoiseSchedule::PredictionType::kEpsilon:
      x0 = (sample - std::sqrt(beta_prod_t) * model_output) / std::sqrt(ab_t);
      break;
    case NoiseSchedule::PredictionType::kVPrediction:
      x0 = std::sqrt(ab_t) * sample - std::sqrt(beta_prod_t) * model_output;
      break;
    case NoiseSchedule::PredictionType::kSample:
      x0 = model_output;
      break;
  }
  if (clip_sample_) x0 = x0.clamp(-clip_sample_range_, clip_sample_range_);

  // Posterior mean of q(x_prev | x_t, x0) (DDPM eq. 7).
  const double x0_coeff = std::sqrt(ab_prev) * beta_t / beta_prod_t;
  const double xt_coeff = std::sqrt(alpha_t) * beta_prod_prev / beta_prod_t;
  torch::Tensor prev = x0_coeff * x0 + xt_coeff * sample;
  if (t > 0) {
    torch::Tensor noise = DrawNoise(model_output, generator);
    const double variance =
        fixed_large_ ? beta_t : std::max(beta_prod_prev / beta_prod_t * beta_t, 1e-20);
    prev = prev + std::sqrt(variance) * noise;
  }
  pred_original_ = x0;
  return prev;
}

}  // namespace ldm
