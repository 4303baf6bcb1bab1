#include "tools/train/latent_rgb_fitter.h"

#include <torch/torch.h>

#include <cmath>

namespace ldm::train {

LatentRgbFit LatentRgbFitter::Fit(AutoencoderKL& vae, double scaling_factor,
                                  const torch::Tensor& images) {
  torch::NoGradGuard no_grad;
  const torch::Device device = vae->parameters().front().device();
  const int64_t f = vae->config().DownsampleFactor();
  const int64_t c = vae->config().latent_channels;
  torch::Tensor x = images.to(device, torch::kFloat32);
  torch::Tensor z = vae->Encode(x).mean * scaling_factor;
  torch::Tensor rgb = torch::avg_pool2d(x, {f, f});
  torch::Tensor a = z.permute({0, 2, 3, 1}).reshape({-1, c}).to(torch::kCPU, torch::kFloat64);
  torch::Tensor b = rgb.permute({0, 2, 3, 1}).reshape({-1, 3}).to(torch::kCPU, torch::kFloat64);
  a = torch::cat({a, torch::ones({a.size(0), 1}, a.options())}, 1);
  torch::Tensor ata = a.t().matmul(a) + 1e-6 * torch::eye(c + 1, a.options());
  torch::Tensor w = torch::linalg_solve(ata, a.t().matmul(b));  // [c + 1, 3]
  LatentRgbFit fit;
  auto acc = w.accessor<double, 2>();
  for (int64_t i = 0; i < c; ++i) fit.factors.push_back({acc[i][0], acc[i][1], acc[i][2]});
  fit.bias = {acc[c][0], acc[c][1], acc[c][2]};
  fit.rmse = std::sqrt((a.matmul(w) - b).square().mean().item<double>());
  return fit;
}

}  // namespace ldm::train
