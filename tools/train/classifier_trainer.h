// ClassifierTrainer: trains the noise-aware NoisyLatentClassifier of classifier guidance on the
// cached VAE latents of the diffusion stage (LatentCache).
//
// Objective (Dhariwal & Nichol 2021, "Diffusion Models Beat GANs", Sec. 4 / Algorithm 1): for
// single-object examples with a class label y (cache class_label >= 0; the 18 shape x color
// classes), t ~ U{0..T-1}, eps ~ N(0, I), z_0 = scaling_factor * (mu + sigma n) (a fresh
// posterior sample, as the diffusion trainer draws it),
//   z_t = sqrt(ab_t) z_0 + sqrt(1 - ab_t) eps,   L = cross_entropy(classifier(z_t, t), y)
// with ab_t from the model's own scheduler config (DiffusionTrainer::AlphasCumprod), so the
// classifier sees exactly the z_t the sampler produces.
//
// Held-out split: the last `holdout` labelled cache entries are never trained on; Evaluate()
// reports the accuracy on them at chosen timesteps with fixed noise.
// Weights: AdamW, warm-up + cosine LR, gradient clipping; no EMA (ADM's classifier has none).
// Outputs under `dir`: checkpoints/ (see Checkpoint) and final/ (config.json, the weights as
// diffusion_pytorch_model.safetensors, metrics.json), a complete classifier/ component folder.
// Deterministic given the seed (all draws from TrainRng); not thread-safe.
#pragma once

#include <torch/optim/adamw.h>
#include <torch/types.h>

#include <cstdint>
#include <filesystem>
#include <memory>
#include <vector>

#include "absl/status/statusor.h"
#include "core/nn/noisy_latent_classifier.h"
#include "nlohmann/json.hpp"
#include "tools/train/latent_cache.h"
#include "tools/train/lr_schedule.h"

namespace ldm::train {

struct ClassifierTrainerOptions {
  NoisyLatentClassifierConfig config;
  nlohmann::json scheduler;  // scheduler_config.json (betas of the noising)
  double scaling_factor = 1.0;
  uint64_t seed = 0;
  int64_t steps = 2000;
  int64_t batch_size = 128;
  LrScheduleOptions lr{
      .peak_lr = 1e-3, .warmup_steps = 100, .total_steps = 2000, .final_fraction = 0.05};
  double weight_decay = 0.05;
  double grad_clip = 1.0;
  int64_t holdout = 1024;  // labelled cache entries kept for evaluation
  int64_t checkpoint_every_steps = 250;
  double checkpoint_every_seconds = 600;
  int64_t log_every = 10;
  torch::Device device = torch::kCPU;
};

// The tensors of one training step, exposed for tests.
struct ClassifierBatch {
  torch::Tensor sample;     // [B, C, h, w] noisy latents z_t
  torch::Tensor timesteps;  // [B] int64
  torch::Tensor labels;     // [B] int64 in [0, num_classes)
};

// Held-out accuracy at one timestep.
struct ClassifierAccuracy {
  int64_t timestep = 0;
  double alpha_cumprod = 0;
  double accuracy = 0;
  int64_t examples = 0;
};

class ClassifierTrainer {
 public:
  // `cache` must outlive the trainer. INVALID_ARGUMENT (from Create) when the cache has fewer
  // than holdout + 1 labelled examples or labels outside [0, num_classes).
  static absl::StatusOr<std::unique_ptr<ClassifierTrainer>> Create(ClassifierTrainerOptions options,
                                                                   const LatentCache* cache,
                                                                   std::filesystem::path dir);

  // As DiffusionTrainer::Train: true when options.steps were reached; a checkpoint is written
  // whenever it stops early (StopSignal, max_steps_this_call). FAILED_PRECONDITION when a
  // checkpoint exists and resume is false.
  absl::StatusOr<bool> Train(bool resume, int64_t max_steps_this_call = -1);
  // Held-out accuracy at each of `timesteps` (fixed noise per timestep).
  absl::StatusOr<std::vector<ClassifierAccuracy>> Evaluate(const std::vector<int64_t>& timesteps);
  // Writes dir/final/ (config.json, diffusion_pytorch_model.safetensors, metrics.json with the
  // held-out accuracy at t = 0, 250, 500, 750, 999).
  absl::Status WriteFinal();

  // Writes `classifier` as a component folder: `out`/config.json and
  // `out`/diffusion_pytorch_model.safetensors (float32).
  static absl::Status WriteComponent(NoisyLatentClassifier& classifier,
                                     const std::filesystem::path& out);

  ClassifierBatch MakeBatch(int64_t step) const;
  NoisyLatentClassifier& model() { return model_; }
  int64_t step() const { return step_; }
  int64_t train_examples() const { return static_cast<int64_t>(train_index_.size()); }
  int64_t holdout_examples() const { return static_cast<int64_t>(holdout_index_.size()); }

 private:
  ClassifierTrainer(ClassifierTrainerOptions options, const LatentCache* cache,
                    std::filesystem::path dir);
  double TrainStep();
  // Noisy latents of cache entries `index` at timesteps `t`, drawn from `gen`.
  torch::Tensor Noised(const torch::Tensor& index, const torch::Tensor& t,
                       torch::Generator& gen) const;

  ClassifierTrainerOptions options_;
  const LatentCache* cache_;
  std::filesystem::path dir_;
  torch::Tensor alphas_cumprod_;  // [T] float64
  std::vector<int64_t> train_index_, holdout_index_;
  NoisyLatentClassifier model_{nullptr};
  std::unique_ptr<torch::optim::AdamW> optimizer_;
  int64_t step_ = 0;
};

}  // namespace ldm::train
