#include "client/request_builder.h"

#include <fstream>
#include <sstream>

#include "absl/algorithm/container.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"

namespace ldm::client {

absl::StatusOr<v1::Sampler> RequestBuilder::ParseSampler(const std::string& name) {
  // Accept the spellings people type: "dpmpp-2m-karras", "DPMPP_2M_KARRAS", "euler ancestral".
  std::string upper = absl::AsciiStrToUpper(name);
  upper = absl::StrReplaceAll(upper, {{"-", "_"}, {" ", "_"}, {"++", "PP"}});
  v1::Sampler sampler = v1::SAMPLER_UNSPECIFIED;
  if (!v1::Sampler_Parse(upper, &sampler) || sampler == v1::SAMPLER_UNSPECIFIED) {
    std::string known;
    for (int i = v1::Sampler_MIN + 1; i <= v1::Sampler_MAX; ++i) {
      if (!v1::Sampler_IsValid(i)) continue;
      absl::StrAppend(&known, known.empty() ? "" : ", ", SamplerName(static_cast<v1::Sampler>(i)));
    }
    return absl::InvalidArgumentError(
        absl::StrCat("--sampler '", name, "' is not one of: ", known));
  }
  return sampler;
}

std::string RequestBuilder::SamplerName(v1::Sampler sampler) {
  return absl::AsciiStrToLower(v1::Sampler_Name(sampler));
}

namespace {

// The bytes of `path`; NOT_FOUND naming the flag when it cannot be read.
absl::StatusOr<std::string> ReadFile(const char* flag, const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return absl::NotFoundError(absl::StrCat(flag, ": cannot read ", path));
  std::ostringstream bytes;
  bytes << in.rdbuf();
  return bytes.str();
}

}  // namespace

absl::StatusOr<v1::GenerateRequest> RequestBuilder::Build(const GenerateFlags& flags) {
  v1::GenerateRequest r;
  r.set_model(flags.model);
  r.set_prompt(flags.prompt);
  r.set_negative_prompt(flags.negative_prompt);
  if (!flags.class_condition.empty()) {
    int32_t label = 0;
    const bool numeric =
        absl::c_all_of(flags.class_condition, [](char c) { return absl::ascii_isdigit(c); });
    if (numeric && absl::SimpleAtoi(flags.class_condition, &label)) {
      r.set_class_label(label);
    } else {
      r.set_class_name(flags.class_condition);
    }
  }
  if (!flags.semantic_map_png.empty()) {
    absl::StatusOr<std::string> png = ReadFile("--semantic-map", flags.semantic_map_png);
    if (!png.ok()) return png.status();
    r.mutable_semantic_map()->set_png(*std::move(png));
  }
  if (!flags.low_res_image_png.empty()) {
    absl::StatusOr<std::string> png = ReadFile("--low-res-image", flags.low_res_image_png);
    if (!png.ok()) return png.status();
    r.set_low_res_image(*std::move(png));
  }
  r.set_classifier_scale(flags.classifier_scale);
  r.set_upscale(flags.upscale);
  r.set_upscale_model(flags.upscale_model);
  r.set_upscale_steps(flags.upscale_steps);
  r.set_width(flags.width);
  r.set_height(flags.height);
  r.set_num_images(flags.num_images);
  r.set_steps(flags.steps);
  if (flags.guidance_scale.has_value()) r.set_guidance_scale(*flags.guidance_scale);
  if (flags.eta.has_value()) r.set_eta(*flags.eta);
  if (!flags.sampler.empty()) {
    absl::StatusOr<v1::Sampler> sampler = ParseSampler(flags.sampler);
    if (!sampler.ok()) return sampler.status();
    r.set_sampler(*sampler);
  }
  r.set_seed(flags.seed);
  r.set_preview_every(flags.preview_every);
  if (flags.preview_quality == "fast") {
    r.set_preview_quality(v1::FAST);
  } else if (flags.preview_quality == "full") {
    r.set_preview_quality(v1::FULL);
  } else if (!flags.preview_quality.empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat("--preview-quality: '", flags.preview_quality, "' is not fast or full"));
  }
  r.set_request_id(flags.request_id);
  return r;
}

}  // namespace ldm::client
