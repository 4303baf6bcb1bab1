#include "tools/train/optimizer_step.h"

#include <torch/nn/utils/clip_grad.h>

namespace ldm::train {

void OptimizerStep::Begin(torch::optim::Optimizer& optimizer, double lr,
                          double other_groups_scale) {
  auto& groups = optimizer.param_groups();
  for (size_t g = 0; g < groups.size(); ++g) {
    auto* options = dynamic_cast<torch::optim::AdamWOptions*>(&groups[g].options());
    TORCH_CHECK(options != nullptr, "OptimizerStep: parameter group ", g,
                " does not hold AdamWOptions");
    options->lr(g == 0 ? lr : lr * other_groups_scale);
  }
  optimizer.zero_grad();
}

void OptimizerStep::Finish(torch::optim::Optimizer& optimizer, const torch::Tensor& loss,
                           const std::vector<torch::Tensor>& parameters, double grad_clip) {
  loss.backward();
  torch::nn::utils::clip_grad_norm_(parameters, grad_clip);
  optimizer.step();
}

}  // namespace ldm::train
