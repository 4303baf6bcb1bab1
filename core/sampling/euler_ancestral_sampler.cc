#include "core/sampling/euler_ancestral_sampler.h"

#include <torch/torch.h>

#include <algorithm>
#include <cmath>

#include "core/common/status_macros.h"

namespace ldm {

absl::StatusOr<std::unique_ptr<Sampler>> EulerAncestralSampler::Create(const ModelConfig& config,
                                                                       int num_inference_steps) {
  NoiseSchedule::CreateOptions options;
  options.floor_terminal_alpha_cumprod = true;
  LDM_ASSIGN_OR_RETURN(auto schedule, NoiseSchedule::Create(config, options));
  LDM_RETURN_IF_ERROR(CheckNumSteps(*schedule, num_inference_steps));
  using P = NoiseSchedule::PredictionType;
  LDM_RETURN_IF_ERROR(
      RequirePrediction(*schedule, SamplerKind::kEulerAncestral, {P::kEpsilon, P::kVPrediction}));

  std::vector<double> timesteps = schedule->FractionalTimesteps(num_inference_steps);
  const bool leading = schedule->timestep_spacing() == NoiseSchedule::TimestepSpacing::kLeading;
  std::unique_ptr<EulerAncestralSampler> s(new EulerAncestralSampler(
      SamplerKind::kEulerAncestral, std::move(schedule), num_inference_steps));
  for (double t : timesteps) {
    s->sigmas_.push_back(static_cast<float>(s->schedule().InterpolateSigma(t)));
  }
  s->sigmas_.push_back(0.0);
  s->timesteps_ = std::move(timesteps);
  const double max_sigma = *std::max_element(s->sigmas_.begin(), s->sigmas_.end());
  s->init_noise_sigma_ =
      leading ? static_cast<float>(std::sqrt(max_sigma * max_sigma + 1)) : max_sigma;
  return std::unique_ptr<Sampler>(std::move(s));
}

torch::Tensor EulerAncestralSampler::ScaleModelInput(const torch::Tensor& sample) const {
  if (done()) return sample;
  const double sigma = sigmas_[calls_done()];
  return sample / std::sqrt(sigma * sigma + 1);
}

torch::Tensor EulerAncestralSampler::StepImpl(int call, const torch::Tensor& model_output,
                                              const torch::Tensor& sample,
                                              torch::Generator& generator) {
  const double sigma = sigmas_[call];
  torch::Tensor x0;
  if (schedule().prediction_type() == NoiseSchedule::PredictionType::kVPrediction) {
    x0 = model_output * (-sigma / std::sqrt(sigma * sigma + 1)) + sample / (sigma * sigma + 1);
  } else {
    x0 = sample - sigma * model_output;
  }
  const double sigma_to = sigmas_[call + 1];
  const double sigma_up =
      std::sqrt(sigma_to * sigma_to * (sigma * sigma - sigma_to * sigma_to) / (sigma * sigma));
  // max() guards against a tiny negative from rounding when sigma_up ~ sigma_to.
  const double sigma_down = std::sqrt(std::max(sigma_to * sigma_to - sigma_up * sigma_up, 0.0));
  torch::Tensor derivative = (sample - x0) / sigma;
  torch::Tensor prev = sample + derivative * (sigma_down - sigma);
  torch::Tensor noise = DrawNoise(model_output, generator);
  pred_original_ = x0;
  return prev + noise * sigma_up;
}

}  // namespace ldm
