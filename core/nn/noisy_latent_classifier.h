// NoisyLatentClassifier: a noise-aware classifier p(y | z_t, t) on diffusion latents, the
// classifier of classifier guidance.
// Reference: Dhariwal & Nichol 2021, "Diffusion Models Beat GANs on Image Synthesis", Sec. 4 and
// Algorithm 1 (the ADM classifier: the downsampling half of the UNet with the timestep embedding,
// then a pooled linear head, trained on noisy inputs x_t ~ q(x_t | x_0) at uniform t).
//
//   conv_in -> down_blocks.<i> (DownBlock2D: ResnetBlock2Ds with the time embedding, Downsample2D
//   between levels) -> mid_block (ResnetBlock2D) -> conv_norm_out -> SiLU -> mean over H, W
//   -> classifier (Linear) -> logits [B, num_classes]
//
// ADM pools with attention; at ldm's small latent sizes a spatial mean is as good and works at any
// latent size. Module names follow the diffusers conventions of the UNet (conv_in, time_embedding,
// down_blocks.<i>.resnets.<j>, ...), so the weights load strictly with LoadStateDict.
// Stored in a model folder as classifier/config.json + diffusion_pytorch_model.safetensors
// (ldm's own component; diffusers ignores it).
//
// Errors: forward() throws c10::Error; Run() and LoadNoisyLatentClassifier() never throw.
// Thread safety: concurrent forward() calls are safe (no mutable state); training, to() and
// loading need exclusive access.
#pragma once

#include <torch/nn/module.h>
#include <torch/nn/modules/conv.h>
#include <torch/nn/modules/linear.h>
#include <torch/nn/modules/normalization.h>
#include <torch/nn/pimpl.h>

#include <cstdint>
#include <filesystem>
#include <vector>

#include "absl/status/statusor.h"
#include "core/io/model_config.h"
#include "core/nn/down_block_2d.h"
#include "core/nn/resnet_block_2d.h"
#include "core/nn/timestep_embedding.h"
#include "core/nn/timesteps.h"
#include "nlohmann/json.hpp"

namespace ldm {

struct NoisyLatentClassifierConfig {
  int64_t in_channels = 4;   // latent channels
  int64_t num_classes = 18;  // logits
  int64_t sample_size = 8;   // informational: the latent size it was trained at
  std::vector<int64_t> block_out_channels = {64, 128};
  int64_t layers_per_block = 1;
  int64_t norm_num_groups = 32;
  double norm_eps = 1e-5;
  bool flip_sin_to_cos = true;
  double freq_shift = 0.0;
  int64_t time_embedding_dim = 0;  // 0: 4 * block_out_channels[0]

  // Parses classifier/config.json ("_class_name": "NoisyLatentClassifier"). Unknown fields are
  // UNIMPLEMENTED, bad values INVALID_ARGUMENT; both name the file and the field.
  static absl::StatusOr<NoisyLatentClassifierConfig> FromModelConfig(const ModelConfig& config);
  // The config.json content (every field, with "_class_name").
  nlohmann::json ToJson() const;
  // INVALID_ARGUMENT naming the field for inconsistent values.
  absl::Status Validate() const;
  int64_t TimeEmbedDim() const;
};

class NoisyLatentClassifierImpl : public torch::nn::Module {
 public:
  // The config must be valid (Validate()); otherwise the constructor throws.
  explicit NoisyLatentClassifierImpl(const NoisyLatentClassifierConfig& config);

  // sample [B, in_channels, H, W] (H, W >= 1), timesteps 0-dim or [B] (integer or fractional).
  // Returns logits [B, num_classes] in the sample's dtype. Throws c10::Error on bad shapes.
  torch::Tensor forward(const torch::Tensor& sample, const torch::Tensor& timesteps);

  // forward() with input checks (INVALID_ARGUMENT naming the argument) and exceptions mapped by
  // TorchGuard; inputs are moved to the model's device and dtype.
  absl::StatusOr<torch::Tensor> Run(const torch::Tensor& sample, const torch::Tensor& timesteps);

  const NoisyLatentClassifierConfig& config() const { return config_; }

 private:
  NoisyLatentClassifierConfig config_;
  torch::nn::Conv2d conv_in_{nullptr};
  nn::Timesteps time_proj_{nullptr};
  nn::TimestepEmbedding time_embedding_{nullptr};
  std::vector<nn::DownBlock2D> down_blocks_;
  nn::ResnetBlock2D mid_block_{nullptr};
  torch::nn::GroupNorm conv_norm_out_{nullptr};
  torch::nn::Linear classifier_{nullptr};
};
TORCH_MODULE(NoisyLatentClassifier);

// Builds the classifier from `dir`/config.json and loads `dir`'s safetensors weights strictly,
// on `device` in `dtype` (floating), in eval mode. NOT_FOUND for missing files.
absl::StatusOr<NoisyLatentClassifier> LoadNoisyLatentClassifier(const std::filesystem::path& dir,
                                                                torch::Device device,
                                                                torch::ScalarType dtype);

}  // namespace ldm
