// ldm's own additions to a diffusers model folder, read from <root>/ldm_model.json (optional).
//
//   {
//     "class_names": ["red circle", ...],     // index = class label (UNet num_class_embeds)
//     "null_class_label": 18,                  // the "no class" embedding used for guidance
//     "semantic_labels": ["background", "red", ...],  // index = label value = one-hot channel
//     "semantic_map_subcells": 2,              // map sub-cells per latent cell side (default 1)
//     "latent_rgb_factors": [[r, g, b], ...],  // one row per latent channel: fast previews
//     "latent_rgb_bias": [r, g, b],
//     "cfg_unconditional": {"class": "null" | "keep", "semantic_map": "zero" | "keep"},
//     "default_sampler": "ddim", "default_steps": 25, "default_guidance_scale": 5.0,
//     "default_eta": 1.0,                      // DDIM's eta when a request gives none, in [0, 1]
//     "default_guidance_scale_map_only": 2.0,  // ... for requests whose only condition is a map
//     "decode_latent_padding": 1,              // cells of edge padding around decoded latents
//     "max_size": 256,
//     "low_res_image": {"upscale_factor": 4, "to_latent": "pixel_unshuffle",
//                       "back_projection": 5, "init": "noised_input"}  // super-resolution
//   }
// low_res_image marks a super-resolution model: its UNet input is [latents, map channels (if
// any), the low-resolution image brought to latent resolution] (see low_res_conditioning.h).
// Folders without the file (e.g. Stable Diffusion) get the defaults below. See docs/MODEL.md.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "core/io/model_config.h"

namespace ldm {

struct LowResImageExtras {
  int upscale_factor = 4;                     // output size / low-resolution image size
  std::string to_latent = "pixel_unshuffle";  // the only implemented way to latent resolution
  int back_projection = 0;  // iterations of LowResConditioning::BackProject on decoded images
  // Initial latents: pure noise (diffusers' upscaler), or the VAE encoding of the bicubic-upscaled
  // input noised to the first timestep ("noised_input").
  enum class Init { kNoise, kNoisedInput };
  Init init = Init::kNoise;
};

struct ModelExtras {
  static constexpr int kMaxDecodeLatentPadding = 8;
  static constexpr int kMaxSemanticMapSubcells = 8;

  std::vector<std::string> class_names;
  std::optional<int> null_class_label;
  std::vector<std::string> semantic_labels;
  // How a semantic map reaches the UNet: each latent cell is split into r x r sub-cells and the
  // UNet takes, per label, the fraction of each sub-cell's pixels with that label, i.e. labels *
  // r^2 channels (pixel_unshuffle order: label-major, then sub-cell row, then column). r = 1 is
  // plain area downsampling to latent resolution (the LDM paper's semantic synthesis); r > 1 keeps
  // where a region's border runs inside a cell. In [1, kMaxSemanticMapSubcells]; must divide the
  // VAE's downsampling factor (checked by Pipeline::Load).
  int semantic_map_subcells = 1;
  std::vector<std::vector<double>> latent_rgb_factors;  // [latent_channels][3]
  std::vector<double> latent_rgb_bias;                  // [3] or empty
  bool uncond_null_class = false;  // CFG's unconditional row uses null_class_label
  bool uncond_zero_map = false;    // CFG's unconditional row has an all-zero map
  std::string default_sampler;     // empty: the scheduler config's class
  int default_steps = 25;
  double default_guidance_scale = 7.5;
  double default_eta = 0.0;  // DDIM only; requests that set eta override it
  // default_guidance_scale for requests conditioned on a semantic map alone (unset: the general
  // default). Maps need less guidance than text and classes: it over-saturates their regions.
  std::optional<double> default_guidance_scale_map_only;
  // Latent cells (in [0, kMaxDecodeLatentPadding]) added on each side by edge replication before
  // the VAE decodes; the decoded margin is cropped away, so images keep their size. For
  // autoencoders whose decoder reads a border mark their encoder writes into the outer latent
  // cells: sampled latents lack it and decode with stripes along the image border (docs/MODEL.md,
  // "Decoding with a latent margin"). Costs ((h + 2p)(w + 2p)) / (h w) of a plain decode.
  int decode_latent_padding = 0;
  int max_size = 2048;
  std::optional<LowResImageExtras> low_res_image;  // set: a super-resolution model

  // Parses ldm_model.json; INVALID_ARGUMENT naming the field for malformed values.
  static absl::StatusOr<ModelExtras> FromConfig(const ModelConfig& config);
};

}  // namespace ldm
