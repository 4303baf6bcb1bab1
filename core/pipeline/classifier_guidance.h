// Classifier guidance (Dhariwal & Nichol 2021, "Diffusion Models Beat GANs on Image Synthesis",
// Sec. 4.2 and Algorithm 2 / eq. 14): the noise prediction is shifted along the gradient of a
// noise-aware classifier's log-likelihood,
//
//   eps_hat(z_t) = eps(z_t) - s * sqrt(1 - ab_t) * grad_{z_t} log p_phi(y | z_t, t)
//
// which samples from p(z_t) p(y | z_t)^s. With classifier-free guidance the eps it shifts is the
// CFG combination. z_t is the variance-preserving model input (for the Euler family that is the
// scaled input x / sqrt(sigma^2 + 1)) and ab_t its alpha_bar (1 / (sigma^2 + 1) in sigma space),
// so the same formula serves every sampler. For v- and x0-predicting models the shift is converted
// to the model's parameterisation (at fixed z_t: v shifts by d_eps / sqrt(ab_t), x0 by
// -sqrt(1 - ab_t) / sqrt(ab_t) * d_eps).
//
// Autograd: the pipeline runs under c10::InferenceMode on its worker thread, where no gradient
// can be taken and inference tensors cannot be saved for backward. ClassifierLogProbGradient
// therefore leaves inference mode in its own scope, enables grad mode and clones its inputs into
// normal tensors; the classifier's parameters must be normal tensors too (loaded outside
// inference mode; see Pipeline::Load) and need not require grad.
// Thread safety: the functions are reentrant; concurrent calls may share one classifier.
#pragma once

#include <torch/types.h>

#include "absl/status/statusor.h"
#include "core/nn/noisy_latent_classifier.h"
#include "core/sampling/noise_schedule.h"
#include "core/sampling/sampler.h"

namespace ldm {

// grad_z sum_i log softmax(classifier(z, t))[i, labels[i]] for rows z [N, C, h, w], timesteps
// [N] and integer labels [N] (each in [0, num_classes)). Rows are independent (the classifier
// has no cross-row operations), so row i's gradient is that of its own log-likelihood. Returns
// float32 [N, C, h, w] on the classifier's device. Errors: INVALID_ARGUMENT for mismatched shapes
// or labels out of range, INTERNAL for libtorch failures; never throws.
absl::StatusOr<torch::Tensor> ClassifierLogProbGradient(NoisyLatentClassifier& classifier,
                                                        const torch::Tensor& z,
                                                        const torch::Tensor& timesteps,
                                                        const torch::Tensor& labels);

// The model output after classifier guidance of strength `scale` for one job's rows: the shift
// -scale * sqrt(1 - alpha_cumprod) * grad on eps, expressed in `prediction`'s parameterisation.
// Below kMinGuidedAlphaCumprod the output is returned unchanged (see there).
// Returns a tensor of model_output's shape, dtype and device. Throws c10::Error on shape mismatch.
// No classifier guidance at noise levels with alpha_bar below this (SNR < 0.001): at zero
// terminal SNR (rescale_betas_zero_snr) z_T carries no information about the class, so the true
// gradient of log p(y | z_T) is 0, while for v- and x0-prediction the eps shift must be divided
// by sqrt(alpha_bar) (x0 moves by (1 - ab) / sqrt(ab) * s * grad): a trained classifier's small
// spurious gradient at pure noise, amplified over 30x (infinitely at ab = 0), wrecked every sample
// of the session-5 toy-shapes model. SD's own schedule never goes below 0.0047.
inline constexpr double kMinGuidedAlphaCumprod = 1e-3;

torch::Tensor ApplyClassifierGuidance(const torch::Tensor& model_output, const torch::Tensor& grad,
                                      double scale, double alpha_cumprod,
                                      NoiseSchedule::PredictionType prediction);

// alpha_bar of the sampler's next model call: 1 / (sigma^2 + 1) for samplers with a sigma table
// (Euler family, DPM-Solver++), else alphas_cumprod at the integer timestep.
double CurrentAlphaCumprod(const Sampler& sampler);

}  // namespace ldm
