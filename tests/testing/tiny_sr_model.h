// Tiny, untrained pixel-conditioned model folders for tests (no fixtures needed): a
// super-resolution model and a semantic-map model.
//
// The SR model's layout is like models/toy-shapes-sr: an AutoencoderKL with f = 8 (4 levels of 8
// channels), a UNet2DConditionModel with DownBlock2D/UpBlock2D only (no text encoder, no tokenizer)
// whose in_channels are 4 latent + 12 = 3 * 2^2 pixel-unshuffled low-resolution channels, a DDIM
// scheduler and ldm_model.json {"low_res_image": {"upscale_factor": 4}}: a 4x upscaler
// (e.g. 16x16 -> 64x64). Weights are random from a fixed torch seed.
#pragma once

#include <filesystem>
#include <string>

#include "absl/status/status.h"

namespace ldm::testing {

// Writes the folder to `dir` (created); `back_projection` and `init` ("noise" or
// "noised_input") go to ldm_model.json's low_res_image. Errors: I/O failures.
absl::Status WriteTinySrModel(const std::filesystem::path& dir, int back_projection = 0,
                              const std::string& init = "noise");

// The same VAE and scheduler with a map-only UNet: 3 labels ("background", "red", "blue"),
// ldm_model.json "semantic_map_subcells": `subcells` and a UNet whose in_channels are 4 latent +
// 3 * unet_subcells^2 map channels (unet_subcells 0: = subcells; another value writes a folder
// whose two disagree, for error tests). Native size 64x64 (8x8 latents).
absl::Status WriteTinyMapModel(const std::filesystem::path& dir, int subcells,
                               int unet_subcells = 0);

}  // namespace ldm::testing
