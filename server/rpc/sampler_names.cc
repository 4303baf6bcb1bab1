#include "server/rpc/sampler_names.h"

#include <utility>

namespace ldm::server {
namespace {

// The single table both directions use, so the two cannot drift apart.
constexpr std::pair<v1::Sampler, const char*> kSamplers[] = {
    {v1::DDPM, "ddpm"},
    {v1::DDIM, "ddim"},
    {v1::PNDM, "pndm"},
    {v1::EULER, "euler"},
    {v1::EULER_ANCESTRAL, "euler_ancestral"},
    {v1::DPMPP_2M, "dpmpp_2m"},
    {v1::DPMPP_2M_KARRAS, "dpmpp_2m_karras"},
};

}  // namespace

std::optional<std::string> SamplerName(int sampler) {
  if (sampler == v1::SAMPLER_UNSPECIFIED) return std::string();
  for (const auto& [value, name] : kSamplers) {
    if (value == sampler) return std::string(name);
  }
  return std::nullopt;
}

v1::Sampler SamplerFromName(const std::string& name) {
  for (const auto& [value, n] : kSamplers) {
    if (name == n) return value;
  }
  return v1::SAMPLER_UNSPECIFIED;
}

}  // namespace ldm::server
