// Validates an API GenerateRequest against the model it names and converts it into the
// scheduler's GenerationRequest (one JobSpec per image, seeds filled in, no proto inside).
//
// Defaults: model "" = the catalog's default; width/height 0 = the model's native size;
// steps 0 = the model's default; guidance_scale unset = the model's default; num_images 0 = 1;
// sampler SAMPLER_UNSPECIFIED = the model's scheduler; seed 0 = a random seed (image i uses
// seed + i, and the response reports each); request_id "" = a generated id. Super-resolution
// models take low_res_image (a PNG, decoded to RGB; width/height 0 = its size x upscale_factor);
// upscale chains a super-resolution model after the generation (GenerationRequest::upscale).
// Errors: NOT_FOUND for an unknown model; INVALID_ARGUMENT naming the request id, the field and
// the allowed range for everything else (see docs/API.md for the list). The caller sets the
// sink and the deadline of the returned request.
// Thread safety: Convert is const and safe from any thread; the catalog must outlive this.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

#include "absl/status/statusor.h"
#include "core/pipeline/job_spec.h"
#include "ldm/v1/image_generation.pb.h"
#include "server/rpc/model_catalog.h"
#include "server/scheduling/generation_request.h"

namespace ldm::server {

struct RequestLimits {
  size_t max_prompt_bytes = 2000;  // prompt and negative_prompt, UTF-8 bytes
  int max_steps = kMaxSteps;
  double max_guidance_scale = kMaxGuidanceScale;
  double max_classifier_scale = kMaxClassifierScale;
  int max_images = 8;
  size_t max_request_id_bytes = 128;
};

class RequestConverter {
 public:
  explicit RequestConverter(const ModelCatalog* catalog, RequestLimits limits = {});

  absl::StatusOr<GenerationRequest> Convert(const v1::GenerateRequest& request) const;

  const RequestLimits& limits() const { return limits_; }

  // A fresh request id ("req-" + 16 hex digits).
  static std::string NewRequestId();
  // A random seed in [1, 2^53): non-zero, and exact in any client language's doubles.
  static uint64_t RandomSeed();

 private:
  // GenerateRequest.upscale*: the UpscaleStage of `out` (whose images are `spec`-sized).
  absl::Status ConvertUpscale(const v1::GenerateRequest& in, const JobSpec& spec,
                              GenerationRequest* out) const;

  const ModelCatalog* const catalog_;
  const RequestLimits limits_;
};

}  // namespace ldm::server
