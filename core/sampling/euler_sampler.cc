#include "core/sampling/euler_sampler.h"

#include <torch/torch.h>

#include <algorithm>
#include <cmath>

#include "absl/strings/str_cat.h"
#include "core/common/status_macros.h"

namespace ldm {

absl::StatusOr<std::unique_ptr<Sampler>> EulerSampler::Create(const ModelConfig& config,
                                                              int num_inference_steps) {
  NoiseSchedule::CreateOptions options;
  options.floor_terminal_alpha_cumprod = true;
  LDM_ASSIGN_OR_RETURN(auto schedule, NoiseSchedule::Create(config, options));
  LDM_RETURN_IF_ERROR(CheckNumSteps(*schedule, num_inference_steps));
  using P = NoiseSchedule::PredictionType;
  LDM_RETURN_IF_ERROR(RequirePrediction(*schedule, SamplerKind::kEuler,
                                        {P::kEpsilon, P::kVPrediction, P::kSample}));
  LDM_RETURN_IF_ERROR(config.RequireOneOf("interpolation_type", {"linear"}));
  LDM_ASSIGN_OR_RETURN(const std::string timestep_type,
                       config.GetString("timestep_type", "discrete"));
  if (timestep_type != "discrete" && timestep_type != "continuous") {
    return config.Invalid("timestep_type", absl::StrCat("must be discrete or continuous, got \"",
                                                        timestep_type, "\""));
  }
  if (timestep_type == "continuous" && schedule->prediction_type() == P::kVPrediction) {
    return absl::UnimplementedError(
        absl::StrCat(config.source(),
                     ": timestep_type \"continuous\" with v_prediction is not implemented by "
                     "ldm's euler sampler"));
  }
  LDM_ASSIGN_OR_RETURN(const bool karras, config.GetBool("use_karras_sigmas", false));

  std::vector<double> timesteps = schedule->FractionalTimesteps(num_inference_steps);
  std::vector<double> sigmas;
  for (double t : timesteps) sigmas.push_back(schedule->InterpolateSigma(t));
  if (karras) {
    LDM_ASSIGN_OR_RETURN(const double sigma_min, config.GetDouble("sigma_min", sigmas.back()));
    LDM_ASSIGN_OR_RETURN(const double sigma_max, config.GetDouble("sigma_max", sigmas.front()));
    if (!(sigma_min > 0 && sigma_max > sigma_min)) {
      return config.Invalid("sigma_min", absl::StrCat("and sigma_max must satisfy 0 < sigma_min < "
                                                      "sigma_max, got ",
                                                      sigma_min, " and ", sigma_max));
    }
    sigmas = NoiseSchedule::KarrasSigmas(sigma_min, sigma_max, num_inference_steps);
    timesteps.clear();
    for (double sigma : sigmas) {
      timesteps.push_back(static_cast<float>(schedule->SigmaToTimestep(sigma)));
    }
  }
  const bool leading = schedule->timestep_spacing() == NoiseSchedule::TimestepSpacing::kLeading;
  std::unique_ptr<EulerSampler> s(
      new EulerSampler(SamplerKind::kEuler, std::move(schedule), num_inference_steps));
  s->timesteps_ = std::move(timesteps);
  // diffusers keeps sigmas as float32; rounding here keeps every later coefficient identical.
  for (double sigma : sigmas) s->sigmas_.push_back(static_cast<float>(sigma));
  s->sigmas_.push_back(0.0);
  const double max_sigma = *std::max_element(s->sigmas_.begin(), s->sigmas_.end());
  s->init_noise_sigma_ =
      leading ? static_cast<float>(std::sqrt(max_sigma * max_sigma + 1)) : max_sigma;
  return std::unique_ptr<Sampler>(std::move(s));
}

torch::Tensor EulerSampler::ScaleModelInput(const torch::Tensor& sample) const {
  if (done()) return sample;
  const double sigma = sigmas_[calls_done()];
  return sample / std::sqrt(sigma * sigma + 1);
}

torch::Tensor EulerSampler::StepImpl(int call, const torch::Tensor& model_output,
                                     const torch::Tensor& sample, torch::Generator& generator) {
  const double sigma = sigmas_[call];
  // Drawn for S_churn noise that is zero here; keeps the generator aligned with diffusers.
  DrawNoise(model_output, generator);
  torch::Tensor x0;
  switch (schedule().prediction_type()) {
    case NoiseSchedule::PredictionType::kEpsilon:
      x0 = sample - sigma * model_output;
      break;
    case NoiseSchedule::PredictionType::kVPrediction:
      x0 = model_output * (-sigma / std::sqrt(sigma * sigma + 1)) + sample / (sigma * sigma + 1);
      break;
    case NoiseSchedule::PredictionType::kSample:
      x0 = model_output;
      break;
  }
  torch::Tensor derivative = (sample - x0) / sigma;
  const double dt = sigmas_[call + 1] - sigma;
  pred_original_ = x0;
  return sample + derivative * dt;
}

}  // namespace ldm
