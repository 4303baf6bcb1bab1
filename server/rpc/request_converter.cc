#include "server/rpc/request_converter.h"

#include <cmath>
#include <random>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "core/common/status_macros.h"
#include "core/io/png_codec.h"
#include "server/rpc/sampler_names.h"

namespace ldm::server {
namespace {

// Every validation error has the same shape: "request <id>: <field> <what is wrong>".
absl::Status Invalid(const std::string& id, const std::string& field, const std::string& what) {
  return absl::InvalidArgumentError(absl::StrCat("request ", id, ": ", field, " ", what));
}

std::mt19937_64& ThreadRng() {
  // One generator per thread: no lock on the request path, seeded from the OS.
  thread_local std::mt19937_64 rng([] {
    std::random_device rd;
    return (static_cast<uint64_t>(rd()) << 32) ^ rd();
  }());
  return rng;
}

absl::Status CheckSize(const std::string& id, const char* field, int value, const ModelInfo& m) {
  if (value % m.size_multiple != 0 || value < m.min_size || value > m.max_size) {
    return Invalid(id, field,
                   absl::StrCat("= ", value, " must be a multiple of ", m.size_multiple, " in [",
                                m.min_size, ", ", m.max_size, "] for model ", m.name));
  }
  return absl::OkStatus();
}

absl::StatusOr<LabelMap> ConvertSemanticMap(const std::string& id, const v1::SemanticMap& in,
                                            int width, int height, const ModelInfo& m) {
  if (!m.supports_semantic_map) {
    return Invalid(id, "semantic_map", absl::StrCat("is not accepted by model ", m.name));
  }
  const bool has_labels = !in.labels().empty();
  const bool has_png = !in.png().empty();
  if (has_labels == has_png) {
    return Invalid(id, "semantic_map",
                   "must carry exactly one of labels (with width and height) or png");
  }
  LabelMap map;
  if (has_png) {
    absl::StatusOr<Image8> image = DecodePngIndices(in.png());
    if (!image.ok()) {
      return Invalid(id, "semantic_map.png",
                     absl::StrCat("does not decode as a palette or 8-bit gray PNG: ",
                                  image.status().message()));
    }
    if ((in.width() != 0 && static_cast<int>(in.width()) != image->width) ||
        (in.height() != 0 && static_cast<int>(in.height()) != image->height)) {
      return Invalid(
          id, "semantic_map.width",
          absl::StrCat("/height = ", in.width(), "x", in.height(), " do not match the PNG's ",
                       image->width, "x", image->height, " (leave them 0 or equal)"));
    }
    map.width = image->width;
    map.height = image->height;
    map.labels.reserve(static_cast<size_t>(map.width) * map.height);
    // Indices are in the first channel (DecodePngIndices returns one channel per pixel).
    for (size_t i = 0; i < image->pixels.size(); i += static_cast<size_t>(image->channels)) {
      map.labels.push_back(image->pixels[i]);
    }
  } else {
    if (in.width() == 0 || in.height() == 0 || in.width() > 16384 || in.height() > 16384) {
      return Invalid(id, "semantic_map.width",
                     absl::StrCat("/height = ", in.width(), "x", in.height(),
                                  " must both be in [1, 16384] with raw labels"));
    }
    const size_t expected = static_cast<size_t>(in.width()) * in.height();
    if (in.labels().size() != expected) {
      return Invalid(
          id, "semantic_map.labels",
          absl::StrCat("has ", in.labels().size(), " bytes; expected width*height = ", expected));
    }
    map.width = static_cast<int>(in.width());
    map.height = static_cast<int>(in.height());
    map.labels.assign(in.labels().begin(), in.labels().end());
  }
  const int f = m.vae_scale_factor;
  const bool image_size = map.width == width && map.height == height;
  const bool latent_size = map.width == width / f && map.height == height / f;
  if (!image_size && !latent_size) {
    return Invalid(
        id, "semantic_map",
        absl::StrCat("is ", map.width, "x", map.height, "; it must be ", width, "x", height,
                     " (image size) or ", width / f, "x", height / f, " (latent size)"));
  }
  for (uint8_t v : map.labels) {
    if (v >= m.semantic_channels) {
      return Invalid(
          id, "semantic_map.labels",
          absl::StrCat("contains label ", static_cast<int>(v), "; labels must be in [0, ",
                       m.semantic_channels - 1, "] for model ", m.name));
    }
  }
  return map;
}

absl::StatusOr<Image8> ConvertLowResImage(const std::string& id, const std::string& png,
                                          const ModelInfo& m) {
  if (!m.supports_low_res_image) {
    return Invalid(id, "low_res_image",
                   absl::StrCat("is not accepted by model ", m.name,
                                " (not a super-resolution model; see ListModels' conditioning)"));
  }
  if (png.empty()) {
    return Invalid(id, "low_res_image",
                   absl::StrCat("is required by model ", m.name, " (a ", m.upscale_factor,
                                "x super-resolution model): an RGB PNG"));
  }
  absl::StatusOr<Image8> image = DecodePng(png, PngLayout::kRgb);
  if (!image.ok()) {
    return Invalid(id, "low_res_image",
                   absl::StrCat("does not decode as a PNG: ", image.status().message()));
  }
  return image;
}

bool ValidRequestId(const std::string& id, size_t max_bytes) {
  if (id.size() > max_bytes) return false;
  for (char c : id) {
    if (c <= 0x20 || c >= 0x7f) return false;  // printable ASCII without spaces: safe in logs
  }
  return true;
}

}  // namespace

absl::Status RequestConverter::ConvertUpscale(const v1::GenerateRequest& in, const JobSpec& spec,
                                              GenerationRequest* out) const {
  const std::string& id = out->request_id;
  if (!in.upscale()) {
    if (!in.upscale_model().empty() || in.upscale_steps() != 0) {
      return Invalid(id, in.upscale_model().empty() ? "upscale_steps" : "upscale_model",
                     "is set but upscale is false");
    }
    return absl::OkStatus();
  }
  const std::string name =
      in.upscale_model().empty() ? catalog_->default_upscaler() : in.upscale_model();
  if (name.empty()) {
    return Invalid(id, "upscale",
                   absl::StrCat("needs a super-resolution model, but none is loaded (loaded: ",
                                absl::StrJoin(catalog_->names(), ", "), ")"));
  }
  auto it = catalog_->models().find(name);
  if (it == catalog_->models().end() || !it->second.supports_low_res_image) {
    std::vector<std::string> upscalers;
    for (const auto& [n, info] : catalog_->models()) {
      if (info.supports_low_res_image) upscalers.push_back(n);
    }
    return Invalid(id, "upscale_model",
                   absl::StrCat("= '", name, "' is not a loaded super-resolution model (loaded: ",
                                absl::StrJoin(upscalers, ", "), ")"));
  }
  const ModelInfo& sr = it->second;
  const int w = spec.width * sr.upscale_factor, h = spec.height * sr.upscale_factor;
  if (w > sr.max_size || h > sr.max_size) {
    return Invalid(
        id, "upscale",
        absl::StrCat(": ", spec.width, "x", spec.height, " images upscaled ", sr.upscale_factor,
                     "x are ", w, "x", h, ", above model ", sr.name, "'s max_size ", sr.max_size));
  }
  const uint32_t steps =
      in.upscale_steps() == 0 ? static_cast<uint32_t>(sr.default_steps) : in.upscale_steps();
  if (steps > static_cast<uint32_t>(limits_.max_steps)) {
    return Invalid(id, "upscale_steps",
                   absl::StrCat("= ", in.upscale_steps(), " must be in [1, ", limits_.max_steps,
                                "] (0 = the upscaler's default)"));
  }
  out->upscale = UpscaleStage{.model = sr.name,
                              .steps = static_cast<int>(steps),
                              .sampler = "",
                              .guidance_scale = sr.default_guidance};
  return absl::OkStatus();
}

RequestConverter::RequestConverter(const ModelCatalog* catalog, RequestLimits limits)
    : catalog_(catalog), limits_(limits) {}

std::string RequestConverter::NewRequestId() { return absl::StrFormat("req-%016x", ThreadRng()()); }

uint64_t RequestConverter::RandomSeed() {
  constexpr uint64_t kMax = (uint64_t{1} << 53) - 1;
  return std::uniform_int_distribution<uint64_t>(1, kMax)(ThreadRng());
}

absl::StatusOr<GenerationRequest> RequestConverter::Convert(const v1::GenerateRequest& in) const {
  GenerationRequest out;
  if (in.request_id().empty()) {
    out.request_id = NewRequestId();
  } else if (!ValidRequestId(in.request_id(), limits_.max_request_id_bytes)) {
    // The id cannot name itself safely; use a generated one in the message.
    return Invalid(NewRequestId(), "request_id",
                   absl::StrCat("must be 1..", limits_.max_request_id_bytes,
                                " printable ASCII characters without spaces"));
  } else {
    out.request_id = in.request_id();
  }
  const std::string& id = out.request_id;

  LDM_ASSIGN_OR_RETURN(const ModelInfo* model, catalog_->Resolve(id, in.model()));
  const ModelInfo& m = *model;
  out.model = m.name;

  JobSpec spec;
  spec.request_id = id;

  // Low-resolution image (super-resolution models): its size decides the default output size.
  if (!in.low_res_image().empty() || m.supports_low_res_image) {
    LDM_ASSIGN_OR_RETURN(spec.low_res_image, ConvertLowResImage(id, in.low_res_image(), m));
  }

  // Size.
  const int native_width = spec.low_res_image.has_value()
                               ? spec.low_res_image->width * m.upscale_factor
                               : m.native_width;
  const int native_height = spec.low_res_image.has_value()
                                ? spec.low_res_image->height * m.upscale_factor
                                : m.native_height;
  spec.width =
      in.width() == 0 ? native_width : static_cast<int>(std::min<uint32_t>(in.width(), 1u << 30));
  spec.height = in.height() == 0 ? native_height
                                 : static_cast<int>(std::min<uint32_t>(in.height(), 1u << 30));
  LDM_RETURN_IF_ERROR(CheckSize(id, "width", spec.width, m));
  LDM_RETURN_IF_ERROR(CheckSize(id, "height", spec.height, m));
  if (spec.low_res_image.has_value() &&
      (spec.low_res_image->width * m.upscale_factor != spec.width ||
       spec.low_res_image->height * m.upscale_factor != spec.height)) {
    return Invalid(
        id, "low_res_image",
        absl::StrCat("is ", spec.low_res_image->width, "x", spec.low_res_image->height, "; model ",
                     m.name, " upscales ", m.upscale_factor, "x, so a ", spec.width, "x",
                     spec.height, " output needs a ", spec.width / m.upscale_factor, "x",
                     spec.height / m.upscale_factor,
                     " image (leave width and height 0 to use its size x ", m.upscale_factor, ")"));
  }

  // Steps and guidance.
  const uint32_t steps = in.steps() == 0 ? static_cast<uint32_t>(m.default_steps) : in.steps();
  if (steps < 1 || steps > static_cast<uint32_t>(limits_.max_steps)) {
    return Invalid(id, "steps",
                   absl::StrCat("= ", in.steps(), " must be in [1, ", limits_.max_steps,
                                "] (0 = the model's default)"));
  }
  spec.steps = static_cast<int>(steps);
  // A map alone wants less guidance than text or a class: the model's map-only default, if any.
  const bool map_only = in.has_semantic_map() && in.prompt().empty() &&
                        in.class_condition_case() == v1::GenerateRequest::CLASS_CONDITION_NOT_SET;
  spec.guidance_scale = in.has_guidance_scale() ? in.guidance_scale()
                        : map_only && m.default_guidance_map_only.has_value()
                            ? *m.default_guidance_map_only
                            : m.default_guidance;
  if (!(spec.guidance_scale >= 0.0 && spec.guidance_scale <= limits_.max_guidance_scale)) {
    return Invalid(id, "guidance_scale",
                   absl::StrCat("= ", spec.guidance_scale, " must be in [0, ",
                                limits_.max_guidance_scale, "] (<= 1 disables guidance)"));
  }

  const uint32_t num_images = in.num_images() == 0 ? 1 : in.num_images();
  if (num_images > static_cast<uint32_t>(limits_.max_images)) {
    return Invalid(
        id, "num_images",
        absl::StrCat("= ", in.num_images(), " must be in [1, ", limits_.max_images, "] (0 = 1)"));
  }

  // Text. The tokenizer truncates to max_prompt_tokens (as diffusers does); the byte limit only
  // bounds the work a single request can ask of the tokenizer.
  if (in.prompt().size() > limits_.max_prompt_bytes) {
    return Invalid(id, "prompt",
                   absl::StrCat("is ", in.prompt().size(), " bytes; at most ",
                                limits_.max_prompt_bytes, " are accepted"));
  }
  if (in.negative_prompt().size() > limits_.max_prompt_bytes) {
    return Invalid(id, "negative_prompt",
                   absl::StrCat("is ", in.negative_prompt().size(), " bytes; at most ",
                                limits_.max_prompt_bytes, " are accepted"));
  }
  if (!m.supports_text && !in.prompt().empty()) {
    return Invalid(id, "prompt", absl::StrCat("must be empty: model ", m.name, " takes no text"));
  }
  if (!m.supports_text && !in.negative_prompt().empty()) {
    return Invalid(id, "negative_prompt",
                   absl::StrCat("must be empty: model ", m.name, " takes no text"));
  }
  spec.prompt = in.prompt();
  spec.negative_prompt = in.negative_prompt();
  if (in.clip_skip() > 1) {
    return Invalid(id, "clip_skip", absl::StrCat("= ", in.clip_skip(), " must be 0 or 1"));
  }
  spec.clip_skip = static_cast<int>(in.clip_skip());

  // Class.
  if (in.class_condition_case() != v1::GenerateRequest::CLASS_CONDITION_NOT_SET &&
      !m.supports_class) {
    return Invalid(id, in.has_class_label() ? "class_label" : "class_name",
                   absl::StrCat("is not accepted by model ", m.name, " (it has no classes)"));
  }
  if (in.has_class_label()) {
    if (in.class_label() < 0 || in.class_label() >= m.num_classes) {
      return Invalid(id, "class_label",
                     absl::StrCat("= ", in.class_label(), " must be in [0, ", m.num_classes - 1,
                                  "] for model ", m.name));
    }
    spec.class_label = in.class_label();
  } else if (in.has_class_name()) {
    const int n = std::min<int>(m.num_classes, static_cast<int>(m.class_names.size()));
    for (int i = 0; i < n; ++i) {
      if (m.class_names[static_cast<size_t>(i)] == in.class_name()) spec.class_label = i;
    }
    if (!spec.class_label.has_value()) {
      std::vector<std::string> names(m.class_names.begin(), m.class_names.begin() + n);
      return Invalid(id, "class_name",
                     absl::StrCat("= '", in.class_name(), "' must be one of: ",
                                  absl::StrJoin(names, ", "), " (model ", m.name, ")"));
    }
  } else if (m.class_required) {
    return Invalid(id, "class_label",
                   absl::StrCat("is required by model ", m.name, " (it has no null class)"));
  }

  // Classifier guidance: a class to steer towards and a model classifier.
  if (!(in.classifier_scale() >= 0.0f &&
        in.classifier_scale() <= static_cast<float>(limits_.max_classifier_scale))) {
    return Invalid(id, "classifier_scale",
                   absl::StrCat("= ", in.classifier_scale(), " must be in [0, ",
                                limits_.max_classifier_scale, "] (0 = off)"));
  }
  if (in.classifier_scale() > 0.0f && !m.has_classifier) {
    return Invalid(id, "classifier_scale",
                   absl::StrCat("= ", in.classifier_scale(), " needs a classifier; model ", m.name,
                                " has none (ListModels: has_classifier false)"));
  }
  if (in.classifier_scale() > 0.0f && !spec.class_label.has_value()) {
    return Invalid(
        id, "classifier_scale",
        absl::StrCat("= ", in.classifier_scale(),
                     " needs a class label (class_label or class_name) to guide towards"));
  }
  spec.classifier_scale = in.classifier_scale();

  // Semantic map.
  if (in.has_semantic_map()) {
    LDM_ASSIGN_OR_RETURN(spec.semantic_map,
                         ConvertSemanticMap(id, in.semantic_map(), spec.width, spec.height, m));
  }

  // Sampler and eta.
  std::optional<std::string> sampler = SamplerName(in.sampler());
  if (!sampler.has_value() || (!sampler->empty() && std::find(m.samplers.begin(), m.samplers.end(),
                                                              *sampler) == m.samplers.end())) {
    std::vector<std::string> allowed;
    for (const auto& s : m.samplers) {
      if (v1::Sampler e = SamplerFromName(s); e != v1::SAMPLER_UNSPECIFIED) {
        allowed.push_back(v1::Sampler_Name(e));
      }
    }
    return Invalid(
        id, "sampler",
        absl::StrCat("= ", in.sampler(), " is not supported by model ", m.name,
                     "; use SAMPLER_UNSPECIFIED or one of: ", absl::StrJoin(allowed, ", ")));
  }
  spec.sampler = *sampler;
  const std::string effective_sampler = sampler->empty() ? m.default_sampler : *sampler;
  if (in.has_eta() && in.eta() != 0.0f) {
    if (effective_sampler != "ddim") {
      return Invalid(id, "eta",
                     absl::StrCat("= ", in.eta(), " is only used by the DDIM sampler (",
                                  "this request uses ", effective_sampler, "); leave it unset"));
    }
    if (!(in.eta() >= 0.0f && in.eta() <= 1.0f)) {
      return Invalid(id, "eta", absl::StrCat("= ", in.eta(), " must be in [0, 1]"));
    }
  }
  spec.eta = in.has_eta() ? in.eta() : m.DefaultEtaFor(*sampler);

  // Previews and scheduling.
  if (in.preview_every() > steps) {
    return Invalid(id, "preview_every",
                   absl::StrCat("= ", in.preview_every(), " must be in [0, steps = ", steps, "]"));
  }
  out.preview_every = static_cast<int>(in.preview_every());
  switch (in.preview_quality()) {
    case v1::PREVIEW_QUALITY_UNSPECIFIED:
    case v1::FAST:
      out.preview_quality = PreviewQuality::kFast;
      break;
    case v1::FULL:
      out.preview_quality = PreviewQuality::kFull;
      break;
    default:
      return Invalid(id, "preview_quality",
                     absl::StrCat("= ", in.preview_quality(), " must be FAST (1) or FULL (2)"));
  }
  out.priority = in.priority();
  LDM_RETURN_IF_ERROR(ConvertUpscale(in, spec, &out));

  // One job per image; image i uses seed + i (wrapping like any uint64 arithmetic).
  const uint64_t seed = in.seed() == 0 ? RandomSeed() : in.seed();
  out.images.reserve(num_images);
  for (uint32_t i = 0; i < num_images; ++i) {
    JobSpec image = spec;
    image.seed = seed + i;
    out.images.push_back(std::move(image));
  }
  return out;
}

}  // namespace ldm::server
