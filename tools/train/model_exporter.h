// ModelExporter: writes a trained model as a diffusers folder ldm::Pipeline::Load reads:
//   model_index.json                      StableDiffusionPipeline, DDIMScheduler
//   tokenizer/                            the learned CLIP BPE tokenizer (copied)
//   text_encoder/{config.json,model.safetensors}
//   unet/{config.json,diffusion_pytorch_model.safetensors}
//   vae/{config.json,diffusion_pytorch_model.safetensors}   (VAE kept in float32)
//   scheduler/scheduler_config.json
//   ldm_model.json                        class names, null class, semantic labels, latent->RGB
//                                         preview factors, CFG unconditional rule, defaults
// UNet and text encoder weights are stored as float16 (half the size; the pipeline casts on
// load). Files are written to <out>.tmp-export and the folder is swapped in at the end.
#pragma once

#include <filesystem>

#include "absl/status/status.h"
#include "core/nn/autoencoder_kl.h"
#include "core/nn/unet_2d_condition_model.h"
#include "core/text/clip_text_model.h"
#include "nlohmann/json.hpp"
#include "tools/train/latent_rgb_fitter.h"

namespace ldm::train {

// ldm_model.json default_guidance_scale_map_only unless a run says otherwise (ldm-train
// --map-guidance): models with one map fraction per latent cell have their best held-out map
// mIoU at w=1-2, falling above (docs/MODEL.md, "Sampling defaults"). The shipped sub-cell model
// is best at w=1.25, which tools/train/run_training.sh passes (docs/MODEL.md, "Session 17").
inline constexpr double kDefaultMapOnlyGuidance = 2.0;

struct ExportInputs {
  std::filesystem::path tokenizer_dir;
  AutoencoderKL vae{nullptr};
  UNet2DConditionModel unet{nullptr};
  ClipTextModel text_encoder{nullptr};
  nlohmann::json scheduler;
  int64_t bos_token_id = 0;
  int64_t pad_token_id = 0;
  LatentRgbFit latent_rgb;
  bool half_precision = true;
  int null_class_label = 18;
  double default_guidance_scale = 5.0;
  // DDIM's eta for requests without one: 1 (ancestral, DDPM-like) samples the toy model's
  // conditions more faithfully than deterministic DDIM (docs/MODEL.md, "Sampling defaults").
  double default_eta = 1.0;
  // The default guidance of map-only requests (TrainingRunOptions::map_only_guidance sets it).
  double default_guidance_scale_map_only = kDefaultMapOnlyGuidance;
  // ldm_model.json decode_latent_padding: the latent margin the decoder was trained to decode
  // with (docs/MODEL.md, "Decoding with a latent margin").
  int decode_latent_padding = 0;
  // ldm_model.json semantic_map_subcells: the map encoding the UNet was trained with; its
  // in_channels must be latent channels + 7 * semantic_map_subcells^2 (Export checks).
  int semantic_map_subcells = 1;
  int default_steps = 25;
  int max_size = 256;
  // Extra facts recorded under "training" in ldm_model.json (steps, seed, ...).
  nlohmann::json training = nlohmann::json::object();
};

// The super-resolution model (models/toy-shapes-sr): the base model's VAE (same weights: a
// convolutional f=8 autoencoder works at any size), the SR UNet and the scheduler; no tokenizer
// or text encoder (model_index.json lists them as null).
struct SrExportInputs {
  AutoencoderKL vae{nullptr};
  UNet2DConditionModel unet{nullptr};
  nlohmann::json scheduler;
  int upscale_factor = 4;
  int back_projection = 5;  // ldm_model.json low_res_image.back_projection (docs/MODEL.md)
  LatentRgbFit latent_rgb;
  bool half_precision = true;
  int default_steps = 25;
  int max_size = 512;
  nlohmann::json training = nlohmann::json::object();
};

class ModelExporter {
 public:
  static absl::Status Export(const ExportInputs& inputs, const std::filesystem::path& out);
  // The ldm_model.json content.
  static nlohmann::json Extras(const ExportInputs& inputs);

  // Writes an SrExportInputs folder like Export does (tmp folder, swapped in at the end).
  static absl::Status ExportSr(const SrExportInputs& inputs, const std::filesystem::path& out);
  // Its ldm_model.json: low_res_image {upscale_factor, "pixel_unshuffle"}, previews, defaults
  // (ddim, guidance 1: there is no unconditional model to guide against).
  static nlohmann::json SrExtras(const SrExportInputs& inputs);
};

}  // namespace ldm::train
