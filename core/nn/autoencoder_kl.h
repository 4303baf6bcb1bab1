// AutoencoderKL: the KL-regularised autoencoder of latent diffusion (Rombach et al. 2022,
// following Esser et al. 2021). Encode maps an image in [-1, 1] to a diagonal Gaussian over
// latents; Decode maps (unscaled) latents back to an image.
// Reference: diffusers.models.autoencoders.autoencoder_kl.AutoencoderKL (0.27) with quant_conv
// and post_quant_conv, group-norm decoder, mid-block attention.
//
// Module names equal the diffusers state_dict keys: encoder.*, decoder.*, quant_conv,
// post_quant_conv. scaling_factor is NOT applied here: callers multiply encoded latents by it and
// divide latents by it before Decode.
//
// Errors: Encode/Decode throw c10::Error; RunEncode/RunDecode and LoadAutoencoderKL return
// absl::Status. Thread safety: concurrent inference calls are safe; to()/loading/training need
// exclusive access.
#pragma once

#include <torch/nn/module.h>
#include <torch/nn/modules/conv.h>
#include <torch/nn/pimpl.h>

#include <cstdint>
#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "core/io/model_config.h"
#include "core/nn/vae_decoder.h"
#include "core/nn/vae_encoder.h"

namespace ldm {

struct AutoencoderKLConfig {
  int64_t in_channels = 3;
  int64_t out_channels = 3;
  int64_t latent_channels = 4;
  std::vector<int64_t> block_out_channels = {64};
  std::vector<std::string> down_block_types = {"DownEncoderBlock2D"};
  std::vector<std::string> up_block_types = {"UpDecoderBlock2D"};
  int64_t layers_per_block = 1;
  int64_t norm_num_groups = 32;
  std::string act_fn = "silu";
  double scaling_factor = 0.18215;
  int64_t sample_size = 32;  // informational (image size the model was trained at)
  // A hint for callers: diffusers runs this VAE in float32 even when the rest is half precision.
  bool force_upcast = true;

  // Parses a diffusers vae/config.json; unknown fields and unsupported values (latents_mean,
  // latents_std, shift_factor, use_quant_conv=false, ...) are UNIMPLEMENTED, bad values
  // INVALID_ARGUMENT, naming the field.
  static absl::StatusOr<AutoencoderKLConfig> FromModelConfig(const ModelConfig& config);

  absl::Status Validate() const;

  // Spatial factor between images and latents: 2^(levels - 1).
  int64_t DownsampleFactor() const;
};

// The encoder's output distribution, each [B, latent_channels, h, w].
struct DiagonalGaussian {
  torch::Tensor mean;
  torch::Tensor logvar;  // clamped to [-30, 20]
  torch::Tensor std;     // exp(0.5 * logvar)

  // mean + std * noise; `noise` has mean's shape (draw it from the caller's generator).
  torch::Tensor Sample(const torch::Tensor& noise) const { return mean + std * noise; }
};

class AutoencoderKLImpl : public torch::nn::Module {
 public:
  // The config must be valid; an invalid one makes the constructor throw.
  explicit AutoencoderKLImpl(const AutoencoderKLConfig& config);

  // image: [B, in_channels, H, W] in [-1, 1], H and W multiples of DownsampleFactor() for an
  // exact round trip. When `intermediates` is non-null it receives encoder.conv_in,
  // encoder.down_blocks.<i>, encoder.mid_block, encoder (the encoder output) and quant_conv (the
  // moments). Throws c10::Error.
  DiagonalGaussian Encode(const torch::Tensor& image,
                          std::map<std::string, torch::Tensor>* intermediates = nullptr);

  // latents: [B, latent_channels, h, w], already divided by scaling_factor. Returns
  // [B, out_channels, h * f, w * f], roughly in [-1, 1]. Intermediates: post_quant_conv,
  // decoder.conv_in, decoder.mid_block, decoder.up_blocks.<i>. Throws c10::Error.
  torch::Tensor Decode(const torch::Tensor& latents,
                       std::map<std::string, torch::Tensor>* intermediates = nullptr);

  // Decode of the latents extended by `margin` cells on each side by edge replication, with the
  // decoded margin (margin * DownsampleFactor() pixels per side) cropped away: the same output
  // shape as Decode, which it equals bit for bit at margin 0. An ldm addition for decoders that
  // draw artifacts along the latent border (ModelExtras::decode_latent_padding). Throws
  // c10::Error (also for margin < 0).
  torch::Tensor DecodeWithMargin(const torch::Tensor& latents, int64_t margin);

  // Guarded versions: INVALID_ARGUMENT for bad shapes, exceptions mapped by TorchGuard. Inputs
  // are moved to the model's device and dtype.
  absl::StatusOr<DiagonalGaussian> RunEncode(
      const torch::Tensor& image, std::map<std::string, torch::Tensor>* intermediates = nullptr);
  absl::StatusOr<torch::Tensor> RunDecode(
      const torch::Tensor& latents, std::map<std::string, torch::Tensor>* intermediates = nullptr);
  absl::StatusOr<torch::Tensor> RunDecodeWithMargin(const torch::Tensor& latents, int64_t margin);

  const AutoencoderKLConfig& config() const { return config_; }

 private:
  absl::Status CheckLatents(const torch::Tensor& latents) const;

  AutoencoderKLConfig config_;
  nn::VaeEncoder encoder_{nullptr};
  nn::VaeDecoder decoder_{nullptr};
  torch::nn::Conv2d quant_conv_{nullptr};
  torch::nn::Conv2d post_quant_conv_{nullptr};
};
TORCH_MODULE(AutoencoderKL);

// Builds the VAE from `vae_dir`/config.json, loads diffusion_pytorch_model.safetensors strictly,
// converts to `device`/`dtype` (floating) and sets eval mode.
absl::StatusOr<AutoencoderKL> LoadAutoencoderKL(const std::filesystem::path& vae_dir,
                                                torch::Device device, torch::ScalarType dtype);

}  // namespace ldm
