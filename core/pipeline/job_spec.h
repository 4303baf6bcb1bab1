// What one image generation asks for: plain data, no torch, no gRPC.
//
// The server converts each request into one JobSpec per image (seed, seed+1, ...), so that every
// image has its own sampler state and random generator and does not depend on what else is in
// the batch. Validation against a model's limits happens in Pipeline::CreateJob.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/io/png_codec.h"

namespace ldm {

enum class PreviewQuality { kFast, kFull };

// The largest accepted JobSpec::classifier_scale (ADM used up to 10 on ImageNet).
inline constexpr double kMaxClassifierScale = 100.0;
// The accepted JobSpec::steps are [1, kMaxSteps] and guidance_scale [0, kMaxGuidanceScale]
// (Pipeline::CreateJob); a model's defaults in ldm_model.json obey the same ranges.
inline constexpr int kMaxSteps = 1000;
inline constexpr double kMaxGuidanceScale = 30.0;

// A per-pixel label map (0 = background, 1.. = labels of the model's "semantic_labels"). Its size
// is either the image size or the latent size (image / vae_scale_factor).
struct LabelMap {
  int width = 0;
  int height = 0;
  std::vector<uint8_t> labels;  // height * width
};

struct JobSpec {
  std::string request_id;       // for error messages and logs
  std::string prompt;           // empty: unconditional text
  std::string negative_prompt;  // the unconditional row's text when guidance > 1
  std::optional<int> class_label;
  std::optional<LabelMap> semantic_map;
  // Super-resolution models only (ModelInfo::supports_low_res_image): the RGB image to upscale
  // (channels 3), exactly width/upscale_factor x height/upscale_factor; width/height 0 = its size
  // times the factor.
  std::optional<Image8> low_res_image;
  int width = 0;  // 0: the model's native size
  int height = 0;
  int steps = 25;
  double guidance_scale = 5.0;  // <= 1: conditional row only
  std::string sampler;          // "" = the model's scheduler; else ddpm, ddim, pndm, euler, ...
  double eta = 0.0;             // DDIM only
  uint64_t seed = 0;            // the job's generator seed (callers pick one when the user gave 0)
  int clip_skip = 0;            // 0: last layer; 1: penultimate layer (+ final layer norm)
  // Classifier guidance strength s (0: off). > 0 needs class_label and a model with a classifier;
  // combinable with guidance_scale (see core/pipeline/classifier_guidance.h).
  double classifier_scale = 0.0;
};

// Latent shape of a job; jobs share a UNet forward only when this matches.
struct LatentShape {
  int channels = 0;
  int height = 0;
  int width = 0;
  bool operator==(const LatentShape&) const = default;
  auto operator<=>(const LatentShape&) const = default;
};

}  // namespace ldm
