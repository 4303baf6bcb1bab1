// LatentRgbFitter: the linear map from scaled latents to a low-resolution RGB preview, stored in
// ldm_model.json as latent_rgb_factors / latent_rgb_bias (the pipeline's fast previews).
//
// Least squares over every latent cell of the given images: minimise
// || [z, 1] W - avgpool_f(x) ||^2, with z = scaling_factor * E(x).mean and x in [-1, 1], solved
// by the normal equations in float64 with a tiny ridge for stability.
#pragma once

#include <torch/types.h>

#include <vector>

#include "core/nn/autoencoder_kl.h"

namespace ldm::train {

struct LatentRgbFit {
  std::vector<std::vector<double>> factors;  // [latent_channels][3]
  std::vector<double> bias;                  // [3]
  double rmse = 0;                           // of the fit, in [-1, 1] units
};

class LatentRgbFitter {
 public:
  // images: [N, 3, H, W] in [-1, 1]. Throws c10::Error on shape errors.
  static LatentRgbFit Fit(AutoencoderKL& vae, double scaling_factor, const torch::Tensor& images);
};

}  // namespace ldm::train
