#include "core/sampling/pndm_sampler.h"

#include <torch/torch.h>

#include <algorithm>
#include <cmath>

#include "absl/strings/str_cat.h"
#include "core/common/status_macros.h"

namespace ldm {

absl::StatusOr<std::unique_ptr<Sampler>> PndmSampler::Create(const ModelConfig& config,
                                                             int num_inference_steps) {
  LDM_ASSIGN_OR_RETURN(auto schedule, NoiseSchedule::Create(config));
  LDM_RETURN_IF_ERROR(CheckNumSteps(*schedule, num_inference_steps));
  using P = NoiseSchedule::PredictionType;
  LDM_RETURN_IF_ERROR(
      RequirePrediction(*schedule, SamplerKind::kPndm, {P::kEpsilon, P::kVPrediction}));
  LDM_ASSIGN_OR_RETURN(const bool skip_prk, config.GetBool("skip_prk_steps", false));
  if (!skip_prk) {
    return absl::UnimplementedError(
        absl::StrCat(config.source(),
                     ": skip_prk_steps=false (the PNDM Runge-Kutta warm-up) is not implemented "
                     "by ldm's pndm sampler; set skip_prk_steps=true (the PLMS path)"));
  }
  LDM_ASSIGN_OR_RETURN(const bool set_alpha_to_one, config.GetBool("set_alpha_to_one", false));

  // Ascending training timesteps, then the PLMS call order: all but the last, the second to last
  // again, the last; reversed. With one step there is just one call.
  std::vector<int64_t> ascending = schedule->IntegerTimesteps(num_inference_steps);
  LDM_RETURN_IF_ERROR(schedule->CheckTimestepsInRange(ascending, num_inference_steps));
  std::reverse(ascending.begin(), ascending.end());
  std::vector<int64_t> calls(ascending.begin(), ascending.end() - 1);
  if (ascending.size() >= 2) calls.push_back(ascending[ascending.size() - 2]);
  calls.push_back(ascending.back());
  std::reverse(calls.begin(), calls.end());

  const int64_t step_ratio = schedule->num_train_timesteps() / num_inference_steps;
  const double final_ab = set_alpha_to_one ? 1.0 : schedule->alpha_cumprod(0);
  std::unique_ptr<PndmSampler> s(
      new PndmSampler(SamplerKind::kPndm, std::move(schedule), num_inference_steps));
  s->timesteps_.assign(calls.begin(), calls.end());
  s->final_alpha_cumprod_ = final_ab;
  s->step_ratio_ = step_ratio;
  return std::unique_ptr<Sampler>(std::move(s));
}

torch::Tensor PndmSampler::Transfer(const torch::Tensor& sample, int64_t t, int64_t prev_t,
                                    torch::Tensor eps) const {
  const double ab_t = schedule().alpha_cumprod(t);
  const double ab_prev = prev_t >= 0 ? schedule().alpha_cumprod(prev_t) : final_alpha_cumprod_;
  const double beta_prod_t = 1 - ab_t;
  const double beta_prod_prev = 1 - ab_prev;
  if (schedule().prediction_type() == NoiseSchedule::PredictionType::kVPrediction) {
    eps = std::sqrt(ab_t) * eps + std::sqrt(beta_prod_t) * sample;
  }
  const double sample_coeff = std::sqrt(ab_prev / ab_t);
  const double denom = ab_t * std::sqrt(beta_prod_prev) + std::sqrt(ab_t * beta_prod_t * ab_prev);
  return sample_coeff * sample - (ab_prev - ab_t) * eps / denom;
}

torch::Tensor PndmSampler::StepImpl(int call, const torch::Tensor& model_output,
                                    const torch::Tensor& sample, torch::Generator& generator) {
  int64_t t = static_cast<int64_t>(timesteps_[call]);
  int64_t prev_t = t - step_ratio_;
  // Work on copies so that a throwing step leaves the sampler unchanged.
  std::vector<torch::Tensor> history = history_;
  std::optional<torch::Tensor> first_sample = first_sample_;
  if (call != 1) {
    if (history.size() > 3) history.erase(history.begin());
    history.push_back(model_output);
  } else {
    // The repeated call re-evaluates the first step from its start: t_N -> t_{N-1} again.
    prev_t = t;
    t = t + step_ratio_;
  }

  torch::Tensor x = sample;
  torch::Tensor eps;
  const size_t n = history.size();
  if (n == 1 && call == 0) {
    eps = model_output;
    first_sample = sample;
  } else if (n == 1 && call == 1) {
    eps = (model_output + history.back()) / 2;
    x = *first_sample;
    first_sample.reset();
  } else if (n == 2) {
    eps = (3 * history[1] - history[0]) / 2;
  } else if (n == 3) {
    eps = (23 * history[2] - 16 * history[1] + 5 * history[0]) / 12;
  } else {
    eps = (1.0 / 24) * (55 * history[3] - 59 * history[2] + 37 * history[1] - 9 * history[0]);
  }
  torch::Tensor prev = Transfer(x, t, prev_t, eps);
  history_ = std::move(history);
  first_sample_ = std::move(first_sample);
  return prev;
}

}  // namespace ldm
