// The discrete forward-process schedule shared by all samplers: betas, cumulative alphas, the
// Karras-style sigma table, and the timestep spacings of diffusers' schedulers.
//
// Theory (DDPM, Ho et al. 2020, eq. 4): q(x_t | x_0) = N(sqrt(ab_t) x_0, (1 - ab_t) I) with
// ab_t = prod_{i<=t} (1 - beta_i). The equivalent variance-exploding view (Karras et al. 2022)
// uses sigma_t = sqrt((1 - ab_t) / ab_t) and x = x_0 + sigma * eps.
//
// Numerics follow diffusers 0.27 exactly where it matters for bit-level agreement: betas and
// alphas_cumprod are built as float32 tensors (torch.linspace / torch.cumprod) and the sigma table
// is rounded to float32; everything derived from them is computed in double on the host.
//
// Thread safety: immutable after construction; share freely (samplers hold a shared_ptr).
// Errors: Create() returns INVALID_ARGUMENT naming the config field for bad values and
// UNIMPLEMENTED for values ldm does not implement (e.g. beta_schedule "sigmoid").
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "core/io/model_config.h"

namespace ldm {

class NoiseSchedule {
 public:
  // What the denoising model predicts.
  enum class PredictionType { kEpsilon, kVPrediction, kSample };
  // How inference timesteps are placed on [0, num_train_timesteps) (Lin et al. 2023, Table 2).
  enum class TimestepSpacing { kLeading, kTrailing, kLinspace };

  struct CreateOptions {
    // Euler-family and DPM-Solver schedulers replace alphas_cumprod[-1] by 2^-24 after
    // rescale_betas_zero_snr so that sigma_max stays finite; DDPM/DDIM keep the exact zero.
    bool floor_terminal_alpha_cumprod = false;
  };

  // Reads num_train_timesteps, beta_start, beta_end, beta_schedule (linear, scaled_linear,
  // squaredcos_cap_v2), trained_betas, rescale_betas_zero_snr, prediction_type, timestep_spacing
  // and steps_offset from an already resolved scheduler config (absent keys: diffusers' common
  // defaults 1000, 1e-4, 0.02, "linear", null, false, "epsilon", "leading", 0).
  static absl::StatusOr<std::shared_ptr<const NoiseSchedule>> Create(const ModelConfig& config,
                                                                     CreateOptions options);
  static absl::StatusOr<std::shared_ptr<const NoiseSchedule>> Create(const ModelConfig& config) {
    return Create(config, CreateOptions());
  }

  int num_train_timesteps() const { return static_cast<int>(alphas_cumprod_.size()); }
  const std::vector<double>& betas() const { return betas_; }
  // ab_t for t = 0 .. num_train_timesteps-1 (float32 values, widened).
  const std::vector<double>& alphas_cumprod() const { return alphas_cumprod_; }
  double alpha_cumprod(int64_t t) const { return alphas_cumprod_[static_cast<size_t>(t)]; }
  // sigma_t = sqrt((1 - ab_t) / ab_t) computed in float32 as diffusers does, ascending in t.
  const std::vector<double>& train_sigmas() const { return train_sigmas_; }

  PredictionType prediction_type() const { return prediction_type_; }
  TimestepSpacing timestep_spacing() const { return timestep_spacing_; }
  int64_t steps_offset() const { return steps_offset_; }
  const std::string& source() const { return source_; }

  // Descending integer timesteps of DDPM/DDIM for `n` steps (1 <= n <= num_train_timesteps,
  // checked by the caller): linspace = round(linspace(0, T-1, n)), leading = arange(n) * (T / n) +
  // steps_offset, trailing = round(arange(T, 0, -T/n)) - 1.
  std::vector<int64_t> IntegerTimesteps(int n) const;
  // Descending float32 timesteps of the Euler family (same spacings, linspace not rounded).
  std::vector<double> FractionalTimesteps(int n) const;
  // INVALID_ARGUMENT naming steps_offset / timestep_spacing when a timestep would index outside
  // alphas_cumprod (e.g. leading spacing with steps_offset 1 and n = num_train_timesteps).
  absl::Status CheckTimestepsInRange(const std::vector<int64_t>& timesteps, int n) const;

  // np.interp of train_sigmas() at a fractional timestep (clamped at both ends).
  double InterpolateSigma(double t) const;
  // The fractional timestep whose log-sigma interpolates `sigma` (diffusers' _sigma_to_t).
  double SigmaToTimestep(double sigma) const;
  // Karras et al. 2022 eq. 5 with rho = 7: n sigmas from sigma_max down to sigma_min.
  static std::vector<double> KarrasSigmas(double sigma_min, double sigma_max, int n);

  // numpy's round-half-to-even.
  static double RoundHalfEven(double x);
  // numpy.arange(start, stop, step) for a negative float step, value for value.
  static std::vector<double> NumpyArangeDown(double start, double stop, double step);
  // numpy.linspace(start, stop, n) (endpoint included), value for value.
  static std::vector<double> NumpyLinspace(double start, double stop, int n);

 private:
  NoiseSchedule() = default;

  std::vector<double> betas_;
  std::vector<double> alphas_cumprod_;
  std::vector<double> train_sigmas_;
  std::vector<double> log_train_sigmas_;
  PredictionType prediction_type_ = PredictionType::kEpsilon;
  TimestepSpacing timestep_spacing_ = TimestepSpacing::kLeading;
  int64_t steps_offset_ = 0;
  std::string source_;
};

// "epsilon", "v_prediction", "sample".
absl::string_view PredictionTypeName(NoiseSchedule::PredictionType type);

}  // namespace ldm
