// DiffusionTrainer: trains the UNet2DConditionModel jointly with a small CLIPTextModel on cached
// VAE latents (LatentCache), with independent conditioning dropout for classifier-free guidance.
//
// Objective (DDPM, Ho et al. 2020, eq. 14, the "simple" loss; LDM, Rombach et al. 2022, eq. 2
// with conditioning eq. 3): t ~ U{0..T-1}, eps ~ N(0, I), z_0 = scaling_factor * (mu + sigma n),
//   z_t = sqrt(ab_t) z_0 + sqrt(1 - ab_t) eps,   L = || y - f_theta(z_t, t, c) ||^2
// with the target y of the config's prediction_type: eps ("epsilon"), v = sqrt(ab_t) eps -
// sqrt(1 - ab_t) z_0 ("v_prediction", Salimans & Ho 2022) or z_0 ("sample").
// where c = (text tokens -> CLIP last hidden state, class label, one-hot map channels
// concatenated to z_t). ab_t is computed from the same scheduler_config.json the pipeline samples
// with, exactly as core's NoiseSchedule does. Each condition is kept or replaced by its null value
// (empty prompt, null class 18, zero map) by ConditionDropout.
//
// Optional auxiliary losses: position_probe_weight * PositionProbe (position_probe.h) and
// grounding_weight * TokenGrounding on the cross-attention maps (token_grounding.h); the step's
// logged loss is the diffusion loss alone, the auxiliary ones are logged beside it.
//
// Weights: AdamW, warm-up + cosine LR, gradient clipping; an EMA of the weights is kept and is
// what WriteFinal() saves. Deterministic given the seed. Not thread-safe.
#pragma once

#include <torch/nn/module.h>
#include <torch/types.h>

#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "core/nn/attention.h"
#include "core/nn/unet_2d_condition_model.h"
#include "core/sampling/noise_schedule.h"
#include "core/text/clip_text_model.h"
#include "core/text/clip_tokenizer.h"
#include "nlohmann/json.hpp"
#include "core/common/autocast_scope.h"
#include "tools/train/condition_dropout.h"
#include "tools/train/ema_weights.h"
#include "tools/train/latent_cache.h"
#include "tools/train/lr_schedule.h"
#include "tools/train/position_probe.h"
#include "tools/train/token_grounding.h"

namespace ldm::train {

// The trained module tree: "unet.*", "text_encoder.text_model.*" and, when enabled, the
// training-only "position_probe.*" (never exported).
class DiffusionModelImpl : public torch::nn::Module {
 public:
  DiffusionModelImpl(const UNet2DConditionConfig& unet, const ClipTextConfig& text,
                     bool position_probe = false);
  UNet2DConditionModel unet{nullptr};
  ClipTextModel text_encoder{nullptr};
  PositionProbe position_probe{nullptr};  // null unless enabled
};
TORCH_MODULE(DiffusionModel);

struct DiffusionTrainerOptions {
  UNet2DConditionConfig unet;
  ClipTextConfig text;
  nlohmann::json scheduler;  // scheduler_config.json
  double scaling_factor = 1.0;
  uint64_t seed = 0;
  int64_t steps = 1000;
  int64_t batch_size = 64;
  LrScheduleOptions lr{
      .peak_lr = 4e-4, .warmup_steps = 200, .total_steps = 1000, .final_fraction = 0.1};
  double weight_decay = 0.01;
  double grad_clip = 1.0;
  double ema_decay = 0.999;
  ConditionDropoutOptions dropout;
  // The text encoder's learning rate is the UNet's times this (1: one parameter group).
  double text_lr_scale = 1.0;
  int null_class_label = 18;
  // Weight of the PositionProbe loss added to the diffusion loss (0: no probe). A run's
  // checkpoints only resume with the same on/off setting (the probe's weights are in them).
  double position_probe_weight = 0.0;
  // Weight of the TokenGrounding loss on the UNet's cross-attention maps (0: off; needs
  // SetGrounding). No parameters: runs resume with any weight.
  double grounding_weight = 0.0;
  // The grounding loss is added from this step on (a curriculum: the shipped recipe binds the
  // text encoder and the probe first).
  int64_t grounding_start_step = 0;
  // Timestep sampling: with this probability t ~ U{high_noise_min_t .. T-1} instead of U{0..T-1}
  // (0: uniform, DDPM's). The layout of a scene is decided in the first sampling steps, where
  // the input is (nearly) pure noise, so this spends more of the training there.
  double high_noise_fraction = 0.0;
  int64_t high_noise_min_t = 800;
  // ... from this step on, up to (not including) high_noise_end_step (-1: to the end); outside
  // that window t is uniform and no extra random draws are made.
  int64_t high_noise_start_step = 0;
  int64_t high_noise_end_step = -1;
  // What trains. kAll: the UNet and the text encoder (the diffusion stage). The others are
  // passes run on a finished diffusion model (see InitWeights) that train one part of it and
  // freeze every other weight (UNet, text encoder, position probe); each example is conditioned
  // on the one condition that part reads, so the pass tunes the path CFG samples with that
  // condition alone. The dropout options are not used; the probe loss must be off (it would train
  // nothing); the timestep options apply as usual.
  //  kClassEmbeddings: the class_embedding rows. Every example is a class-labelled one (cache
  //    class_label >= 0) with the empty prompt and a zero map; the grounding loss must be off.
  //    The null class row never appears in a batch, so it gets no gradient; with weight_decay 0
  //    it stays bit for bit (tested).
  //  kTextEncoder: the text encoder. Every example is a captioned one (token ids other than the
  //    empty prompt's) with the null class and a zero map; the grounding loss may be on (from
  //    grounding_start_step), so the pass keeps binding each object's words to its cells. The
  //    UNet stays bit for bit; the empty prompt's encoding moves with the encoder, so requests
  //    without a prompt change too (measured in docs/MODEL.md).
  enum class TunedPart { kAll, kClassEmbeddings, kTextEncoder };
  TunedPart tuned = TunedPart::kAll;
  int64_t checkpoint_every_steps = 500;
  double checkpoint_every_seconds = 600;
  int64_t log_every = 10;
  torch::Device device = torch::kCPU;
  // kBFloat16: each step's forward (text encoder and UNet) runs under AutocastScope; the losses,
  // weights, gradients, optimizer state and EMA stay float32. Checkpoints hold float32 either
  // way, so a run may resume with another setting (it then continues with other rounding).
  MixedPrecision mixed_precision = MixedPrecision::kOff;
};

// The tensors of one training step, exposed for tests.
struct DiffusionBatch {
  torch::Tensor sample;        // [B, C + K, h, w] noisy latents + map channels
  torch::Tensor timesteps;     // [B] int64
  torch::Tensor token_ids;     // [B, L]
  torch::Tensor class_labels;  // [B]
  torch::Tensor target;        // [B, C, h, w] what the UNet should predict (see Target)
  // With grounding on at this step (GroundingAt): the object each token names, -1 everywhere for
  // examples whose text was dropped [B, L], and the objects' cells [B, 2, h, w]; undefined
  // otherwise.
  torch::Tensor grounding_tokens;
  torch::Tensor object_masks;
};

class DiffusionTrainer {
 public:
  // `cache` must outlive the trainer; `empty_prompt_ids` is the tokenization of "".
  DiffusionTrainer(DiffusionTrainerOptions options, const LatentCache* cache,
                   std::vector<int64_t> empty_prompt_ids, std::filesystem::path dir);

  // Replaces the text encoder's weights by a CLIPTextModel safetensors file (e.g. the
  // text-pretrain stage's) and restarts the EMA from the current weights; call before Train (a
  // resumed checkpoint then overrides both). INVALID_ARGUMENT / NOT_FOUND from the loader.
  absl::Status InitTextEncoder(const std::filesystem::path& safetensors);

  // Replaces the UNet's and the text encoder's weights by safetensors files (e.g. a finished
  // diffusion stage's final/), optionally rounded to float16 first (the precision the exporter
  // ships, so a pass on top fine-tunes the weights a served model has), and restarts the EMA from
  // them; call before Train (a resumed checkpoint then overrides both). INVALID_ARGUMENT /
  // NOT_FOUND from the loader.
  absl::Status InitWeights(const std::filesystem::path& unet_safetensors,
                           const std::filesystem::path& text_encoder_safetensors,
                           bool round_to_float16);

  // The token -> object assignment of every cache example (TokenGrounding::Assign of the cache's
  // token ids), used by MakeBatch and the grounding loss. INVALID_ARGUMENT on a size mismatch.
  absl::Status SetGrounding(TokenGrounding::Assignment assignment);

  // As AutoencoderTrainer::Train.
  absl::StatusOr<bool> Train(bool resume, int64_t max_steps_this_call = -1);
  // Writes the EMA weights to dir/final/{unet,text_encoder}/ (float32, diffusers names).
  absl::Status WriteFinal();

  DiffusionBatch MakeBatch(int64_t step) const;
  // Whether `step` trains with the grounding loss: grounding_weight > 0, SetGrounding called and
  // step >= grounding_start_step.
  bool GroundingAt(int64_t step) const;
  // alphas_cumprod [T] (float32 values as float64) of a scheduler config, from core's
  // NoiseSchedule (every beta_schedule and rescale_betas_zero_snr it supports). Throws
  // c10::Error naming the field on a bad config.
  static torch::Tensor AlphasCumprod(const nlohmann::json& scheduler);
  static NoiseSchedule::PredictionType PredictionTypeOf(const nlohmann::json& scheduler);
  // The regression target for clean latents z0, noise eps and ab_t (broadcastable to z0).
  static torch::Tensor Target(NoiseSchedule::PredictionType type, const torch::Tensor& z0,
                              const torch::Tensor& eps, const torch::Tensor& ab);
  // "diffusion", "class-embeddings" or "text-encoder": the stage name of what trains (the log,
  // error and checkpoint prefix).
  static const char* PassName(DiffusionTrainerOptions::TunedPart part);
  DiffusionModel& model() { return model_; }
  EmaWeights& ema() { return *ema_; }
  int64_t step() const { return step_; }
  double last_loss() const { return last_loss_; }
  // The PositionProbe loss of the last step (0 when the probe is off).
  double last_probe_loss() const { return last_probe_loss_; }
  // The TokenGrounding loss of the last step (0 when grounding is off).
  double last_grounding_loss() const { return last_grounding_loss_; }

 private:
  double TrainStep();
  // For a pass (tuned != kAll): checks its preconditions (throws c10::Error naming the problem),
  // freezes every weight but the tuned ones, fills pool_ with the examples the pass draws and
  // returns the tuned weights.
  std::vector<torch::Tensor> FreezeAllBut();
  // Adds the enabled auxiliary losses of this step to `total`, weighted, in a fixed order (probe,
  // then grounding: the order is part of a run's arithmetic, so checkpoints resume bit for bit),
  // records them for last_probe_loss / last_grounding_loss and logs them on log steps.
  void AddAuxiliaryLosses(const DiffusionBatch& batch,
                          const std::map<std::string, torch::Tensor>& intermediates,
                          const std::vector<torch::Tensor>& attention_maps, bool grounding,
                          torch::Tensor& total);

  DiffusionTrainerOptions options_;
  const LatentCache* cache_;
  torch::Tensor empty_ids_;       // [L]
  torch::Tensor alphas_cumprod_;  // [T] float64
  NoiseSchedule::PredictionType prediction_type_ = NoiseSchedule::PredictionType::kEpsilon;
  std::filesystem::path dir_;
  DiffusionModel model_{nullptr};
  std::unique_ptr<torch::optim::AdamW> optimizer_;
  std::unique_ptr<EmaWeights> ema_;
  int64_t step_ = 0;
  double last_loss_ = 0;
  double last_probe_loss_ = 0;
  double last_grounding_loss_ = 0;
  TokenGrounding::Assignment grounding_;
  // For a pass: the cache indices it draws from (class-labelled or captioned examples); empty for
  // the diffusion stage, which draws from every example.
  std::vector<int64_t> pool_;
  // The UNet's cross-attention layers (fixed at construction), which record their probabilities
  // for the grounding loss.
  std::vector<nn::AttentionImpl*> cross_attention_;
};

}  // namespace ldm::train
