// An image generation in progress: an opaque handle owned by the caller of Engine::CreateJob.
//
// The engine keeps the job's latents, sampler state, random generator and condition tensors
// inside the concrete subclass; schedulers only see this small view. Not thread-safe: a job is
// stepped by one worker at a time.
#pragma once

#include <cstdint>
#include <string>

#include "core/pipeline/job_spec.h"

namespace ldm {

class Job {
 public:
  virtual ~Job() = default;

  virtual int steps_done() const = 0;   // model calls made so far
  virtual int total_steps() const = 0;  // model calls needed (PNDM may need one more than steps)
  bool done() const { return steps_done() >= total_steps(); }
  virtual uint64_t seed() const = 0;
  virtual LatentShape shape() const = 0;
  // UNet rows this job occupies per step: 2 with classifier-free guidance, else 1.
  virtual int rows() const = 0;
  virtual const std::string& request_id() const = 0;
};

}  // namespace ldm
