// SrTrainer: trains the super-resolution UNet (LDM-SR, Rombach et al. 2022, Sec. 4.4) on an
// SrLatentCache.
//
// Objective: DDPM's epsilon-prediction loss (Ho et al. 2020, eq. 14) on the latents of the
// high-resolution image, conditioned by concatenation (diffusers StableDiffusionUpscalePipeline:
// UNet input = cat([z_t, low_res], dim=1)): z_0 = scaling_factor * (mu + sigma n),
// z_t = sqrt(ab_t) z_0 + sqrt(1 - ab_t) eps, L = || eps - eps_theta([z_t, c], t) ||^2 with
// c = LowResConditioning::ToLatentChannels(low_res / 127.5 - 1) (the pipeline's exact
// transform). No text: the UNet's mid-block cross-attention gets the pipeline's null context
// (one all-zero token). The low-resolution image is always given (no conditioning dropout: the
// model is never asked for an unconditional sample). No noise augmentation of the input (SD's x4
// upscaler adds noise_level; ldm's inputs are the base model's clean decodes, see docs/MODEL.md).
//
// AdamW, warm-up + cosine LR, gradient clipping, EMA (what WriteFinal saves). Resumable through
// TrainLoop; deterministic given the seed. Not thread-safe.
#pragma once

#include <torch/types.h>

#include <cstdint>
#include <filesystem>
#include <memory>

#include "absl/status/statusor.h"
#include "core/nn/unet_2d_condition_model.h"
#include "core/sampling/noise_schedule.h"
#include "nlohmann/json.hpp"
#include "tools/train/ema_weights.h"
#include "tools/train/lr_schedule.h"
#include "tools/train/sr_latent_cache.h"

namespace ldm::train {

struct SrTrainerOptions {
  UNet2DConditionConfig unet;
  nlohmann::json scheduler;  // scheduler_config.json
  double scaling_factor = 1.0;
  int vae_scale_factor = 8;
  int upscale_factor = 4;
  uint64_t seed = 0;
  int64_t steps = 1000;
  int64_t batch_size = 32;
  LrScheduleOptions lr{
      .peak_lr = 4e-4, .warmup_steps = 100, .total_steps = 1000, .final_fraction = 0.1};
  double weight_decay = 0.01;
  double grad_clip = 1.0;
  double ema_decay = 0.998;
  int64_t checkpoint_every_steps = 250;
  double checkpoint_every_seconds = 600;
  int64_t log_every = 10;
  torch::Device device = torch::kCPU;
};

// The tensors of one training step, exposed for tests.
struct SrBatch {
  torch::Tensor sample;     // [B, C + 3 r^2, h, w]: noisy latents + unshuffled low-res image
  torch::Tensor timesteps;  // [B] int64
  torch::Tensor target;     // [B, C, h, w] per the scheduler's prediction_type
};

class SrTrainer {
 public:
  // `cache` must outlive the trainer.
  SrTrainer(SrTrainerOptions options, const SrLatentCache* cache, std::filesystem::path dir);

  // As AutoencoderTrainer::Train: true when finished, false when stopped after a checkpoint.
  absl::StatusOr<bool> Train(bool resume, int64_t max_steps_this_call = -1);
  // Writes the EMA weights to dir/final/unet.safetensors (+ state.json).
  absl::Status WriteFinal();

  SrBatch MakeBatch(int64_t step) const;
  // The null text context of a batch: [B, 1, cross_attention_dim] zeros (the pipeline's).
  torch::Tensor NullContext(int64_t batch) const;
  UNet2DConditionModel& unet() { return unet_; }
  int64_t step() const { return step_; }
  double last_loss() const { return last_loss_; }

 private:
  double TrainStep();

  SrTrainerOptions options_;
  const SrLatentCache* cache_;
  torch::Tensor alphas_cumprod_;  // [T] float64
  NoiseSchedule::PredictionType prediction_type_ = NoiseSchedule::PredictionType::kEpsilon;
  std::filesystem::path dir_;
  UNet2DConditionModel unet_{nullptr};
  std::unique_ptr<torch::optim::AdamW> optimizer_;
  std::unique_ptr<EmaWeights> ema_;
  int64_t step_ = 0;
  double last_loss_ = 0;
};

}  // namespace ldm::train
