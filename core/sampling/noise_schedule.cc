#include "core/sampling/noise_schedule.h"

#include <torch/torch.h>

#include <algorithm>
#include <cmath>
#include <utility>

#include "absl/strings/str_cat.h"
#include "core/common/status_macros.h"
#include "core/common/torch_guard.h"

namespace ldm {
namespace {

std::vector<double> ToDoubles(const torch::Tensor& t) {
  torch::Tensor d = t.to(torch::kFloat64).contiguous();
  const double* p = d.data_ptr<double>();
  return std::vector<double>(p, p + d.numel());
}

// Nichol & Dhariwal 2021, eq. 17: betas from a squared-cosine alpha-bar, capped at 0.999.
std::vector<double> SquaredCosineBetas(int n) {
  auto alpha_bar = [](double t) {
    const double c = std::cos((t + 0.008) / 1.008 * M_PI / 2);
    return c * c;
  };
  std::vector<double> betas(n);
  for (int i = 0; i < n; ++i) {
    const double t1 = static_cast<double>(i) / n;
    const double t2 = static_cast<double>(i + 1) / n;
    betas[i] = std::min(1 - alpha_bar(t2) / alpha_bar(t1), 0.999);
  }
  return betas;
}

// Lin et al. 2023, Algorithm 1: shift and scale sqrt(ab) so that the last step has zero SNR.
// Done in float32 tensor ops, as diffusers does, so the rounding matches.
torch::Tensor RescaleZeroTerminalSnr(const torch::Tensor& betas) {
  torch::Tensor ab_sqrt = torch::cumprod(1.0 - betas, 0).sqrt();
  torch::Tensor first = ab_sqrt[0].clone();
  torch::Tensor last = ab_sqrt[-1].clone();
  ab_sqrt = (ab_sqrt - last) * (first / (first - last));
  torch::Tensor ab = ab_sqrt.pow(2);
  torch::Tensor alphas = torch::cat({ab.slice(0, 0, 1), ab.slice(0, 1) / ab.slice(0, 0, -1)});
  return 1 - alphas;
}

}  // namespace

absl::string_view PredictionTypeName(NoiseSchedule::PredictionType type) {
  switch (type) {
    case NoiseSchedule::PredictionType::kEpsilon:
      return "epsilon";
    case NoiseSchedule::PredictionType::kVPrediction:
      return "v_prediction";
    case NoiseSchedule::PredictionType::kSample:
      return "sample";
  }
  return "?";
}

absl::StatusOr<std::shared_ptr<const NoiseSchedule>> NoiseSchedule::Create(
    const ModelConfig& config, CreateOptions options) {
  std::shared_ptr<NoiseSchedule> s(new NoiseSchedule());
  s->source_ = config.source();
  LDM_ASSIGN_OR_RETURN(const int64_t num_train, config.GetInt("num_train_timesteps", 1000));
  if (num_train < 2 || num_train > 100000) {
    return config.Invalid("num_train_timesteps",
                          absl::StrCat("must be in [2, 100000], got ", num_train));
  }
  LDM_ASSIGN_OR_RETURN(const double beta_start, config.GetDouble("beta_start", 0.0001));
  LDM_ASSIGN_OR_RETURN(const double beta_end, config.GetDouble("beta_end", 0.02));
  LDM_ASSIGN_OR_RETURN(const std::string beta_schedule,
                       config.GetString("beta_schedule", "linear"));
  LDM_ASSIGN_OR_RETURN(const bool rescale, config.GetBool("rescale_betas_zero_snr", false));

  std::vector<double> trained;
  if (config.Has("trained_betas")) {
    LDM_ASSIGN_OR_RETURN(trained, config.GetDoubleList("trained_betas"));
    if (static_cast<int64_t>(trained.size()) != num_train) {
      return config.Invalid(
          "trained_betas",
          absl::StrCat("has ", trained.size(), " entries but num_train_timesteps is ", num_train));
    }
  } else if (beta_schedule != "linear" && beta_schedule != "scaled_linear" &&
             beta_schedule != "squaredcos_cap_v2") {
    return absl::UnimplementedError(absl::StrCat(
        config.source(), ": beta_schedule \"", beta_schedule,
        "\" is not implemented; ldm supports linear, scaled_linear, squaredcos_cap_v2 and "
        "trained_betas"));
  }
  if (trained.empty() && beta_schedule != "squaredcos_cap_v2" &&
      !(beta_start > 0 && beta_end > 0 && beta_start < 1 && beta_end < 1)) {
    return config.Invalid("beta_start", absl::StrCat("and beta_end must lie in (0, 1), got ",
                                                     beta_start, " and ", beta_end));
  }

  LDM_ASSIGN_OR_RETURN(const std::string prediction,
                       config.GetString("prediction_type", "epsilon"));
  if (prediction == "epsilon") {
    s->prediction_type_ = PredictionType::kEpsilon;
  } else if (prediction == "v_prediction") {
    s->prediction_type_ = PredictionType::kVPrediction;
  } else if (prediction == "sample") {
    s->prediction_type_ = PredictionType::kSample;
  } else {
    return config.Invalid(
        "prediction_type",
        absl::StrCat("must be epsilon, v_prediction or sample, got \"", prediction, "\""));
  }
  LDM_ASSIGN_OR_RETURN(const std::string spacing, config.GetString("timestep_spacing", "leading"));
  if (spacing == "leading") {
    s->timestep_spacing_ = TimestepSpacing::kLeading;
  } else if (spacing == "trailing") {
    s->timestep_spacing_ = TimestepSpacing::kTrailing;
  } else if (spacing == "linspace") {
    s->timestep_spacing_ = TimestepSpacing::kLinspace;
  } else {
    return config.Invalid(
        "timestep_spacing",
        absl::StrCat("must be leading, trailing or linspace, got \"", spacing, "\""));
  }
  LDM_ASSIGN_OR_RETURN(s->steps_offset_, config.GetInt("steps_offset", 0));
  if (s->steps_offset_ < 0 || s->steps_offset_ >= num_train) {
    return config.Invalid("steps_offset", absl::StrCat("must be in [0, num_train_timesteps), got ",
                                                       s->steps_offset_));
  }

  LDM_RETURN_IF_ERROR(TorchGuard("NoiseSchedule", [&]() -> absl::Status {
    torch::NoGradGuard no_grad;
    const auto f32 = torch::TensorOptions().dtype(torch::kFloat32);
    torch::Tensor betas;
    if (!trained.empty()) {
      betas = torch::tensor(trained, torch::kFloat64).to(torch::kFloat32);
    } else if (beta_schedule == "linear") {
      betas = torch::linspace(beta_start, beta_end, num_train, f32);
    } else if (beta_schedule == "scaled_linear") {
      betas = torch::linspace(std::sqrt(beta_start), std::sqrt(beta_end), num_train, f32).pow(2);
    } else {
      betas = torch::tensor(SquaredCosineBetas(static_cast<int>(num_train)), torch::kFloat64)
                  .to(torch::kFloat32);
    }
    if (rescale) betas = RescaleZeroTerminalSnr(betas);
    torch::Tensor alphas_cumprod = torch::cumprod(1.0 - betas, 0);
    if (rescale && options.floor_terminal_alpha_cumprod) {
      alphas_cumprod[-1] = std::ldexp(1.0, -24);
    }
    torch::Tensor sigmas = ((1 - alphas_cumprod) / alphas_cumprod).pow(0.5);
    s->betas_ = ToDoubles(betas);
    s->alphas_cumprod_ = ToDoubles(alphas_cumprod);
    s->train_sigmas_ = ToDoubles(sigmas);
    s->log_train_sigmas_ = ToDoubles(sigmas.log());
    return absl::OkStatus();
  }));
  for (double b : s->betas_) {
    if (!(b >= 0 && b <= 1)) {
      return config.Invalid(trained.empty() ? "beta_schedule" : "trained_betas",
                            absl::StrCat("gives a beta outside [0, 1]: ", b));
    }
  }
  return std::shared_ptr<const NoiseSchedule>(std::move(s));
}

double NoiseSchedule::RoundHalfEven(double x) { return std::nearbyint(x); }

std::vector<double> NoiseSchedule::NumpyLinspace(double start, double stop, int n) {
  std::vector<double> y(std::max(n, 0));
  if (n <= 0) return y;
  if (n == 1) {
    y[0] = start;
    return y;
  }
  const double div = n - 1;
  const double delta = stop - start;
  const double step = delta / div;
  for (int i = 0; i < n; ++i) {
    y[i] = (step == 0 ? (i / div) * delta : i * step) + start;
  }
  y[n - 1] = stop;
  return y;
}

std::vector<double> NoiseSchedule::NumpyArangeDown(double start, double stop, double step) {
  // numpy sizes the range by ceil((stop - start) / step) and fills it as start + i * delta with
  // delta = (start + step) - start, which can differ from step in the last bit.
  const double len_d = std::ceil((stop - start) / step);
  std::vector<double> y;
  if (!(len_d > 0)) return y;
  const int64_t len = static_cast<int64_t>(len_d);
  y.resize(len);
  y[0] = start;
  if (len > 1) y[1] = start + step;
  const double delta = len > 1 ? y[1] - y[0] : step;
  for (int64_t i = 2; i < len; ++i) y[i] = start + i * delta;
  return y;
}

std::vector<int64_t> NoiseSchedule::IntegerTimesteps(int n) const {
  const int64_t t_train = num_train_timesteps();
  std::vector<int64_t> out;
  switch (timestep_spacing_) {
    case TimestepSpacing::kLinspace: {
      for (double v : NumpyLinspace(0, static_cast<double>(t_train - 1), n)) {
        out.push_back(static_cast<int64_t>(RoundHalfEven(v)));
      }
      std::reverse(out.begin(), out.end());
      break;
    }
    case TimestepSpacing::kLeading: {
      const int64_t ratio = t_train / n;
      for (int i = n - 1; i >= 0; --i) out.push_back(i * ratio + steps_offset_);
      break;
    }
    case TimestepSpacing::kTrailing: {
      const double ratio = static_cast<double>(t_train) / n;
      for (double v : NumpyArangeDown(static_cast<double>(t_train), 0, -ratio)) {
        out.push_back(static_cast<int64_t>(RoundHalfEven(v)) - 1);
      }
      break;
    }
  }
  return out;
}

std::vector<double> NoiseSchedule::FractionalTimesteps(int n) const {
  const int64_t t_train = num_train_timesteps();
  std::vector<double> out;
  switch (timestep_spacing_) {
    case TimestepSpacing::kLinspace: {
      for (double v : NumpyLinspace(0, static_cast<double>(t_train - 1), n)) {
        out.push_back(static_cast<float>(v));
      }
      std::reverse(out.begin(), out.end());
      break;
    }
    case TimestepSpacing::kLeading: {
      const int64_t ratio = t_train / n;
      for (int i = n - 1; i >= 0; --i) {
        out.push_back(
            static_cast<float>(static_cast<float>(i * ratio) + static_cast<float>(steps_offset_)));
      }
      break;
    }
    case TimestepSpacing::kTrailing: {
      const double ratio = static_cast<double>(t_train) / n;
      for (double v : NumpyArangeDown(static_cast<double>(t_train), 0, -ratio)) {
        out.push_back(static_cast<float>(static_cast<float>(RoundHalfEven(v)) - 1.0f));
      }
      break;
    }
  }
  return out;
}

absl::Status NoiseSchedule::CheckTimestepsInRange(const std::vector<int64_t>& timesteps,
                                                  int n) const {
  for (int64_t t : timesteps) {
    if (t < 0 || t >= num_train_timesteps()) {
      return absl::InvalidArgumentError(absl::StrCat(
          source_, ": num_inference_steps ", n, " with timestep_spacing and steps_offset ",
          steps_offset_, " gives timestep ", t,
          " outside [0, num_train_timesteps=", num_train_timesteps(), ")"));
    }
  }
  return absl::OkStatus();
}

double NoiseSchedule::InterpolateSigma(double t) const {
  const auto& fp = train_sigmas_;
  const int64_t last = static_cast<int64_t>(fp.size()) - 1;
  if (t <= 0) return fp[0];
  if (t >= static_cast<double>(last)) return fp[last];
  const int64_t j = static_cast<int64_t>(std::floor(t));
  if (t == static_cast<double>(j)) return fp[j];
  return (fp[j + 1] - fp[j]) * (t - static_cast<double>(j)) + fp[j];
}

double NoiseSchedule::SigmaToTimestep(double sigma) const {
  const double log_sigma = std::log(std::max(sigma, 1e-10));
  const auto& ls = log_train_sigmas_;
  const int64_t n = static_cast<int64_t>(ls.size());
  // The last index whose log-sigma does not exceed log_sigma (0 when there is none).
  int64_t low = 0;
  for (int64_t i = 0; i < n; ++i) {
    if (log_sigma - ls[i] >= 0) low = i;
  }
  low = std::min(low, n - 2);
  const int64_t high = low + 1;
  double w = (ls[low] - log_sigma) / (ls[low] - ls[high]);
  w = std::clamp(w, 0.0, 1.0);
  return (1 - w) * static_cast<double>(low) + w * static_cast<double>(high);
}

std::vector<double> NoiseSchedule::KarrasSigmas(double sigma_min, double sigma_max, int n) {
  constexpr double kRho = 7.0;
  const double min_inv_rho = std::pow(sigma_min, 1 / kRho);
  const double max_inv_rho = std::pow(sigma_max, 1 / kRho);
  std::vector<double> out;
  for (double r : NumpyLinspace(0, 1, n)) {
    out.push_back(std::pow(max_inv_rho + r * (min_inv_rho - max_inv_rho), kRho));
  }
  return out;
}

}  // namespace ldm
