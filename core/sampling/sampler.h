// One job's sampler: the reverse-process integrator for a fixed number of steps.
//
// A Sampler owns all per-job state (step counter, solver history, the last x_0 estimate) and sees
// the model only through its inputs and outputs, so that a server can put jobs with different
// samplers and step counts into one UNet batch: for each job, call ScaleModelInput() on its
// latents, run the model at current_timestep(), then Step() with that job's slice of the output.
//
//   x = randn(shape, generator) * init_noise_sigma();
//   while (!sampler.done()) {
//     eps = model(sampler.ScaleModelInput(x), sampler.current_timestep());
//     x = sampler.Step(eps, x, generator).value();
//   }
//
// Random draws come only from the generator passed to Step(), exactly as diffusers 0.27 draws
// them: torch::randn(model_output.sizes(), generator, float32 on the generator's device), then
// moved to the sample's device and dtype. Which steps draw is documented per sampler.
//
// Devices and dtypes: tensors may live on any device, in any floating dtype; scalar schedule
// math is done in double on the host. Half-precision samples are updated in float32 and the
// result is returned in the sample's dtype.
//
// Thread safety: a Sampler is not thread-safe; one job (one thread at a time) owns it. Distinct
// Sampler objects share nothing mutable.
// Errors: Step() returns FAILED_PRECONDITION after the last call, INVALID_ARGUMENT for mismatched
// shapes, and INTERNAL / RESOURCE_EXHAUSTED for libtorch failures (via TorchGuard). A failed
// Step() does not advance the sampler.
#pragma once

#include <torch/types.h>

#include <initializer_list>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "core/sampling/noise_schedule.h"
#include "core/sampling/sampler_kind.h"

namespace ldm {

class Sampler {
 public:
  virtual ~Sampler() = default;
  Sampler(const Sampler&) = delete;
  Sampler& operator=(const Sampler&) = delete;

  SamplerKind kind() const { return kind_; }
  // The number of inference steps the sampler was built for.
  int num_inference_steps() const { return num_inference_steps_; }
  // Model calls needed to finish; may exceed num_inference_steps() (PNDM repeats one timestep).
  int num_model_calls() const { return static_cast<int>(timesteps_.size()); }
  int calls_done() const { return calls_done_; }
  bool done() const { return calls_done_ >= num_model_calls(); }

  // The model timestep for the next call (fractional for the Euler family). After the last call
  // it stays at the final timestep.
  double current_timestep() const;
  // One timestep per model call, in call order.
  const std::vector<double>& Timesteps() const { return timesteps_; }
  // The sigma schedule (num_inference_steps + 1 values, the last usually 0) for sigma-based
  // samplers; empty for DDPM, DDIM and PNDM.
  const std::vector<double>& Sigmas() const { return sigmas_; }
  // Initial latents are randn * init_noise_sigma().
  double init_noise_sigma() const { return init_noise_sigma_; }
  const NoiseSchedule& schedule() const { return *schedule_; }

  // The model input for the next call: `sample` itself, or sample / sqrt(sigma^2 + 1) for the
  // Euler family. Returns `sample` unchanged once done(). `sample` must be a defined tensor.
  virtual torch::Tensor ScaleModelInput(const torch::Tensor& sample) const { return sample; }

  // Advances one model call: `model_output` is the (guided) model prediction for `sample` at
  // current_timestep(). Returns the sample for the next call.
  absl::StatusOr<torch::Tensor> Step(const torch::Tensor& model_output, const torch::Tensor& sample,
                                     torch::Generator& generator);

  // The x_0 estimate of the last Step(), when the method forms one (all samplers except PNDM;
  // for DPM-Solver++ it is the data prediction the update uses). Empty before the first step.
  const std::optional<torch::Tensor>& pred_original_sample() const { return pred_original_; }

 protected:
  Sampler(SamplerKind kind, std::shared_ptr<const NoiseSchedule> schedule, int num_inference_steps)
      : kind_(kind), schedule_(std::move(schedule)), num_inference_steps_(num_inference_steps) {}

  // Computes the next sample for call index `call` (= calls_done()). `sample` and
  // `model_output` are already in the compute dtype (float32 or float64). Called inside
  // TorchGuard; may throw. Must set pred_original_ when the method has one.
  virtual torch::Tensor StepImpl(int call, const torch::Tensor& model_output,
                                 const torch::Tensor& sample, torch::Generator& generator) = 0;

  // The diffusers draw: randn(model_output shape) in float32 on the generator's device, moved to
  // `like`'s device and dtype.
  static torch::Tensor DrawNoise(const torch::Tensor& like, torch::Generator& generator);

  // Helpers for the samplers' Create() functions.
  // INVALID_ARGUMENT unless 1 <= n <= num_train_timesteps.
  static absl::Status CheckNumSteps(const NoiseSchedule& schedule, int n);
  // UNIMPLEMENTED naming `key` when the config sets it to true.
  static absl::Status RequireFalse(const ModelConfig& config, const std::string& key,
                                   SamplerKind kind);
  // UNIMPLEMENTED naming prediction_type unless it is one of `allowed`.
  static absl::Status RequirePrediction(
      const NoiseSchedule& schedule, SamplerKind kind,
      std::initializer_list<NoiseSchedule::PredictionType> allowed);

  std::vector<double> timesteps_;
  std::vector<double> sigmas_;
  double init_noise_sigma_ = 1.0;
  std::optional<torch::Tensor> pred_original_;

 private:
  SamplerKind kind_;
  std::shared_ptr<const NoiseSchedule> schedule_;
  int num_inference_steps_;
  int calls_done_ = 0;
};

}  // namespace ldm
