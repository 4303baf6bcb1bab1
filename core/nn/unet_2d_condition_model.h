// UNet2DConditionModel: the conditional denoiser of latent diffusion (Rombach et al. 2022).
// Reference: diffusers.models.unets.unet_2d_condition.UNet2DConditionModel (0.27), restricted to
// the SD 1.x / 2.x / class-conditional feature set; every other setting is rejected at load time.
//
// Module and parameter names equal the diffusers state_dict keys (conv_in, time_embedding,
// class_embedding, down_blocks.<i>, mid_block, up_blocks.<i>, conv_norm_out, conv_out), so
// LoadStateDict loads a diffusers checkpoint strictly.
//
// Errors: forward() throws c10::Error; Run() and LoadUNet() never throw and return absl::Status
// (INVALID_ARGUMENT for bad inputs/configs, UNIMPLEMENTED for unsupported config settings,
// NOT_FOUND for missing files). Thread safety: concurrent forward()/Run() calls on one model are
// safe for inference (no mutable state); training and to()/load calls need exclusive access.
#pragma once

#include <torch/nn/module.h>
#include <torch/nn/modules/conv.h>
#include <torch/nn/modules/embedding.h>
#include <torch/nn/modules/normalization.h>
#include <torch/nn/pimpl.h>

#include <cstdint>
#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "core/io/model_config.h"
#include "core/nn/cross_attn_down_block_2d.h"
#include "core/nn/cross_attn_up_block_2d.h"
#include "core/nn/down_block_2d.h"
#include "core/nn/timestep_embedding.h"
#include "core/nn/timesteps.h"
#include "core/nn/unet_mid_block_2d_cross_attn.h"
#include "core/nn/up_block_2d.h"

namespace ldm {

// The supported subset of diffusers' UNet2DConditionModel config. Per-block lists are resolved to
// one entry per down block (index i = resolution level i, up blocks use them reversed).
struct UNet2DConditionConfig {
  int64_t in_channels = 4;
  int64_t out_channels = 4;
  int64_t sample_size = 64;  // informational (latent size the model was trained at)
  std::vector<int64_t> block_out_channels = {320, 640, 1280, 1280};
  std::vector<std::string> down_block_types = {"CrossAttnDownBlock2D", "CrossAttnDownBlock2D",
                                               "CrossAttnDownBlock2D", "DownBlock2D"};
  std::vector<std::string> up_block_types = {"UpBlock2D", "CrossAttnUpBlock2D",
                                             "CrossAttnUpBlock2D", "CrossAttnUpBlock2D"};
  std::vector<int64_t> layers_per_block = {2, 2, 2, 2};
  // Number of attention heads per level: num_attention_heads, or else attention_head_dim (the
  // diffusers naming quirk: attention_head_dim is used as the head count).
  std::vector<int64_t> num_attention_heads = {8, 8, 8, 8};
  std::vector<int64_t> transformer_layers_per_block = {1, 1, 1, 1};
  std::vector<int64_t> cross_attention_dim = {1280, 1280, 1280, 1280};
  bool use_linear_projection = false;
  bool upcast_attention = false;
  int64_t num_class_embeds = 0;  // 0: no class embedding
  int64_t norm_num_groups = 32;
  double norm_eps = 1e-5;
  bool flip_sin_to_cos = true;
  double freq_shift = 0.0;
  int64_t downsample_padding = 1;
  double mid_block_scale_factor = 1.0;
  double dropout = 0.0;
  std::string act_fn = "silu";
  int64_t time_embedding_dim = 0;  // 0: 4 * block_out_channels[0]

  // Parses a diffusers unet/config.json. Unknown fields and unsupported values are UNIMPLEMENTED,
  // malformed or inconsistent values INVALID_ARGUMENT; both name the field.
  static absl::StatusOr<UNet2DConditionConfig> FromModelConfig(const ModelConfig& config);

  // Checks internal consistency (list lengths, divisibility by groups/heads, positivity).
  absl::Status Validate() const;

  int64_t TimeEmbedDim() const;
};

class UNet2DConditionModelImpl : public torch::nn::Module {
 public:
  // The config must be valid (Validate()); invalid configs make the constructor throw.
  explicit UNet2DConditionModelImpl(const UNet2DConditionConfig& config);

  // sample [B, in_channels, H, W] (any H, W >= 1); timesteps 0-dim (broadcast) or [B], integer
  // or floating; encoder_hidden_states [B, L, cross_attention_dim]; class_labels [B] integer,
  // required iff num_class_embeds > 0, else must be undefined. Returns [B, out_channels, H, W]
  // in the sample's dtype. When `intermediates` is non-null it receives time_proj,
  // time_embedding, class_embedding (class models), emb_total, conv_in, down_blocks.<i>,
  // mid_block, up_blocks.<i> and conv_norm_out. Throws c10::Error on bad inputs.
  torch::Tensor forward(const torch::Tensor& sample, const torch::Tensor& timesteps,
                        const torch::Tensor& encoder_hidden_states,
                        const torch::Tensor& class_labels = {},
                        std::map<std::string, torch::Tensor>* intermediates = nullptr);

  // forward() with input validation (INVALID_ARGUMENT naming the argument) and exceptions mapped
  // by TorchGuard. Inputs may be on any device/dtype; they are moved to the model's.
  absl::StatusOr<torch::Tensor> Run(const torch::Tensor& sample, const torch::Tensor& timesteps,
                                    const torch::Tensor& encoder_hidden_states,
                                    const torch::Tensor& class_labels = {},
                                    std::map<std::string, torch::Tensor>* intermediates = nullptr);

  const UNet2DConditionConfig& config() const { return config_; }

 private:
  UNet2DConditionConfig config_;
  torch::nn::Conv2d conv_in_{nullptr};
  nn::Timesteps time_proj_{nullptr};
  nn::TimestepEmbedding time_embedding_{nullptr};
  torch::nn::Embedding class_embedding_{nullptr};
  // Per level exactly one of the two is non-null.
  std::vector<nn::CrossAttnDownBlock2D> cross_down_;
  std::vector<nn::DownBlock2D> plain_down_;
  nn::UNetMidBlock2DCrossAttn mid_block_{nullptr};
  std::vector<nn::CrossAttnUpBlock2D> cross_up_;
  std::vector<nn::UpBlock2D> plain_up_;
  torch::nn::GroupNorm conv_norm_out_{nullptr};
  torch::nn::Conv2d conv_out_{nullptr};
};
TORCH_MODULE(UNet2DConditionModel);

// Builds a UNet from `unet_dir`/config.json, loads `unet_dir`/diffusion_pytorch_model.safetensors
// strictly (every missing/unexpected/mis-shaped key is an INVALID_ARGUMENT error), converts it to
// `device`/`dtype` (a floating type) and puts it in eval mode.
absl::StatusOr<UNet2DConditionModel> LoadUNet(const std::filesystem::path& unet_dir,
                                              torch::Device device, torch::ScalarType dtype);

}  // namespace ldm
