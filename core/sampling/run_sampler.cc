#include "core/sampling/run_sampler.h"

#include <torch/torch.h>

#include "core/common/status_macros.h"
#include "core/common/torch_guard.h"

namespace ldm {

absl::StatusOr<torch::Tensor> RunSampler(Sampler& sampler, const DenoiseFn& denoise,
                                         torch::Tensor x_init, torch::Generator& generator) {
  torch::Tensor x = std::move(x_init);
  while (!sampler.done()) {
    LDM_ASSIGN_OR_RETURN(
        torch::Tensor model_input,
        TorchGuard("RunSampler: scale model input", [&] { return sampler.ScaleModelInput(x); }));
    LDM_ASSIGN_OR_RETURN(torch::Tensor model_output,
                         denoise(model_input, sampler.current_timestep()));
    LDM_ASSIGN_OR_RETURN(x, sampler.Step(model_output, x, generator));
  }
  return x;
}

}  // namespace ldm
