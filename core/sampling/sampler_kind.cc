#include "core/sampling/sampler_kind.h"

#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "core/common/status_macros.h"

namespace ldm {
namespace {

struct KindInfo {
  SamplerKind kind;
  const char* name;
  const char* class_name;
};

constexpr KindInfo kKinds[] = {
    {SamplerKind::kDdpm, "ddpm", "DDPMScheduler"},
    {SamplerKind::kDdim, "ddim", "DDIMScheduler"},
    {SamplerKind::kPndm, "pndm", "PNDMScheduler"},
    {SamplerKind::kEuler, "euler", "EulerDiscreteScheduler"},
    {SamplerKind::kEulerAncestral, "euler_ancestral", "EulerAncestralDiscreteScheduler"},
    {SamplerKind::kDpmpp2m, "dpmpp_2m", "DPMSolverMultistepScheduler"},
    {SamplerKind::kDpmpp2mKarras, "dpmpp_2m_karras", "DPMSolverMultistepScheduler"},
};

const KindInfo& InfoFor(SamplerKind kind) {
  for (const KindInfo& info : kKinds) {
    if (info.kind == kind) return info;
  }
  return kKinds[0];  // unreachable for valid enum values
}

}  // namespace

const std::vector<SamplerKind>& AllSamplerKinds() {
  static const std::vector<SamplerKind>* kinds = [] {
    auto* v = new std::vector<SamplerKind>();
    for (const KindInfo& info : kKinds) v->push_back(info.kind);
    return v;
  }();
  return *kinds;
}

absl::StatusOr<SamplerKind> ParseSamplerKind(absl::string_view name) {
  const std::string lower = absl::AsciiStrToLower(name);
  std::vector<std::string> names;
  for (const KindInfo& info : kKinds) {
    if (lower == info.name) return info.kind;
    names.push_back(info.name);
  }
  return absl::InvalidArgumentError(
      absl::StrCat("sampler \"", name, "\" is not one of: ", absl::StrJoin(names, ", ")));
}

absl::string_view SamplerKindName(SamplerKind kind) { return InfoFor(kind).name; }

absl::string_view SamplerKindClassName(SamplerKind kind) { return InfoFor(kind).class_name; }

absl::StatusOr<SamplerKind> SamplerKindForClassName(absl::string_view class_name,
                                                    bool use_karras_sigmas) {
  if (class_name == "DPMSolverMultistepScheduler") {
    return use_karras_sigmas ? SamplerKind::kDpmpp2mKarras : SamplerKind::kDpmpp2m;
  }
  std::vector<std::string> classes;
  for (const KindInfo& info : kKinds) {
    if (class_name == info.class_name) return info.kind;
    if (classes.empty() || classes.back() != info.class_name) classes.push_back(info.class_name);
  }
  return absl::UnimplementedError(
      absl::StrCat("scheduler class \"", class_name,
                   "\" is not implemented by ldm; implemented: ", absl::StrJoin(classes, ", ")));
}

absl::StatusOr<SamplerKind> DefaultSamplerKind(const ModelConfig& scheduler_config) {
  if (!scheduler_config.Has("_class_name")) {
    return scheduler_config.Invalid("_class_name", "is missing; cannot pick a default sampler");
  }
  LDM_ASSIGN_OR_RETURN(const std::string class_name, scheduler_config.GetString("_class_name"));
  LDM_ASSIGN_OR_RETURN(const bool karras, scheduler_config.GetBool("use_karras_sigmas", false));
  return SamplerKindForClassName(class_name, karras);
}

}  // namespace ldm
