// A minimal sampling loop for tests and library users: the model is a function of the scaled
// model input and the timestep.
//
// Thread safety: runs on the calling thread; `sampler` and `generator` must not be used
// concurrently elsewhere.
// Errors: the first error of `denoise` or of Sampler::Step is returned as is; libtorch exceptions
// become INTERNAL / RESOURCE_EXHAUSTED via TorchGuard.
#pragma once

#include <torch/types.h>

#include <functional>

#include "absl/status/statusor.h"
#include "core/sampling/sampler.h"

namespace ldm {

// Returns the model prediction (epsilon, v or x0, as the schedule's prediction_type says) for
// `model_input` at `timestep`, with the same shape.
using DenoiseFn =
    std::function<absl::StatusOr<torch::Tensor>(const torch::Tensor& model_input, double timestep)>;

// Runs `sampler` from its current call to the end. `x_init` is the starting sample, already
// multiplied by init_noise_sigma(). Returns the final sample.
absl::StatusOr<torch::Tensor> RunSampler(Sampler& sampler, const DenoiseFn& denoise,
                                         torch::Tensor x_init, torch::Generator& generator);

}  // namespace ldm
