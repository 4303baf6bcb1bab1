// TrainingRun: the stages of ldm-train over one work directory.
//
//   tokenizer    ClipBpeTrainer on the caption corpus   -> <work>/tokenizer/
//   text-pretrain  TextEncoderPretrainer on parsed captions -> <work>/text-pretrain/
//                {checkpoints,final}/ (skipped when text_pretrain_steps is 0); the diffusion stage
//                then starts its text encoder from final/text_encoder.safetensors
//   autoencoder  AutoencoderTrainer                     -> <work>/autoencoder/{checkpoints,vae}/
//   diffusion    LatentCache + DiffusionTrainer         -> <work>/latents/, <work>/diffusion/
//   text-encoder  DiffusionTrainer, TunedPart::kTextEncoder (with the run's grounding weight),
//                from diffusion/final/ rounded to float16 -> <work>/text-encoder/{checkpoints,
//                final}/ (skipped when text_encoder_steps is 0)
//   class-embeddings  DiffusionTrainer, TunedPart::kClassEmbeddings, from text-encoder/final/
//                (else diffusion/final/) rounded to float16 -> <work>/class-embeddings/
//                {checkpoints,final}/ (skipped when class_embedding_steps is 0); the export ships
//                the last pass's final/
//   decoder      AutoencoderTrainer, decoder_only       -> <work>/decoder/{checkpoints,vae}/
//                (skipped when decoder_steps is 0; the encoder and latents stay as they are)
//   decoder-edges  a second decoder_only pass from the previous stage's VAE with object and
//                edge pixel weights (AutoencoderTrainerOptions::object_weight / edge_weight), on
//                data of seed + 1            -> <work>/decoder-edges/{checkpoints,vae}/
//                (skipped when edge_decoder_steps is 0)
//   export       ModelExporter                          -> <out>/ (diffusers folder; with
//                classifier/ when the classifier stage has finished)
//   classifier   ClassifierTrainer on the latent cache  -> <work>/classifier/{checkpoints,final}/
//                (needs the diffusion stage's latent cache; not part of "all")
//   classifier-export                                   -> <out>/classifier/ (an exported model)
//   all          tokenizer, text-pretrain, autoencoder, diffusion, text-encoder,
//                class-embeddings, decoder, decoder-edges, export
//                in order
//
// Every stage is idempotent: a finished stage (its output exists) is skipped, an interrupted one
// continues from its latest checkpoint when options.resume is set. Run() returns CANCELLED when a
// StopSignal (SIGINT/SIGTERM) stopped it after writing a checkpoint.
// Not thread-safe.
#pragma once

#include <torch/types.h>

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "core/text/clip_tokenizer.h"
#include "tools/train/autoencoder_trainer.h"
#include "tools/train/diffusion_trainer.h"
#include "tools/train/latent_cache.h"
#include "tools/train/model_exporter.h"
#include "tools/train/toy_model_configs.h"

namespace ldm::train {

struct TrainingRunOptions {
  std::filesystem::path work_dir;
  std::filesystem::path out_dir;
  uint64_t seed = 0;
  torch::Device device = torch::kCPU;
  // DiffusionTrainerOptions::mixed_precision of the diffusion stage and both passes.
  MixedPrecision mixed_precision = MixedPrecision::kOff;
  bool resume = false;
  ToyModelConfigs configs = ToyModelConfigs::Default();
  // Tokenizer.
  int64_t corpus_size = 100000;
  int merges = 800;
  int max_length = 32;
  // Data.
  double map_fraction = 0.3;
  // Autoencoder.
  int64_t ae_steps = 1100;
  int64_t ae_batch = 32;
  double ae_lr = 6e-4;
  // AutoencoderTrainerOptions::object_weight / edge_weight of the autoencoder stage.
  double ae_object_weight = 0.0;
  double ae_edge_weight = 0.0;
  // Decoder fine-tuning after the diffusion stage (0: none).
  int64_t decoder_steps = 0;
  double decoder_lr = 2e-4;
  // Decoder fine-tuning with object/edge pixel weights after that (0: none).
  int64_t edge_decoder_steps = 0;
  double edge_decoder_lr = 2e-4;
  double edge_decoder_object_weight = 2.0;
  double edge_decoder_edge_weight = 8.0;
  // The decoder-edges pass decodes with this latent margin (AutoencoderTrainerOptions::
  // decode_latent_padding); the export writes the final VAE's recorded margin to ldm_model.json.
  int64_t decode_latent_padding = 0;
  // ldm_model.json default_guidance_scale_map_only: the CFG scale the server gives map-only
  // requests that leave it unset (the map rows' best scale depends on the model; docs/MODEL.md).
  double map_only_guidance = kDefaultMapOnlyGuidance;
  // Text-encoder pre-training on caption facts (0: none; see TextEncoderPretrainer).
  int64_t text_pretrain_steps = 0;
  int64_t text_pretrain_batch = 256;
  double text_pretrain_lr = 1e-3;
  int64_t text_pretrain_corpus = 65536;
  // Diffusion. A finished stage (final/ written) with fewer steps than unet_steps continues from
  // its latest checkpoint.
  int64_t unet_steps = 7000;
  // Steps the warm-up + cosine LR schedule spans (0: unet_steps); later steps train at its final
  // LR (a low-LR tail that extends a run without changing its first unet_lr_steps).
  int64_t unet_lr_steps = 0;
  // The text encoder's learning rate relative to the UNet's in the diffusion stage.
  double text_lr_scale = 1.0;
  // ConditionDropoutOptions of the diffusion stage.
  double cond_drop_all = 0.1;
  double cond_keep = 0.5;
  // DiffusionTrainerOptions::position_probe_weight (0: no probe).
  double position_probe_weight = 0.0;
  // DiffusionTrainerOptions::grounding_weight (0: no cross-attention grounding loss).
  double grounding_weight = 0.0;
  int64_t grounding_start_step = 0;
  // DiffusionTrainerOptions::high_noise_fraction / high_noise_min_t / high_noise_start_step.
  double high_noise_fraction = 0.0;
  int64_t high_noise_min_t = 800;
  int64_t high_noise_start_step = 0;
  int64_t high_noise_end_step = -1;
  // Passes after the diffusion stage (0 steps: none), in this order: the text encoder
  // (DiffusionTrainerOptions::TunedPart::kTextEncoder, with grounding_weight), then the class
  // embeddings (kClassEmbeddings); each steps x unet_batch, 50 warm-up steps + cosine LR to 10%.
  int64_t text_encoder_steps = 0;
  double text_encoder_lr = 1e-4;
  int64_t class_embedding_steps = 0;
  double class_embedding_lr = 1e-3;
  int64_t unet_batch = 64;
  double unet_lr = 4e-4;
  int64_t cache_size = 65536;
  double ema_decay = 0.999;
  // Bookkeeping.
  int64_t checkpoint_steps = 500;
  double checkpoint_seconds = 600;
  int64_t log_every = 10;
  // Noise-aware classifier (classifier guidance).
  int64_t clf_steps = 2000;
  int64_t clf_batch = 128;
  double clf_lr = 1e-3;
  int64_t clf_holdout = 1024;
  // Stop each training stage after this many steps in this call (-1: no limit); for benchmarks.
  int64_t max_steps_this_call = -1;
  int64_t holdout_images = 512;
};

class TrainingRun {
 public:
  explicit TrainingRun(TrainingRunOptions options);

  // The stages Run accepts, in recipe order: all, tokenizer, text-pretrain, autoencoder,
  // diffusion, text-encoder, class-embeddings, decoder, decoder-edges, export, classifier,
  // classifier-export.
  static const std::vector<std::string>& Stages();
  // One of Stages(); INVALID_ARGUMENT naming them for any other.
  absl::Status Run(const std::string& stage);

  absl::Status Tokenizer();
  absl::Status TextPretrain();
  absl::Status Autoencoder();
  absl::Status Diffusion();
  absl::Status ClassEmbeddings();
  absl::Status TextEncoderPass();
  absl::Status Decoder();
  absl::Status EdgeDecoder();
  absl::Status Export();
  absl::Status Classifier();
  absl::Status ClassifierExport();

  std::filesystem::path TokenizerDir() const { return options_.work_dir / "tokenizer"; }
  std::filesystem::path TextPretrainDir() const { return options_.work_dir / "text-pretrain"; }
  std::filesystem::path AutoencoderDir() const { return options_.work_dir / "autoencoder"; }
  std::filesystem::path VaeDir() const { return AutoencoderDir() / "vae"; }
  std::filesystem::path DecoderDir() const { return options_.work_dir / "decoder"; }
  std::filesystem::path EdgeDecoderDir() const { return options_.work_dir / "decoder-edges"; }
  // The VAE the exported model ships: the last decoder fine-tuning's that ran (decoder-edges,
  // then decoder), else the autoencoder stage's.
  std::filesystem::path FinalVaeDir() const;
  std::filesystem::path LatentsDir() const { return options_.work_dir / "latents"; }
  std::filesystem::path DiffusionDir() const { return options_.work_dir / "diffusion"; }
  std::filesystem::path ClassEmbeddingsDir() const {
    return options_.work_dir / "class-embeddings";
  }
  std::filesystem::path TextEncoderDir() const { return options_.work_dir / "text-encoder"; }
  // The UNet + text encoder the export ships: the last pass's final/ that has run
  // (class-embeddings, then text-encoder), else the diffusion stage's.
  std::filesystem::path FinalDiffusionDir() const;
  std::filesystem::path ClassifierDir() const { return options_.work_dir / "classifier"; }

 private:
  // `seed_offset` is added to the run's seed for the stage's data and noise (a later stage sees
  // other images than an earlier one).
  AutoencoderTrainerOptions AutoencoderOptions(int64_t steps, double lr,
                                               uint64_t seed_offset = 0) const;
  // The diffusion stage's latent pool under LatentsDir(), encoded with `vae` on first use;
  // read_only: a missing chunk is an error instead of being encoded (see LatentCacheOptions).
  absl::StatusOr<LatentCache> BuildLatentCache(const ClipTokenizer& tokenizer, AutoencoderKL& vae,
                                               bool read_only) const;
  // The scheduler config the diffusion stage trains with, pinned in
  // DiffusionDir()/scheduler_config.json when that stage first starts, so that a resume, the
  // export and the classifier use the schedule the UNet was trained on even if the run's
  // --noise-schedule differs. for_training: FAILED_PRECONDITION naming --noise-schedule when the
  // pinned config differs from the run's (a resumed UNet must not switch schedules), else pins
  // it. Otherwise: the pinned config, or the run's when none is pinned (runs before session 5).
  absl::StatusOr<nlohmann::json> DiffusionScheduler(bool for_training) const;
  // A pass that tunes one part of the finished model (ClassEmbeddings, TextEncoderPass): skipped
  // when steps is 0 or its final/ exists; FAILED_PRECONDITION before the diffusion stage has
  // finished.
  absl::Status TunedPass(DiffusionTrainerOptions::TunedPart part, int64_t steps, double lr);
  // With o.grounding_weight > 0: assigns the cache's tokens to their objects (TokenGrounding),
  // logs the count and hands the assignment to `trainer`; a no-op otherwise.
  absl::Status SetTokenGrounding(const DiffusionTrainerOptions& o, const ClipTokenizer& tokenizer,
                                 const LatentCache& cache, DiffusionTrainer& trainer) const;
  // What the diffusion stage and the passes share: the model configs, the VAE's
  // scaling factor, seed, batch size, null class, checkpointing, logging and device.
  DiffusionTrainerOptions CommonDiffusionOptions(const ClipTokenizer& tokenizer,
                                                 double scaling_factor) const;
  // configs.text with the learned tokenizer's vocabulary size, EOS id and length.
  ClipTextConfig TextConfig(const ClipTokenizer& tokenizer) const;
  absl::Status TrainAutoencoder(const char* stage, const AutoencoderTrainerOptions& o,
                                const std::filesystem::path& dir);

  TrainingRunOptions options_;
};

}  // namespace ldm::train
