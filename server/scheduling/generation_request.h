// A request as the scheduler sees it: already validated and converted from the API, one JobSpec
// per image (seeds filled in), plus scheduling parameters and the sink for its events.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/time/time.h"
#include "core/pipeline/job_spec.h"
#include "server/scheduling/result_sink.h"

namespace ldm::server {

// Chained super-resolution (GenerateRequest.upscale): when the request's images are decoded, the
// worker runs each through `model` (a super-resolution engine on the same device) as a
// low_res_image job with the image's seed, and the upscaled images are what the request returns.
struct UpscaleStage {
  std::string model;    // a loaded model with ModelInfo::supports_low_res_image
  int steps = 25;
  std::string sampler;  // "" = the upscaler's default
  double guidance_scale = 1.0;
};

struct GenerationRequest {
  std::string request_id;
  std::string model;                 // resolved model name (never empty here)
  std::vector<JobSpec> images;       // one per image, in index order
  int preview_every = 0;             // 0: no previews
  PreviewQuality preview_quality = PreviewQuality::kFast;
  int priority = 0;                  // higher first
  std::optional<absl::Time> deadline;
  std::optional<UpscaleStage> upscale;  // unset: return the images as generated
  std::shared_ptr<ResultSink> sink;  // required
};

}  // namespace ldm::server
