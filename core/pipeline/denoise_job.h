// The concrete Job of ldm::Pipeline: one image's latents, sampler, generator and conditions.
// Owned by whoever called CreateJob; stepped by one thread at a time (see job.h).
#pragma once

#include <memory>
#include <string>

#include <torch/types.h>

#include "core/pipeline/job.h"
#include "core/sampling/sampler.h"

namespace ldm {

struct DenoiseJob : public Job {
  int steps_done() const override { return sampler->calls_done(); }
  int total_steps() const override { return sampler->num_model_calls(); }
  uint64_t seed() const override { return spec.seed; }
  LatentShape shape() const override { return latent_shape; }
  int rows() const override { return use_cfg ? 2 : 1; }
  const std::string& request_id() const override { return spec.request_id; }

  JobSpec spec;
  LatentShape latent_shape;
  bool use_cfg = false;
  std::unique_ptr<Sampler> sampler;
  torch::Generator generator;
  torch::Tensor latents;          // [1, C, h, w], model device and dtype
  torch::Tensor cond_embedding;   // [1, L, D] (undefined when the UNet has no cross-attention)
  torch::Tensor uncond_embedding; // with CFG
  int64_t cond_class = -1;        // -1: no class input
  int64_t uncond_class = -1;
  torch::Tensor cond_map;         // [1, K, h, w] one-hot (undefined when K == 0)
  torch::Tensor uncond_map;
  torch::Tensor low_res;          // [1, 3 r^2, h, w] super-resolution input (both CFG rows)
};

}  // namespace ldm
