#include "tools/train/position_probe.h"

#include <torch/torch.h>

namespace ldm::train {

PositionProbeImpl::PositionProbeImpl(std::vector<std::pair<std::string, int64_t>> features)
    : features_(std::move(features)) {
  TORCH_CHECK(!features_.empty(), "PositionProbe: no features to probe");
  heads_ = register_module("heads", torch::nn::ModuleList());
  for (const auto& [name, channels] : features_) {
    TORCH_CHECK(channels > 0, "PositionProbe: ", name, " has ", channels, " channels");
    heads_->push_back(torch::nn::Conv2d(torch::nn::Conv2dOptions(channels, 2, 1)));
  }
}

std::vector<std::pair<std::string, int64_t>> PositionProbeImpl::DefaultFeatures(
    const UNet2DConditionConfig& unet) {
  const std::vector<int64_t>& ch = unet.block_out_channels;
  const size_t n = ch.size();
  std::vector<std::pair<std::string, int64_t>> out;
  for (size_t i = 0; i + 1 < n; ++i) out.emplace_back("down_blocks." + std::to_string(i), ch[i]);
  out.emplace_back("mid_block", ch[n - 1]);
  for (size_t i = 0; i + 1 < n; ++i)
    out.emplace_back("up_blocks." + std::to_string(i), ch[n - 1 - i]);
  return out;
}

torch::Tensor PositionProbeImpl::Coordinates(int64_t height, int64_t width,
                                             const torch::TensorOptions& o) {
  // Cell centres: (i + 0.5) / n * 2 - 1, so the target is symmetric and has zero mean.
  torch::Tensor y = (torch::arange(height, o) + 0.5) / static_cast<double>(height) * 2.0 - 1.0;
  torch::Tensor x = (torch::arange(width, o) + 0.5) / static_cast<double>(width) * 2.0 - 1.0;
  return torch::stack({y.view({height, 1}).expand({height, width}),
                       x.view({1, width}).expand({height, width})})
      .unsqueeze(0);
}

torch::Tensor PositionProbeImpl::Loss(const std::map<std::string, torch::Tensor>& intermediates) {
  torch::Tensor total;
  for (size_t i = 0; i < features_.size(); ++i) {
    const auto& [name, channels] = features_[i];
    auto it = intermediates.find(name);
    TORCH_CHECK(it != intermediates.end(), "PositionProbe: the UNet has no intermediate '", name,
                "'");
    // Features from a mixed-precision forward are bfloat16; the heads and the loss run in the
    // heads' dtype.
    auto* head = heads_[i]->as<torch::nn::Conv2d>();
    const torch::Tensor h = it->second.to(head->weight.scalar_type());
    TORCH_CHECK(h.dim() == 4 && h.size(1) == channels, "PositionProbe: ", name, " is ", h.sizes(),
                ", expected [B, ", channels, ", H, W]");
    torch::Tensor pred = head->forward(h);
    torch::Tensor target = Coordinates(h.size(2), h.size(3), h.options()).expand_as(pred);
    torch::Tensor loss = torch::mse_loss(pred, target);
    total = total.defined() ? total + loss : loss;
  }
  return total / static_cast<double>(features_.size());
}

}  // namespace ldm::train
