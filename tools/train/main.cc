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

#include "tools/train/stop_signal.h"
#include "tools/train/training_run.h"

int main(int argc, char** argv) {
  CLI::App app{"ldm-train: trains and exports the toy-shapes latent diffusion model"};
  ldm::train::TrainingRunOptions o;
  std::string stage = "all", work_dir, out_dir, device = "cpu";
  int threads = 0;
  bool tiny = false;
  double checkpoint_minutes = 10;
  app.add_option("--stage", stage, "all|tokenizer|autoencoder|diffusion|export")
      ->check(CLI::IsMember({"all", "tokenizer", "autoencoder", "diffusion", "export"}));
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
  app.add_option("--unet-steps", o.unet_steps, "diffusion steps");
  app.add_option("--unet-batch", o.unet_batch, "diffusion batch size");
  app.add_option("--unet-lr", o.unet_lr, "diffusion peak learning rate");
  app.add_option("--cache-size", o.cache_size, "examples in the latent cache");
  app.add_option("--ema-decay", o.ema_decay, "EMA decay of the diffusion weights");
  app.add_option("--checkpoint-steps", o.checkpoint_steps, "checkpoint every N steps");
  app.add_option("--checkpoint-minutes", checkpoint_minutes, "and every M minutes");
  app.add_option("--log-every", o.log_every, "progress line every N steps");
  app.add_option("--max-steps", o.max_steps_this_call,
                 "stop each training stage after N steps in this call (benchmarks)");
  app.add_option("--holdout-images", o.holdout_images, "images for scaling factor / PSNR / fit");
  CLI11_PARSE(app, argc, argv);

  o.work_dir = work_dir;
  o.out_dir = out_dir;
  o.checkpoint_seconds = checkpoint_minutes * 60.0;
  if (tiny) o.configs = ldm::train::ToyModelConfigs::Tiny();
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
  ldm::train::TrainingRun run(o);
  absl::Status status = run.Run(stage);
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
