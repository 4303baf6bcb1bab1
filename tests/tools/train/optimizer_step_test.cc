#include "tools/train/optimizer_step.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

#include <memory>
#include <vector>

namespace ldm::train {
namespace {

double GroupLr(torch::optim::Optimizer& o, size_t g) {
  return static_cast<torch::optim::AdamWOptions&>(o.param_groups()[g].options()).lr();
}

TEST(OptimizerStepTest, BeginSetsGroupZeroToLrAndScalesTheOthersAndClearsGradients) {
  torch::Tensor a = torch::ones({3}, torch::requires_grad());
  torch::Tensor b = torch::ones({2}, torch::requires_grad());
  std::vector<torch::optim::OptimizerParamGroup> groups;
  groups.emplace_back(std::vector<torch::Tensor>{a},
                      std::make_unique<torch::optim::AdamWOptions>(1.0));
  groups.emplace_back(std::vector<torch::Tensor>{b},
                      std::make_unique<torch::optim::AdamWOptions>(1.0));
  torch::optim::AdamW opt(std::move(groups));
  (a.sum() + b.sum()).backward();
  OptimizerStep::Begin(opt, 0.01, 0.5);
  EXPECT_DOUBLE_EQ(GroupLr(opt, 0), 0.01);
  EXPECT_DOUBLE_EQ(GroupLr(opt, 1), 0.005);
  for (const torch::Tensor& p : {a, b}) {
    EXPECT_TRUE(!p.grad().defined() || p.grad().abs().sum().item<double>() == 0.0);
  }
  OptimizerStep::Begin(opt, 0.02);  // default scale: every group at lr
  EXPECT_DOUBLE_EQ(GroupLr(opt, 1), 0.02);
}

TEST(OptimizerStepTest, FinishClipsTheGradientNormAndSteps) {
  torch::Tensor w = torch::zeros({4}, torch::requires_grad());
  torch::optim::AdamW opt({w}, torch::optim::AdamWOptions(0.1).weight_decay(0));
  OptimizerStep::Begin(opt, 0.1);
  torch::Tensor loss = (w * torch::tensor({300.0f, 400.0f, 0.0f, 0.0f})).sum();  // |grad| = 500
  OptimizerStep::Finish(opt, loss, {w}, 1.0);
  EXPECT_NEAR(w.grad().norm().item<double>(), 1.0, 1e-5);
  // Adam's first step moves each parameter with a gradient by lr against its sign.
  EXPECT_NEAR(w[0].item<double>(), -0.1, 1e-4);
  EXPECT_NEAR(w[1].item<double>(), -0.1, 1e-4);
  EXPECT_EQ(w[2].item<double>(), 0.0);
}

TEST(OptimizerStepTest, RejectsOptimizersWithoutAdamWOptions) {
  torch::Tensor w = torch::zeros({2}, torch::requires_grad());
  torch::optim::SGD sgd({w}, torch::optim::SGDOptions(0.1));
  EXPECT_THROW(OptimizerStep::Begin(sgd, 0.1), c10::Error);
}

}  // namespace
}  // namespace ldm::train
