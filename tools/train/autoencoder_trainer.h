// AutoencoderTrainer: trains the AutoencoderKL of the toy model on rendered shapes images.
//
// Objective (Rombach et al. 2022, LDM, Sec. 3 and App. G; Kingma & Welling 2014 for the KL term):
//   L = |x - D(z)|_1 + w_2 |x - D(z)|_2^2 + w_kl KL(q(z|x) || N(0, I)),  z ~ q(z|x)
// with all terms averaged per pixel of x (so w_kl = 1e-6 matches LDM's "KL-reg 1e-6" ratio of
// summed terms). LDM adds a perceptual (LPIPS) and a patch-GAN loss; flat-colored shapes do not
// need them, and they would cost most of the CPU budget.
// After training, scaling_factor = 1 / std(z) over held-out images (LDM Sec. 4.3.2's rescaling)
// so the diffusion model sees unit-variance latents; it is stored in the exported config.
//
// Decoder fine-tuning (decoder_only, init_from an exported vae/ folder): the encoder and
// quant_conv are frozen and only post_quant_conv + decoder train on the reconstruction terms, as
// Stable Diffusion's "ft-MSE" VAE decoders were made. Latents, the scaling factor and hence a
// diffusion model trained on them stay valid, while the reconstruction improves.
//
// Outputs under `dir`: checkpoints/ (see Checkpoint) and, when finished, vae/ (config.json with
// the scaling factor + float32 diffusion_pytorch_model.safetensors) and vae/metrics.json (latent
// statistics, held-out PSNR, steps, decode_latent_padding).
// Deterministic given the seed (all draws from TrainRng); not thread-safe.
#pragma once

#include <torch/types.h>

#include <cstdint>
#include <filesystem>
#include <string>

#include "absl/status/statusor.h"
#include "core/nn/autoencoder_kl.h"
#include "tools/train/batch_builder.h"
#include "tools/train/lr_schedule.h"

namespace ldm::train {

struct AutoencoderTrainerOptions {
  AutoencoderKLConfig config;
  BatchBuilderOptions data;
  uint64_t seed = 0;
  int64_t steps = 1000;
  int64_t batch_size = 32;
  LrScheduleOptions lr{
      .peak_lr = 6e-4, .warmup_steps = 100, .total_steps = 1000, .final_fraction = 0.05};
  double l2_weight = 1.0;
  // Per-pixel weights of the reconstruction terms: 1 + object_weight on object pixels (label map
  // != 0) + edge_weight on the 3x3 band around label boundaries, normalised by their mean. The
  // plain L1 + L2 means count a small object's outline in a handful of the 4096 pixels, so a
  // VAE trained on them rounds small triangles and squares off (ldm-eval's autoencoder ceiling).
  double object_weight = 0.0;
  double edge_weight = 0.0;
  double kl_weight = 1e-6;
  double grad_clip = 1.0;
  int64_t checkpoint_every_steps = 500;
  double checkpoint_every_seconds = 600;
  int64_t log_every = 10;
  int64_t scale_images = 512;  // held-out images for scaling_factor and PSNR
  torch::Device device = torch::kCPU;
  // When set: start from this exported vae/ folder's weights (config must match `config`).
  std::filesystem::path init_from;
  // Freeze encoder + quant_conv; no KL term; Finish keeps config.scaling_factor.
  bool decoder_only = false;
  // Decode with this many edge-replicated latent cells around the latents, cropped after
  // (AutoencoderKL::DecodeWithMargin), in training and in Finish's PSNR; recorded in
  // vae/metrics.json so the export ships the model decoding the way its decoder was trained
  // (ModelExtras::decode_latent_padding).
  int64_t decode_latent_padding = 0;
  std::string log_name = "autoencoder";  // progress lines: "<log_name> step ..."
};

struct StepStats {
  int64_t step = 0;
  double loss = 0;
};

class AutoencoderTrainer {
 public:
  // Throws c10::Error when init_from cannot be loaded (callers build it inside TorchGuard or
  // check init_from beforehand).
  AutoencoderTrainer(AutoencoderTrainerOptions options, std::filesystem::path dir);

  // Trains until options.steps (resuming from the latest checkpoint when `resume`), or until
  // StopSignal or `max_steps_this_call` (-1: no limit) stops it; a checkpoint is written whenever
  // it stops. Returns true when training reached options.steps. FAILED_PRECONDITION when a
  // checkpoint exists and resume is false.
  absl::StatusOr<bool> Train(bool resume, int64_t max_steps_this_call = -1);
  // Computes the scaling factor and held-out PSNR and writes dir/vae/. Call after Train()
  // returned true.
  absl::Status Finish();

  AutoencoderKL& model() { return model_; }

  // The reconstruction weights of AutoencoderTrainerOptions::object_weight / edge_weight for
  // label maps [B, H, W]: [B, 1, H, W] float32, 1 + object_weight on labels != 0 + edge_weight
  // where the pixel's 3x3 neighbourhood (the part inside the image) holds more than one label.
  static torch::Tensor PixelWeights(const torch::Tensor& labels, double object_weight,
                                    double edge_weight);
  int64_t step() const { return step_; }
  double last_loss() const { return last_loss_; }

 private:
  double TrainStep();

  AutoencoderTrainerOptions options_;
  std::filesystem::path dir_;
  BatchBuilder builder_;
  AutoencoderKL model_{nullptr};
  std::unique_ptr<torch::optim::AdamW> optimizer_;
  int64_t step_ = 0;
  double last_loss_ = 0;
};

}  // namespace ldm::train
