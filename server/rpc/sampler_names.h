// The API's Sampler enum <-> the sampler names core accepts in JobSpec::sampler.
// Thread safety: stateless.
#pragma once

#include <optional>
#include <string>

#include "ldm/v1/image_generation.pb.h"

namespace ldm::server {

// "" for SAMPLER_UNSPECIFIED (the model's own scheduler); nullopt for values the API does not
// define (e.g. a newer client's enum value).
std::optional<std::string> SamplerName(int sampler);
// The enum value of a core sampler name; SAMPLER_UNSPECIFIED when the API has none for it.
v1::Sampler SamplerFromName(const std::string& name);

}  // namespace ldm::server
