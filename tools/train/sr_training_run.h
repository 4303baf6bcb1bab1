// SrTrainingRun: the super-resolution stages of ldm-train (models/toy-shapes-sr).
//
//   sr         SrLatentCache (<work>/sr-latents/) + SrTrainer (<work>/sr/{checkpoints,final})
//   sr-export  ModelExporter::ExportSr -> <out>/ (the VAE copied from vae_dir)
//   sr-all     both
//
// It needs only the trained autoencoder (vae_dir, e.g. <base work>/autoencoder/vae or
// models/toy-shapes/vae), not the base UNet, so it can run in its own work directory.
// Idempotent like TrainingRun: a finished stage is skipped, an interrupted one resumes with
// resume = true. Run() returns CANCELLED when a StopSignal stopped it after a checkpoint.
// Not thread-safe.
#pragma once

#include <torch/types.h>

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "core/nn/unet_2d_condition_model.h"
#include "nlohmann/json.hpp"

namespace ldm::train {

struct SrTrainingRunOptions {
  std::filesystem::path work_dir;
  std::filesystem::path vae_dir;         // the VAE the pairs are encoded with
  std::filesystem::path export_vae_dir;  // the VAE sr-export ships (same encoder; "" = vae_dir)
  std::filesystem::path out_dir;
  uint64_t seed = 0;
  torch::Device device = torch::kCPU;
  bool resume = false;
  UNet2DConditionConfig unet;  // ToyModelConfigs::sr_unet
  nlohmann::json scheduler;    // ToyModelConfigs::scheduler
  int resolution = 128;
  int upscale_factor = 4;
  int64_t steps = 3000;
  int64_t batch = 32;
  double lr = 4e-4;
  double ema_decay = 0.998;
  int64_t cache_size = 8192;
  int64_t checkpoint_steps = 250;
  double checkpoint_seconds = 600;
  int64_t log_every = 10;
  int64_t max_steps_this_call = -1;
  int64_t holdout_images = 256;  // for the latent->RGB preview fit at export
};

class SrTrainingRun {
 public:
  explicit SrTrainingRun(SrTrainingRunOptions options);

  // The stages Run accepts: sr, sr-export, sr-all.
  static const std::vector<std::string>& Stages();
  // One of Stages(); INVALID_ARGUMENT naming them for any other.
  absl::Status Run(const std::string& stage);
  absl::Status Train();
  absl::Status Export();

  std::filesystem::path LatentsDir() const { return options_.work_dir / "sr-latents"; }
  std::filesystem::path SrDir() const { return options_.work_dir / "sr"; }

 private:
  SrTrainingRunOptions options_;
};

}  // namespace ldm::train
