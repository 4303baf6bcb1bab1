#include "core/sampling/ddim_sampler.h"

#include <torch/torch.h>

#include <cmath>

#include "absl/strings/str_cat.h"
#include "core/common/status_macros.h"

namespace ldm {

absl::StatusOr<std::unique_ptr<Sampler>> DdimSampler::Create(const ModelConfig& config,
                                                             int num_inference_steps, double eta) {
  if (!(eta >= 0) || !std::isfinite(eta)) {
    return absl::InvalidArgumentError(absl::StrCat("eta must be a finite value >= 0, got ", eta));
  }
  LDM_ASSIGN_OR_RETURN(auto schedule, NoiseSchedule::Create(config));
  LDM_RETURN_IF_ERROR(CheckNumSteps(*schedule, num_inference_steps));
  using P = NoiseSchedule::PredictionType;
  LDM_RETURN_IF_ERROR(
      RequirePrediction(*schedule, SamplerKind::kDdim, {P::kEpsilon, P::kVPrediction, P::kSample}));
  LDM_RETURN_IF_ERROR(RequireFalse(config, "thresholding", SamplerKind::kDdim));
  LDM_ASSIGN_OR_RETURN(const bool set_alpha_to_one, config.GetBool("set_alpha_to_one", true));
  LDM_ASSIGN_OR_RETURN(const bool clip_sample, config.GetBool("clip_sample", true));
  LDM_ASSIGN_OR_RETURN(const double clip_range, config.GetDouble("clip_sample_range", 1.0));
  if (clip_sample && !(clip_range > 0)) {
    return config.Invalid("clip_sample_range", absl::StrCat("must be > 0, got ", clip_range));
  }

  std::vector<int64_t> timesteps = schedule->IntegerTimesteps(num_inference_steps);
  LDM_RETURN_IF_ERROR(schedule->CheckTimestepsInRange(timesteps, num_inference_steps));
  const int64_t step_ratio = schedule->num_train_timesteps() / num_inference_steps;
  const double final_ab = set_alpha_to_one ? 1.0 : schedule->alpha_cumprod(0);
  std::unique_ptr<DdimSampler> s(
      new DdimSampler(SamplerKind::kDdim, std::move(schedule), num_inference_steps));
  s->timesteps_.assign(timesteps.begin(), timesteps.end());
  s->eta_ = eta;
  s->final_alpha_cumprod_ = final_ab;
  s->clip_sample_ = clip_sample;
  s->clip_sample_range_ = clip_range;
  s->step_ratio_ = step_ratio;
  return std::unique_ptr<Sampler>(std::move(s));
}

torch::Tensor DdimSampler::StepImpl(int call, const torch::Tensor& model_output,
                                    const torch::Tensor& sample, torch::Generator& generator) {
  const int64_t t = static_cast<int64_t>(timesteps_[call]);
  // diffusers steps back by T / N whatever the spacing; kept for agreement.
  const int64_t prev_t = t - step_ratio_;
  const double ab_t = schedule().alpha_cumprod(t);
  const double ab_prev = prev_t >= 0 ? schedule().alpha_cumprod(prev_t) : final_alpha_cumprod_;
  const double beta_prod_t = 1 - ab_t;

  torch::Tensor x0;
  torch::Tensor eps;
  switch (schedule().prediction_type()) {
    case NoiseSchedule::PredictionType::kEpsilon:
      x0 = (sample - std::sqrt(beta_prod_t) * model_output) / std::sqrt(ab_t);
      eps = model_output;
      break;
    case NoiseSchedule::PredictionType::kVPrediction:
      x0 = std::sqrt(ab_t) * sample - std::sqrt(beta_prod_t) * model_output;
      eps = std::sqrt(ab_t) * model_output + std::sqrt(beta_prod_t) * sample;
      break;
    case NoiseSchedule::PredictionType::kSample:
      x0 = model_output;
      eps = (sample - std::sqrt(ab_t) * x0) / std::sqrt(beta_prod_t);
      break;
  }
  // As in diffusers (use_clipped_model_output=false), clipping x0 does not re-derive eps.
  if (clip_sample_) x0 = x0.clamp(-clip_sample_range_, clip_sample_range_);

  const double variance = (1 - ab_prev) / beta_prod_t * (1 - ab_t / ab_prev);
  const double std_dev = eta_ * std::sqrt(variance);
  const double direction_coeff = std::sqrt(std::max(1 - ab_prev - std_dev * std_dev, 0.0));
  torch::Tensor prev = std::sqrt(ab_prev) * x0 + direction_coeff * eps;
  if (eta_ > 0) prev = prev + std_dev * DrawNoise(model_output, generator);
  pred_original_ = x0;
  return prev;
}

}  // namespace ldm
