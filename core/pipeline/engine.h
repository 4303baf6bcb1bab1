// The step-level interface between the scheduler and a model replica.
//
// A server worker owns one Engine (one model replica on one device) and drives it with
// continuous batching: CreateJob at admission, Step over all active jobs of one latent shape once
// per iteration, Decode when jobs finish, Preview every k steps. The real implementation is
// ldm::Pipeline; tests use a fake.
//
// Thread safety: an Engine is used by one thread at a time (its worker). Errors are returned, never
// thrown. A failure that concerns one job is reported for that job only.
#pragma once

#include <memory>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/types/span.h"
#include "core/io/png_codec.h"
#include "core/pipeline/job.h"
#include "core/pipeline/job_spec.h"
#include "core/pipeline/model_info.h"

namespace ldm {

class Engine {
 public:
  virtual ~Engine() = default;

  virtual const ModelInfo& info() const = 0;

  // Validates `spec` against the model (INVALID_ARGUMENT naming the field and the allowed range),
  // encodes its conditions and draws its initial latents from its own seeded generator.
  virtual absl::StatusOr<std::unique_ptr<Job>> CreateJob(const JobSpec& spec) = 0;

  // Advances every job by one model call with one UNet forward over all their rows. All jobs must
  // have the same shape() and none may be done(). Returns one status per job; when the batched
  // forward fails, the engine retries the jobs one by one so that only the failing one fails.
  virtual std::vector<absl::Status> Step(absl::Span<Job* const> jobs) = 0;

  // Decodes finished jobs to RGB images (one batched VAE decode per shape).
  virtual std::vector<absl::StatusOr<Image8>> Decode(absl::Span<Job* const> jobs) = 0;

  // A preview of the job's current state: kFast is a linear latent->RGB projection at latent
  // resolution (falls back to a decode when the model has no projection factors), kFull decodes.
  virtual absl::StatusOr<Image8> Preview(const Job& job, PreviewQuality quality) = 0;
};

}  // namespace ldm
