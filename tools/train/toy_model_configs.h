// ToyModelConfigs: the architectures of the shipped "toy-shapes" model and a tiny variant for
// tests. See docs/MODEL.md for the reasoning behind the sizes.
//
//   vae   AutoencoderKL f=8 (64x64x3 -> 8x8x4): 4 levels, layers_per_block 1
//   text  CLIPTextModel (vocab and special ids come from the learned tokenizer at run time)
//   unet  UNet2DConditionModel on 8x8 latents: CrossAttnDownBlock2D at both levels, in_channels =
//         4 latent + 7 one-hot map channels (7 * r^2 with r x r map sub-cells per latent cell,
//         SetMapSubcells), num_class_embeds = 18 classes + 1 null class
//   scheduler  DDIM over 1000 "scaled_linear" training steps rescaled to zero terminal SNR,
//         v-prediction, trailing timesteps (NoiseScheduleRecipe::kZeroSnrV; the session-1..4
//         models used kStableDiffusion: SD's epsilon schedule)
//   classifier NoisyLatentClassifier on 8x8x4 latents: 18 classes, levels [64, 128]
//   sr_unet  the 4x super-resolution UNet (models/toy-shapes-sr) on 16x16 latents of 128x128
//         images: DownBlock2D/UpBlock2D only (no text; the mid block's cross-attention gets a null
//         context), in_channels = 4 latent + 12 pixel-unshuffled 32x32 low-res channels
#pragma once

#include "core/nn/autoencoder_kl.h"
#include "core/nn/noisy_latent_classifier.h"
#include "core/nn/unet_2d_condition_model.h"
#include "core/text/clip_text_model.h"
#include "nlohmann/json.hpp"

namespace ldm::train {

inline constexpr int kNullClassLabel = 18;  // the 19th class embedding: "no class"
inline constexpr int kNumMapChannels = 7;   // background + six colors
inline constexpr int kSrUpscaleFactor = 4;  // toy-shapes-sr: 32x32 -> 128x128 (and 64 -> 256)

// The scheduler recipes of ldm-train --noise-schedule (see toy_model_configs.cc for why).
enum class NoiseScheduleRecipe {
  kStableDiffusion,  // "sd-eps": scaled_linear, epsilon, leading (SD 1.x)
  kZeroSnrV,         // "zero-snr-v": rescaled to zero terminal SNR, v_prediction, trailing
};

struct ToyModelConfigs {
  AutoencoderKLConfig vae;
  ClipTextConfig text;
  UNet2DConditionConfig unet;
  nlohmann::json scheduler;  // scheduler/scheduler_config.json
  NoisyLatentClassifierConfig classifier;  // classifier/ (classifier guidance)
  UNet2DConditionConfig sr_unet;
  nlohmann::json sr_scheduler;  // toy-shapes-sr keeps SD's epsilon schedule (its recipe)
  // ldm_model.json semantic_map_subcells of the base model (ModelExtras): how finely the UNet
  // sees a semantic map. Change it with SetMapSubcells, which keeps unet.in_channels in step.
  int map_subcells = 1;

  // Sets map_subcells to r (>= 1, dividing the VAE's factor 8) and unet.in_channels to
  // latent channels + kNumMapChannels * r^2.
  void SetMapSubcells(int r);

  static nlohmann::json SchedulerConfig(NoiseScheduleRecipe recipe);

  static ToyModelConfigs Default();
  // A few-thousand-parameter model of the same layout, for fast tests.
  static ToyModelConfigs Tiny();
};

}  // namespace ldm::train
