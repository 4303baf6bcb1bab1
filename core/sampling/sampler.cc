#include "core/sampling/sampler.h"

#include <torch/torch.h>

#include "absl/strings/str_cat.h"
#include "core/common/torch_guard.h"

namespace ldm {
namespace {

std::string ShapeString(const torch::Tensor& t) {
  std::string out = "[";
  for (int64_t i = 0; i < t.dim(); ++i) absl::StrAppend(&out, i ? ", " : "", t.size(i));
  return out + "]";
}

}  // namespace

double Sampler::current_timestep() const {
  if (timesteps_.empty()) return 0;
  return timesteps_[std::min<size_t>(calls_done_, timesteps_.size() - 1)];
}

torch::Tensor Sampler::DrawNoise(const torch::Tensor& like, torch::Generator& generator) {
  // Drawing in float32 on the generator's own device keeps the stream identical to diffusers'
  // randn_tensor whatever device or dtype the latents use.
  torch::Tensor noise =
      torch::randn(like.sizes(), generator,
                   torch::TensorOptions().dtype(torch::kFloat32).device(generator.device()));
  return noise.to(like.device(), like.scalar_type());
}

absl::Status Sampler::CheckNumSteps(const NoiseSchedule& schedule, int n) {
  if (n < 1 || n > schedule.num_train_timesteps()) {
    return absl::InvalidArgumentError(
        absl::StrCat("num_inference_steps must be in [1, ", schedule.num_train_timesteps(),
                     "] (num_train_timesteps of ", schedule.source(), "), got ", n));
  }
  return absl::OkStatus();
}

absl::Status Sampler::RequireFalse(const ModelConfig& config, const std::string& key,
                                   SamplerKind kind) {
  auto value = config.GetBool(key, false);
  if (!value.ok()) return value.status();
  if (*value) {
    return absl::UnimplementedError(absl::StrCat(config.source(), ": ", key,
                                                 "=true is not implemented by ldm's ",
                                                 SamplerKindName(kind), " sampler"));
  }
  return absl::OkStatus();
}

absl::Status Sampler::RequirePrediction(
    const NoiseSchedule& schedule, SamplerKind kind,
    std::initializer_list<NoiseSchedule::PredictionType> allowed) {
  std::string names;
  for (NoiseSchedule::PredictionType type : allowed) {
    if (type == schedule.prediction_type()) return absl::OkStatus();
    absl::StrAppend(&names, names.empty() ? "" : ", ", PredictionTypeName(type));
  }
  return absl::UnimplementedError(absl::StrCat(
      schedule.source(), ": prediction_type \"", PredictionTypeName(schedule.prediction_type()),
      "\" is not supported by the ", SamplerKindName(kind), " sampler (supported: ", names, ")"));
}

absl::StatusOr<torch::Tensor> Sampler::Step(const torch::Tensor& model_output,
                                            const torch::Tensor& sample,
                                            torch::Generator& generator) {
  const absl::string_view name = SamplerKindName(kind_);
  if (done()) {
    return absl::FailedPreconditionError(absl::StrCat(name, " sampler: Step() called after all ",
                                                      num_model_calls(), " model calls"));
  }
  if (!model_output.defined() || !sample.defined()) {
    return absl::InvalidArgumentError(
        absl::StrCat(name, " sampler: undefined tensor passed to Step()"));
  }
  if (model_output.sizes() != sample.sizes()) {
    return absl::InvalidArgumentError(
        absl::StrCat(name, " sampler: model_output shape ", ShapeString(model_output),
                     " does not match sample shape ", ShapeString(sample)));
  }
  if (!sample.is_floating_point() || !model_output.is_floating_point()) {
    return absl::InvalidArgumentError(
        absl::StrCat(name, " sampler: sample and model_output must be floating point"));
  }
  auto result = TorchGuard(absl::StrCat(name, " sampler step"), [&]() -> torch::Tensor {
    torch::NoGradGuard no_grad;
    // Reduced-precision latents are integrated in float32 (as diffusers' Euler and DPM-Solver
    // do); float32 and float64 stay as they are.
    const torch::ScalarType compute =
        sample.scalar_type() == torch::kFloat64 ? torch::kFloat64 : torch::kFloat32;
    torch::Tensor x = sample.to(compute);
    torch::Tensor out = model_output.to(x.device(), compute);
    return StepImpl(calls_done_, out, x, generator).to(sample.scalar_type());
  });
  if (!result.ok()) return result.status();
  ++calls_done_;
  return result;
}

}  // namespace ldm
