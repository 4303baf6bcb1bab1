#include "core/sampling/dpm_solver_multistep_sampler.h"

#include <torch/torch.h>

#include <cmath>
#include <limits>

#include "absl/strings/str_cat.h"
#include "core/common/status_macros.h"

namespace ldm {
namespace {

struct AlphaSigma {
  double alpha;
  double sigma;
  double lambda;  // log-SNR / 2 = log(alpha / sigma); +inf at sigma 0
};

AlphaSigma FromKarrasSigma(double sigma) {
  const double alpha = 1 / std::sqrt(sigma * sigma + 1);
  const double s = sigma * alpha;
  return {alpha, s, std::log(alpha) - std::log(s)};
}

}  // namespace

absl::StatusOr<std::unique_ptr<Sampler>> DpmSolverMultistepSampler::Create(
    const ModelConfig& config, int num_inference_steps, SamplerKind kind) {
  NoiseSchedule::CreateOptions options;
  options.floor_terminal_alpha_cumprod = true;
  LDM_ASSIGN_OR_RETURN(auto schedule, NoiseSchedule::Create(config, options));
  LDM_RETURN_IF_ERROR(CheckNumSteps(*schedule, num_inference_steps));
  using P = NoiseSchedule::PredictionType;
  LDM_RETURN_IF_ERROR(
      RequirePrediction(*schedule, kind, {P::kEpsilon, P::kVPrediction, P::kSample}));
  LDM_RETURN_IF_ERROR(RequireFalse(config, "thresholding", kind));
  LDM_RETURN_IF_ERROR(RequireFalse(config, "use_lu_lambdas", kind));
  LDM_RETURN_IF_ERROR(config.RequireOneOf("algorithm_type", {"dpmsolver++"}));
  LDM_RETURN_IF_ERROR(config.RequireOneOf("solver_type", {"midpoint", "heun"}));
  LDM_RETURN_IF_ERROR(config.RequireOneOf("final_sigmas_type", {"zero", "sigma_min"}));
  LDM_RETURN_IF_ERROR(config.RequireOneOf("variance_type", {}));
  LDM_ASSIGN_OR_RETURN(const int64_t order, config.GetInt("solver_order", 2));
  if (order != 1 && order != 2) {
    return absl::UnimplementedError(absl::StrCat(config.source(), ": solver_order ", order,
                                                 " is not implemented (supported: 1, 2)"));
  }
  LDM_ASSIGN_OR_RETURN(const std::string solver_type, config.GetString("solver_type", "midpoint"));
  LDM_ASSIGN_OR_RETURN(const std::string final_type, config.GetString("final_sigmas_type", "zero"));
  LDM_ASSIGN_OR_RETURN(const bool lower_order_final, config.GetBool("lower_order_final", true));
  LDM_ASSIGN_OR_RETURN(const bool euler_at_final, config.GetBool("euler_at_final", false));
  LDM_ASSIGN_OR_RETURN(const bool karras, config.GetBool("use_karras_sigmas", false));
  LDM_ASSIGN_OR_RETURN(
      const double lambda_min_clipped,
      config.GetDouble("lambda_min_clipped", -std::numeric_limits<double>::infinity()));

  // Timesteps whose log-SNR falls below lambda_min_clipped are cut from the top of the range.
  const int64_t t_train = schedule->num_train_timesteps();
  int64_t clipped = 0;
  for (int64_t t = t_train - 1; t >= 0; --t) {
    const double ab = schedule->alpha_cumprod(t);
    const double lambda = std::log(std::sqrt(ab)) - std::log(std::sqrt(1 - ab));
    if (lambda < lambda_min_clipped) ++clipped;
  }
  const int64_t last_timestep = t_train - clipped;
  if (last_timestep < 1) {
    return config.Invalid("lambda_min_clipped", "clips every training timestep");
  }

  const int n = num_inference_steps;
  std::vector<double> timesteps;
  switch (schedule->timestep_spacing()) {
    case NoiseSchedule::TimestepSpacing::kLinspace: {
      // n + 1 points from 0 to last-1, descending, without the final 0.
      std::vector<double> points =
          NoiseSchedule::NumpyLinspace(0, static_cast<double>(last_timestep - 1), n + 1);
      for (int i = n; i >= 1; --i) timesteps.push_back(NoiseSchedule::RoundHalfEven(points[i]));
      break;
    }
    case NoiseSchedule::TimestepSpacing::kLeading: {
      const int64_t ratio = last_timestep / (n + 1);
      for (int i = n; i >= 1; --i) {
        timesteps.push_back(static_cast<double>(i * ratio + schedule->steps_offset()));
      }
      break;
    }
    case NoiseSchedule::TimestepSpacing::kTrailing: {
      const double ratio = static_cast<double>(t_train) / n;
      for (double v :
           NoiseSchedule::NumpyArangeDown(static_cast<double>(last_timestep), 0, -ratio)) {
        timesteps.push_back(NoiseSchedule::RoundHalfEven(v) - 1);
      }
      break;
    }
  }

  std::vector<double> sigmas;
  if (karras) {
    const std::vector<double>& train = schedule->train_sigmas();
    LDM_ASSIGN_OR_RETURN(const double sigma_min, config.GetDouble("sigma_min", train.front()));
    LDM_ASSIGN_OR_RETURN(const double sigma_max, config.GetDouble("sigma_max", train.back()));
    if (!(sigma_min > 0 && sigma_max > sigma_min)) {
      return config.Invalid("sigma_min", absl::StrCat("and sigma_max must satisfy 0 < sigma_min < "
                                                      "sigma_max, got ",
                                                      sigma_min, " and ", sigma_max));
    }
    sigmas = NoiseSchedule::KarrasSigmas(sigma_min, sigma_max, n);
    timesteps.clear();
    for (double sigma : sigmas) {
      timesteps.push_back(NoiseSchedule::RoundHalfEven(schedule->SigmaToTimestep(sigma)));
    }
  } else {
    for (double t : timesteps) sigmas.push_back(schedule->InterpolateSigma(t));
  }
  sigmas.push_back(final_type == "zero" ? 0.0 : schedule->train_sigmas().front());

  std::unique_ptr<DpmSolverMultistepSampler> s(
      new DpmSolverMultistepSampler(kind, std::move(schedule), num_inference_steps));
  s->timesteps_ = std::move(timesteps);
  for (double sigma : sigmas) s->sigmas_.push_back(static_cast<float>(sigma));
  s->init_noise_sigma_ = 1.0;
  s->solver_order_ = static_cast<int>(order);
  s->heun_ = solver_type == "heun";
  s->lower_order_final_ = lower_order_final;
  s->euler_at_final_ = euler_at_final;
  s->final_sigma_zero_ = final_type == "zero";
  return std::unique_ptr<Sampler>(std::move(s));
}

torch::Tensor DpmSolverMultistepSampler::StepImpl(int call, const torch::Tensor& model_output,
                                                  const torch::Tensor& sample,
                                                  torch::Generator& generator) {
  const int n = num_model_calls();
  // Lower-order steps at the end stabilise few-step sampling (DPM-Solver++ Sec. 5 / diffusers).
  const bool lower_final =
      call == n - 1 && (euler_at_final_ || (lower_order_final_ && n < 15) || final_sigma_zero_);
  // (diffusers' lower_order_second only lowers third-order steps, which ldm does not take.)

  const AlphaSigma cur = FromKarrasSigma(sigmas_[call]);
  torch::Tensor x0;
  switch (schedule().prediction_type()) {
    case NoiseSchedule::PredictionType::kEpsilon:
      x0 = (sample - cur.sigma * model_output) / cur.alpha;
      break;
    case NoiseSchedule::PredictionType::kVPrediction:
      x0 = cur.alpha * sample - cur.sigma * model_output;
      break;
    case NoiseSchedule::PredictionType::kSample:
      x0 = model_output;
      break;
  }

  const AlphaSigma next = FromKarrasSigma(sigmas_[call + 1]);
  const double h = next.lambda - cur.lambda;
  const double expm = std::exp(-h) - 1.0;  // exact 0 - 1 when the next sigma is 0 (h = +inf)
  torch::Tensor prev;
  if (solver_order_ == 1 || lower_order_nums_ < 1 || lower_final) {
    prev = (next.sigma / cur.sigma) * sample - (next.alpha * expm) * x0;
  } else {
    const AlphaSigma before = FromKarrasSigma(sigmas_[call - 1]);
    const double r0 = (cur.lambda - before.lambda) / h;
    torch::Tensor d1 = (1.0 / r0) * (x0 - *previous_x0_);
    prev = (next.sigma / cur.sigma) * sample - (next.alpha * expm) * x0;
    if (heun_) {
      prev = prev + (next.alpha * (expm / h + 1.0)) * d1;
    } else {
      prev = prev - 0.5 * (next.alpha * expm) * d1;
    }
  }
  previous_x0_ = x0;
  if (lower_order_nums_ < solver_order_) ++lower_order_nums_;
  pred_original_ = x0;
  return prev;
}

}  // namespace ldm
