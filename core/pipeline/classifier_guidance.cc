#include "core/pipeline/classifier_guidance.h"

#include <torch/torch.h>

#include <algorithm>
#include <cmath>

#include "absl/strings/str_cat.h"
#include "core/common/torch_guard.h"

namespace ldm {

absl::StatusOr<torch::Tensor> ClassifierLogProbGradient(NoisyLatentClassifier& classifier,
                                                        const torch::Tensor& z,
                                                        const torch::Tensor& timesteps,
                                                        const torch::Tensor& labels) {
  if (!z.defined() || z.dim() != 4 || z.size(0) == 0) {
    return absl::InvalidArgumentError("classifier guidance: rows must be a non-empty [N, C, h, w]");
  }
  const int64_t n = z.size(0);
  if (!timesteps.defined() || timesteps.numel() != n || !labels.defined() || labels.numel() != n ||
      labels.is_floating_point()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "classifier guidance: timesteps and integer labels need one entry per row (", n, ")"));
  }
  return TorchGuard("classifier guidance", [&]() -> absl::StatusOr<torch::Tensor> {
    // Leave inference mode and turn grad mode on for this scope only (the worker thread runs
    // under c10::InferenceMode and may have grad mode off).
    c10::InferenceMode no_inference(false);
    torch::AutoGradMode grad_mode(true);
    const torch::Tensor w = classifier->parameters().front();
    const torch::Device device = w.device();
    // clone(): inference tensors (the latents) cannot be saved for backward; the clone is a
    // normal tensor and the leaf we differentiate with respect to.
    torch::Tensor x = z.to(device, torch::kFloat32).clone().detach().requires_grad_(true);
    torch::Tensor t = timesteps.to(device, torch::kFloat32).clone().reshape({n});
    torch::Tensor y = labels.to(device, torch::kLong).clone().reshape({n, 1});
    const int64_t classes = classifier->config().num_classes;
    const int64_t lo = y.min().item<int64_t>(), hi = y.max().item<int64_t>();
    if (lo < 0 || hi >= classes) {
      return absl::InvalidArgumentError(absl::StrCat("classifier guidance: labels must be in [0, ",
                                                     classes - 1, "], got ", lo, "..", hi));
    }
    torch::Tensor logits = classifier->forward(x.to(w.scalar_type()), t);
    torch::Tensor log_p = torch::log_softmax(logits.to(torch::kFloat32), 1).gather(1, y).sum();
    std::vector<torch::Tensor> grads = torch::autograd::grad({log_p}, {x});
    return grads[0].detach();
  });
}

torch::Tensor ApplyClassifierGuidance(const torch::Tensor& model_output, const torch::Tensor& grad,
                                      double scale, double alpha_cumprod,
                                      NoiseSchedule::PredictionType prediction) {
  TORCH_CHECK(model_output.sizes() == grad.sizes(), "classifier guidance: gradient ", grad.sizes(),
              " does not match the model output ", model_output.sizes());
  if (alpha_cumprod < kMinGuidedAlphaCumprod) return model_output;
  const double ab = std::min(alpha_cumprod, 1.0);
  // The shift of eps: -s * sqrt(1 - ab) * grad.
  double coeff = -scale * std::sqrt(1.0 - ab);
  switch (prediction) {
    case NoiseSchedule::PredictionType::kEpsilon:
      break;
    case NoiseSchedule::PredictionType::kVPrediction:
      coeff /= std::sqrt(ab);  // v = sqrt(ab) eps - sqrt(1 - ab) x0 at fixed z_t
      break;
    case NoiseSchedule::PredictionType::kSample:
      coeff *= -std::sqrt(1.0 - ab) / std::sqrt(ab);  // x0 = (z_t - sqrt(1 - ab) eps) / sqrt(ab)
      break;
  }
  torch::Tensor shifted =
      model_output.to(torch::kFloat32) + coeff * grad.to(model_output.device(), torch::kFloat32);
  return shifted.to(model_output.scalar_type());
}

double CurrentAlphaCumprod(const Sampler& sampler) {
  const std::vector<double>& sigmas = sampler.Sigmas();
  if (!sigmas.empty()) {
    const size_t i = std::min<size_t>(static_cast<size_t>(sampler.calls_done()), sigmas.size() - 1);
    return 1.0 / (sigmas[i] * sigmas[i] + 1.0);
  }
  const int64_t t = std::clamp<int64_t>(std::llround(sampler.current_timestep()), 0,
                                        sampler.schedule().num_train_timesteps() - 1);
  return sampler.schedule().alpha_cumprod(t);
}

}  // namespace ldm
