#include "tools/train/sr_training_run.h"

#include <spdlog/spdlog.h>
#include <torch/torch.h>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "core/common/status_macros.h"
#include "core/common/torch_guard.h"
#include "core/io/safetensors_file.h"
#include "core/io/state_dict_loader.h"
#include "core/nn/autoencoder_kl.h"
#include "tools/train/batch_builder.h"
#include "tools/train/latent_rgb_fitter.h"
#include "tools/train/model_exporter.h"
#include "tools/train/sr_latent_cache.h"
#include "tools/train/sr_pair_builder.h"
#include "tools/train/sr_trainer.h"
#include "tools/train/train_rng.h"

namespace ldm::train {
namespace fs = std::filesystem;

SrTrainingRun::SrTrainingRun(SrTrainingRunOptions options) : options_(std::move(options)) {}

absl::Status SrTrainingRun::Run(const std::string& stage) {
  if (stage == "sr") return Train();
  if (stage == "sr-export") return Export();
  if (stage == "sr-all") {
    LDM_RETURN_IF_ERROR(Train());
    return Export();
  }
  const std::vector<std::string>& stages = Stages();
  return absl::InvalidArgumentError(
      absl::StrCat("--stage ", stage, " must be ",
                   absl::StrJoin(stages.begin(), stages.end() - 1, ", "), " or ", stages.back()));
}

const std::vector<std::string>& SrTrainingRun::Stages() {
  static const std::vector<std::string> stages = {"sr", "sr-export", "sr-all"};
  return stages;
}

absl::Status SrTrainingRun::Train() {
  if (fs::exists(SrDir() / "final" / "state.json")) {
    spdlog::info("sr: done ({} exists)", (SrDir() / "final").string());
    return absl::OkStatus();
  }
  const SrTrainingRunOptions& o = options_;
  LDM_ASSIGN_OR_RETURN(AutoencoderKL vae, LoadAutoencoderKL(o.vae_dir, o.device, torch::kFloat32));
  SrPairBuilder builder(
      {.seed = o.seed, .resolution = o.resolution, .upscale_factor = o.upscale_factor});
  LDM_ASSIGN_OR_RETURN(SrLatentCache cache, SrLatentCache::Build({.size = o.cache_size}, builder,
                                                                 vae, LatentsDir(), o.device));
  SrTrainerOptions t;
  t.unet = o.unet;
  t.scheduler = o.scheduler;
  t.scaling_factor = vae->config().scaling_factor;
  t.vae_scale_factor = static_cast<int>(vae->config().DownsampleFactor());
  t.upscale_factor = o.upscale_factor;
  t.seed = o.seed;
  t.steps = o.steps;
  t.batch_size = o.batch;
  t.lr = LrScheduleOptions::WarmupCosine(o.lr, o.steps, 100, 0.1);
  t.ema_decay = o.ema_decay;
  t.checkpoint_every_steps = o.checkpoint_steps;
  t.checkpoint_every_seconds = o.checkpoint_seconds;
  t.log_every = o.log_every;
  t.device = o.device;
  SrTrainer trainer(t, &cache, SrDir());
  int64_t params = 0;
  for (const auto& p : trainer.unet()->parameters()) params += p.numel();
  spdlog::info(
      "sr: UNet {} parameters, {}x{} -> {}x{}, cache {} pairs, {} steps x batch {}, lr {}, "
      "scaling_factor {:.5f}",
      params, o.resolution / o.upscale_factor, o.resolution / o.upscale_factor, o.resolution,
      o.resolution, cache.size(), t.steps, t.batch_size, t.lr.peak_lr, t.scaling_factor);
  LDM_ASSIGN_OR_RETURN(bool finished, trainer.Train(o.resume, o.max_steps_this_call));
  if (!finished) return absl::CancelledError("sr stopped; rerun with --resume to continue");
  return trainer.WriteFinal();
}

absl::Status SrTrainingRun::Export() {
  const SrTrainingRunOptions& o = options_;
  if (o.out_dir.empty()) return absl::InvalidArgumentError("sr-export needs --out");
  const fs::path final_dir = SrDir() / "final";
  if (!fs::exists(final_dir / "state.json")) {
    return absl::FailedPreconditionError(
        absl::StrCat("sr-export: the sr stage has not finished (", final_dir.string(), ")"));
  }
  SrExportInputs in;
  const fs::path vae_dir = o.export_vae_dir.empty() ? o.vae_dir : o.export_vae_dir;
  LDM_ASSIGN_OR_RETURN(in.vae, LoadAutoencoderKL(vae_dir, o.device, torch::kFloat32));
  LDM_RETURN_IF_ERROR(TorchGuard("sr-export", [&]() -> absl::Status {
    in.unet = UNet2DConditionModel(o.unet);
    LDM_ASSIGN_OR_RETURN(auto file, SafeTensorsFile::Open(final_dir / "unet.safetensors"));
    LDM_RETURN_IF_ERROR(LoadStateDict(*in.unet, *file));
    // Preview factors: the same VAE as the base model, fitted on held-out renders.
    BatchBuilderOptions data;
    data.dataset.seed = o.seed;
    BatchBuilder builder(data);
    std::vector<uint64_t> keys(static_cast<size_t>(o.holdout_images));
    for (size_t i = 0; i < keys.size(); ++i) {
      keys[i] = TrainRng::Hash(o.seed, RngStream::kHoldout, 1, i);
    }
    in.latent_rgb =
        LatentRgbFitter::Fit(in.vae, in.vae->config().scaling_factor, builder.Build(keys).images);
    return absl::OkStatus();
  }));
  in.scheduler = o.scheduler;
  in.upscale_factor = o.upscale_factor;
  in.max_size = 4 * 128;
  in.training = {{"seed", o.seed},
                 {"sr_steps", o.steps},
                 {"sr_batch", o.batch},
                 {"sr_cache_size", o.cache_size},
                 {"resolution", o.resolution},
                 {"vae", vae_dir.string()}};
  LDM_RETURN_IF_ERROR(ModelExporter::ExportSr(in, o.out_dir));
  spdlog::info("sr-export: wrote {}", o.out_dir.string());
  return absl::OkStatus();
}

}  // namespace ldm::train
