// Turns ldm-client's generate flags into a GenerateRequest. Checks only what the server cannot
// (a readable semantic map file, a known sampler name); ranges are the server's to check, so its
// messages stay the single source of truth.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "ldm/v1/image_generation.pb.h"

namespace ldm::client {

struct GenerateFlags {
  std::string model;
  std::string prompt;
  std::string negative_prompt;
  std::string class_condition;   // "" = none; all digits = class_label, else class_name
  std::string semantic_map_png;  // a PNG file path; "" = none
  uint32_t width = 0;
  uint32_t height = 0;
  uint32_t num_images = 1;
  uint32_t steps = 0;
  std::optional<float> guidance_scale;
  std::optional<float> eta;  // DDIM only; unset = the model's default_eta
  std::string sampler;       // "" = the model's; names like "euler-ancestral" or "EULER_ANCESTRAL"
  uint64_t seed = 0;
  uint32_t preview_every = 0;
  std::string preview_quality;    // "" = the server's default (fast), "fast" or "full"
  float classifier_scale = 0;     // classifier guidance (needs a class and a model classifier)
  std::string low_res_image_png;  // a PNG file path for super-resolution models; "" = none
  bool upscale = false;           // chain the images through a super-resolution model
  std::string upscale_model;      // "" = the server's first upscaler
  uint32_t upscale_steps = 0;     // 0 = the upscaler's default
  std::string request_id;
};

class RequestBuilder {
 public:
  // INVALID_ARGUMENT for an unknown sampler or preview quality name, NOT_FOUND for an
  // unreadable map or low-res image file.
  static absl::StatusOr<v1::GenerateRequest> Build(const GenerateFlags& flags);
  static absl::StatusOr<v1::Sampler> ParseSampler(const std::string& name);
  // "euler_ancestral" for EULER_ANCESTRAL.
  static std::string SamplerName(v1::Sampler sampler);
};

}  // namespace ldm::client
