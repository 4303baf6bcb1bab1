// The sampling methods ldm implements, their user-facing names, and the mapping from diffusers'
// scheduler class names (`_class_name` in scheduler_config.json) to a model's default method.
//
// Names are "ddpm", "ddim", "pndm", "euler", "euler_ancestral", "dpmpp_2m", "dpmpp_2m_karras";
// parsing is case-insensitive. Thread safety: stateless free functions.
#pragma once

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "core/io/model_config.h"

namespace ldm {

enum class SamplerKind {
  kDdpm,            // DDPMScheduler
  kDdim,            // DDIMScheduler
  kPndm,            // PNDMScheduler (PLMS path, skip_prk_steps)
  kEuler,           // EulerDiscreteScheduler
  kEulerAncestral,  // EulerAncestralDiscreteScheduler
  kDpmpp2m,         // DPMSolverMultistepScheduler, dpmsolver++ order 2
  kDpmpp2mKarras,   // the same with use_karras_sigmas
};

// Every kind, in declaration order.
const std::vector<SamplerKind>& AllSamplerKinds();

// INVALID_ARGUMENT listing the valid names for anything else.
absl::StatusOr<SamplerKind> ParseSamplerKind(absl::string_view name);

// The canonical lower-case name, e.g. "dpmpp_2m_karras".
absl::string_view SamplerKindName(SamplerKind kind);

// The diffusers class that defines the kind's semantics, e.g. "DPMSolverMultistepScheduler".
absl::string_view SamplerKindClassName(SamplerKind kind);

// Maps a diffusers scheduler class name to the kind ldm uses for it. For
// DPMSolverMultistepScheduler, `use_karras_sigmas` selects kDpmpp2mKarras. UNIMPLEMENTED (naming
// the class and the implemented ones) for classes ldm does not implement, e.g.
// LMSDiscreteScheduler.
absl::StatusOr<SamplerKind> SamplerKindForClassName(absl::string_view class_name,
                                                    bool use_karras_sigmas = false);

// The model's default kind from its scheduler_config.json (`_class_name`, `use_karras_sigmas`).
// INVALID_ARGUMENT when `_class_name` is missing.
absl::StatusOr<SamplerKind> DefaultSamplerKind(const ModelConfig& scheduler_config);

}  // namespace ldm
