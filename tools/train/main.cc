// ldm-train: trains the toy-shapes model (tokenizer, autoencoder, diffusion UNet + text encoder)
// and exports it as a diffusers folder. See docs/MODEL.md.
//
//   ldm-train --stage all --work-dir /work/ldm-train-state --out models/toy-shapes --resume
//
// Exit status: 0 done, 130 stopped by SIGINT/SIGTERM after a checkpoint (rerun with --resume),
// 1 error.
#include <spdlog/spdlog.h>
#include <torch/torch.h>

#include <CLI/CLI.hpp>
#include <string>
#include <vector>

#include "absl/strings/str_join.h"
#include "core/common/autocast_scope.h"
#include "core/pipeline/model_extras.h"
#include "tools/train/sr_training_run.h"
#include "tools/train/stop_signal.h"
#include "tools/train/training_run.h"

int main(int argc, char** argv) {
  CLI::App app{"ldm-train: trains and exports the toy-shapes latent diffusion model"};
  ldm::train::TrainingRunOptions o;
  std::string stage = "all", work_dir, out_dir, device = "cpu";
  int threads = 0;
  bool tiny = false;
  double checkpoint_minutes = 10;
  std::vector<std::string> stages = ldm::train::TrainingRun::Stages();
  stages.insert(stages.end(), ldm::train::SrTrainingRun::Stages().begin(),
                ldm::train::SrTrainingRun::Stages().end());
  app.add_option("--stage", stage, absl::StrJoin(stages, "|"))->check(CLI::IsMember(stages));
  app.add_option("--work-dir", work_dir, "checkpoints and intermediate outputs")->required();
  app.add_option("--out", out_dir, "diffusers folder written by the export stage");
  app.add_option("--seed", o.seed, "seed of every random draw (data, init, noise)");
  app.add_option("--device", device, "cpu, cuda or cuda:N");
  app.add_option("--threads", threads, "torch intra-op threads (0: torch default)");
  app.add_flag("--resume", o.resume, "continue from the latest checkpoints");
  app.add_flag("--tiny", tiny, "a tiny model (for tests and smoke runs)");
  app.add_option("--corpus", o.corpus_size, "captions for the tokenizer");
  app.add_option("--max-length", o.max_length, "tokenizer model_max_length");
  app.add_option("--map-fraction", o.map_fraction, "fraction of map-only examples");
  app.add_option("--ae-steps", o.ae_steps, "autoencoder steps");
  app.add_option("--ae-batch", o.ae_batch, "autoencoder batch size");
  app.add_option("--ae-lr", o.ae_lr, "autoencoder peak learning rate");
  app.add_option("--ae-object-weight", o.ae_object_weight,
                 "autoencoder stage: extra reconstruction weight on object pixels");
  app.add_option("--ae-edge-weight", o.ae_edge_weight,
                 "autoencoder stage: extra reconstruction weight on the band around label edges");
  app.add_option("--decoder-steps", o.decoder_steps,
                 "VAE decoder fine-tuning steps after diffusion (0: none)");
  app.add_option("--decoder-lr", o.decoder_lr, "decoder fine-tuning peak learning rate");
  app.add_option("--edge-decoder-steps", o.edge_decoder_steps,
                 "second decoder fine-tuning, with object/edge pixel weights (0: none)");
  app.add_option("--edge-decoder-lr", o.edge_decoder_lr, "its peak learning rate");
  app.add_option("--decode-latent-padding", o.decode_latent_padding,
                 "the second decoder fine-tuning decodes latents with this many edge-replicated "
                 "cells around them (cropped after); the export makes the model decode the same "
                 "way")
      ->check(CLI::Range(0, ldm::ModelExtras::kMaxDecodeLatentPadding));
  app.add_option("--edge-decoder-object-weight", o.edge_decoder_object_weight,
                 "its extra reconstruction weight on object pixels");
  app.add_option("--edge-decoder-edge-weight", o.edge_decoder_edge_weight,
                 "its extra reconstruction weight on the band around label edges");
  std::string noise_schedule = "zero-snr-v";
  std::string mixed_precision = "off";
  app.add_option("--mixed-precision", mixed_precision,
                 "diffusion stage and its text-encoder / class-embeddings passes: off (float32) "
                 "or bf16 (forward under bfloat16 autocast, float32 weights and losses; ~1.4x "
                 "faster steps on CPUs with AMX / AVX512-BF16)")
      ->check([](const std::string& name) {
        // ParseMixedPrecision owns the list of names; its error is the message.
        absl::StatusOr<ldm::MixedPrecision> p = ldm::ParseMixedPrecision(name);
        return p.ok() ? std::string() : std::string(p.status().message());
      });
  app.add_option("--noise-schedule", noise_schedule,
                 "zero-snr-v (zero terminal SNR, v-prediction, trailing; default) or sd-eps "
                 "(SD 1.x: epsilon, leading; the models of sessions 1-4)")
      ->check(CLI::IsMember({"zero-snr-v", "sd-eps"}));
  app.add_option("--text-pretrain-steps", o.text_pretrain_steps,
                 "text-encoder pre-training on caption facts before diffusion (0: none)");
  app.add_option("--text-pretrain-batch", o.text_pretrain_batch, "its batch size (captions)");
  app.add_option("--text-pretrain-lr", o.text_pretrain_lr, "its peak learning rate");
  app.add_option("--text-pretrain-corpus", o.text_pretrain_corpus, "its captions");
  app.add_option("--text-lr-scale", o.text_lr_scale,
                 "diffusion stage: text-encoder learning rate / UNet learning rate");
  app.add_option("--cond-drop-all", o.cond_drop_all,
                 "diffusion stage: probability that text, class and map are all dropped");
  app.add_option("--cond-keep", o.cond_keep,
                 "diffusion stage: otherwise, probability that each condition is kept");
  app.add_option("--position-probe-weight", o.position_probe_weight,
                 "diffusion stage: weight of the training-only loss that makes UNet features "
                 "encode their own position (0: off; see tools/train/position_probe.h)");
  app.add_option("--grounding-weight", o.grounding_weight,
                 "diffusion stage: weight of the loss that puts each object word's "
                 "cross-attention on its object (0: off; see tools/train/token_grounding.h)");
  app.add_option("--high-noise-fraction", o.high_noise_fraction,
                 "diffusion stage: share of examples whose timestep is drawn from "
                 "[--high-noise-min-t, T) instead of [0, T) (0: uniform)");
  app.add_option("--high-noise-min-t", o.high_noise_min_t, "its lowest timestep (800)");
  app.add_option("--grounding-start-step", o.grounding_start_step,
                 "diffusion step from which the grounding loss is added (0)");
  app.add_option("--high-noise-start-step", o.high_noise_start_step,
                 "diffusion step from which --high-noise-fraction applies (0)");
  app.add_option("--high-noise-end-step", o.high_noise_end_step,
                 "diffusion step from which it no longer applies (-1: never)");
  app.add_option("--unet-lr-steps", o.unet_lr_steps,
                 "steps the diffusion LR schedule spans (0: --unet-steps; later steps use its "
                 "final LR)");
  app.add_option("--unet-steps", o.unet_steps, "diffusion steps");
  int map_subcells = 1;
  app.add_option("--map-subcells", map_subcells,
                 "semantic map sub-cells per latent cell side (1: one area fraction per label and "
                 "cell; 2: four, so the UNet sees region borders at 4-pixel resolution). Sets the "
                 "UNet's in_channels (4 + 7 r^2) and ldm_model.json semantic_map_subcells; a work "
                 "dir keeps one value (its latent cache stores the maps at that resolution)")
      ->check(CLI::IsMember({1, 2, 4, 8}));
  app.add_option("--map-guidance", o.map_only_guidance,
                 "CFG scale the exported model's map-only requests get by default "
                 "(ldm_model.json default_guidance_scale_map_only; 2)")
      ->check(CLI::Range(1.0, 20.0));
  app.add_option("--unet-batch", o.unet_batch,
                 "diffusion batch size (and the class-embedding pass's)");
  app.add_option("--class-embedding-steps", o.class_embedding_steps,
                 "steps of a pass after diffusion that trains only the class embeddings, on "
                 "class-only examples (0: none)");
  app.add_option("--class-embedding-lr", o.class_embedding_lr, "its peak learning rate");
  app.add_option("--text-encoder-steps", o.text_encoder_steps,
                 "steps of a pass after diffusion (before the class-embedding pass) that trains "
                 "only the text encoder, on text-only examples, with --grounding-weight from its "
                 "first step (0: none)");
  app.add_option("--text-encoder-lr", o.text_encoder_lr, "its peak learning rate");
  app.add_option("--unet-lr", o.unet_lr, "diffusion peak learning rate");
  app.add_option("--cache-size", o.cache_size, "examples in the latent cache");
  app.add_option("--clf-steps", o.clf_steps, "noise-aware classifier steps");
  app.add_option("--clf-batch", o.clf_batch, "classifier batch size");
  app.add_option("--clf-lr", o.clf_lr, "classifier peak learning rate");
  app.add_option("--clf-holdout", o.clf_holdout, "labelled cache examples held out for accuracy");
  app.add_option("--ema-decay", o.ema_decay, "EMA decay of the diffusion weights");
  app.add_option("--checkpoint-steps", o.checkpoint_steps, "checkpoint every N steps");
  app.add_option("--checkpoint-minutes", checkpoint_minutes, "and every M minutes");
  app.add_option("--log-every", o.log_every, "progress line every N steps");
  app.add_option("--max-steps", o.max_steps_this_call,
                 "stop each training stage after N steps in this call (benchmarks)");
  app.add_option("--holdout-images", o.holdout_images, "images for scaling factor / PSNR / fit");
  // Super-resolution (models/toy-shapes-sr; see docs/MODEL.md): --stage sr|sr-export|sr-all.
  ldm::train::SrTrainingRunOptions sr;
  std::string sr_vae, sr_export_vae;
  app.add_option("--sr-vae", sr_vae,
                 "the trained VAE folder the SR stage encodes with (default "
                 "<work-dir>/autoencoder/vae)");
  app.add_option("--sr-export-vae", sr_export_vae, "the VAE sr-export ships (default --sr-vae)");
  app.add_option("--sr-steps", sr.steps, "super-resolution UNet steps");
  app.add_option("--sr-batch", sr.batch, "super-resolution batch size");
  app.add_option("--sr-lr", sr.lr, "super-resolution peak learning rate");
  app.add_option("--sr-cache-size", sr.cache_size, "super-resolution pairs in the latent cache");
  app.add_option("--sr-resolution", sr.resolution, "high-resolution side of the SR pairs");
  CLI11_PARSE(app, argc, argv);

  o.work_dir = work_dir;
  o.out_dir = out_dir;
  o.checkpoint_seconds = checkpoint_minutes * 60.0;
  if (tiny) o.configs = ldm::train::ToyModelConfigs::Tiny();
  o.configs.SetMapSubcells(map_subcells);
  o.configs.scheduler = ldm::train::ToyModelConfigs::SchedulerConfig(
      noise_schedule == "sd-eps" ? ldm::train::NoiseScheduleRecipe::kStableDiffusion
                                 : ldm::train::NoiseScheduleRecipe::kZeroSnrV);
  o.mixed_precision = *ldm::ParseMixedPrecision(mixed_precision);  // checked above
  try {
    o.device = torch::Device(device);
  } catch (const std::exception& e) {
    spdlog::error("--device {}: {}", device, e.what());
    return 1;
  }
  if (o.device.is_cuda() && !torch::cuda::is_available()) {
    spdlog::error("--device {}: CUDA is not available", device);
    return 1;
  }
  if (threads > 0) {
    torch::set_num_threads(threads);
  }
  spdlog::info("ldm-train: stage {} work dir {} device {} threads {}", stage, work_dir, device,
               torch::get_num_threads());
  ldm::train::StopSignal::Install();
  absl::Status status;
  if (stage.rfind("sr", 0) == 0) {
    sr.work_dir = o.work_dir;
    sr.vae_dir =
        sr_vae.empty() ? o.work_dir / "autoencoder" / "vae" : std::filesystem::path(sr_vae);
    sr.export_vae_dir = sr_export_vae.empty() ? sr.vae_dir : std::filesystem::path(sr_export_vae);
    sr.out_dir = o.out_dir;
    sr.seed = o.seed;
    sr.device = o.device;
    sr.resume = o.resume;
    sr.unet = o.configs.sr_unet;
    sr.scheduler = o.configs.sr_scheduler;
    sr.ema_decay = o.ema_decay;
    sr.checkpoint_steps = o.checkpoint_steps;
    sr.checkpoint_seconds = o.checkpoint_seconds;
    sr.log_every = o.log_every;
    sr.max_steps_this_call = o.max_steps_this_call;
    status = ldm::train::SrTrainingRun(sr).Run(stage);
  } else {
    status = ldm::train::TrainingRun(o).Run(stage);
  }
  if (absl::IsCancelled(status)) {
    spdlog::warn("{}", std::string(status.message()));
    return 130;
  }
  if (!status.ok()) {
    spdlog::error("{}", status.ToString());
    return 1;
  }
  spdlog::info("ldm-train: stage {} finished", stage);
  return 0;
}
