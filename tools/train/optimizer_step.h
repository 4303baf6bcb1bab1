// OptimizerStep: the update around every trainer's forward pass (autoencoder, diffusion,
// classifier, super-resolution, text-pretrain), in one place so the trainers cannot drift apart:
//   Begin   sets the learning rate of each parameter group (group 0: lr; every later group: lr *
//           other_groups_scale) and clears the gradients;
//   Finish  backpropagates the loss, clips the global L2 norm of the parameters' gradients to
//           grad_clip and steps the optimizer.
// The optimizer's groups must hold AdamWOptions (c10::Error otherwise). Not thread-safe: it
// mutates the optimizer and the parameters.
#pragma once

#include <torch/nn/module.h>
#include <torch/optim/adamw.h>
#include <torch/types.h>

namespace ldm::train {

class OptimizerStep {
 public:
  static void Begin(torch::optim::Optimizer& optimizer, double lr, double other_groups_scale = 1.0);
  static void Finish(torch::optim::Optimizer& optimizer, const torch::Tensor& loss,
                     const std::vector<torch::Tensor>& parameters, double grad_clip);
};

}  // namespace ldm::train
