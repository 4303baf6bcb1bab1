#include "tools/bench/request_mix.h"

#include <algorithm>
#include <random>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "client/request_builder.h"

namespace ldm::bench {
namespace {

// Captions in the shipped model's language (see tools/shapes/caption_grammar.h); any text model
// accepts them.
constexpr const char* kPrompts[] = {
    "a red circle",
    "a large blue square at the top left",
    "a small green triangle on a white background",
    "a yellow circle and a purple square",
    "one cyan triangle in the center",
    "a drawing of a large red square on a black background",
    "a picture of a small blue circle at the bottom right",
    "a gray background with a green square on the left",
    "a purple triangle at the top and a yellow circle at the bottom",
    "an image of one large cyan circle",
    "a small red triangle against a gray background",
    "a blue triangle on the right",
    "a green circle at the top right and a red square at the bottom left",
    "a large yellow square",
    "a purple circle with a white background",
    "a cyan square at the bottom",
};
constexpr int kNumPrompts = static_cast<int>(sizeof(kPrompts) / sizeof(kPrompts[0]));

absl::Status Invalid(absl::string_view flag, absl::string_view value, absl::string_view why) {
  return absl::InvalidArgumentError(absl::StrCat(flag, " '", value, "': ", why));
}

bool Has(const v1::ModelDescription& model, const std::string& kind) {
  return std::find(model.conditioning().begin(), model.conditioning().end(), kind) !=
         model.conditioning().end();
}

}  // namespace

nlohmann::json MixOptions::ToJson() const {
  return {{"model", model},       {"samplers", samplers},         {"steps", steps},
          {"guidance", guidance}, {"conditioning", conditioning}, {"sizes", sizes},
          {"prompts", prompts},   {"num_images", num_images},     {"preview_every", preview_every},
          {"seed", seed}};
}

absl::StatusOr<RequestMix> RequestMix::Create(const MixOptions& options,
                                              const v1::ModelDescription& model) {
  RequestMix mix;
  mix.options_ = options;
  if (options.samplers.empty() || options.steps.empty() || options.guidance.empty() ||
      options.conditioning.empty() || options.sizes.empty()) {
    return absl::InvalidArgumentError(
        "--samplers, --steps, --guidance, --conditioning and --sizes need at least one value");
  }
  for (const std::string& name : options.samplers) {
    if (name.empty() || name == "default") {
      mix.samplers_.push_back(v1::SAMPLER_UNSPECIFIED);
      continue;
    }
    absl::StatusOr<v1::Sampler> s = client::RequestBuilder::ParseSampler(name);
    if (!s.ok()) return Invalid("--samplers", name, s.status().message());
    mix.samplers_.push_back(*s);
  }
  for (int steps : options.steps) {
    if (steps < 0 || steps > 1000) {
      return Invalid("--steps", std::to_string(steps), "must be in [0, 1000] (0: model default)");
    }
  }
  for (double g : options.guidance) {
    if (!(g >= 0 && g <= 30)) return Invalid("--guidance", std::to_string(g), "must be in [0, 30]");
  }
  if (options.prompts < 1 || options.prompts > kNumPrompts) {
    return Invalid("--prompts", std::to_string(options.prompts),
                   absl::StrCat("must be in [1, ", kNumPrompts, "]"));
  }
  if (options.num_images < 1 || options.num_images > 8) {
    return Invalid("--images-per-request", std::to_string(options.num_images), "must be in [1, 8]");
  }
  if (options.preview_every < 0) {
    return Invalid("--preview-every", std::to_string(options.preview_every), "must be >= 0");
  }
  mix.num_classes_ = model.class_names_size();
  mix.num_labels_ = model.semantic_labels_size();
  mix.size_multiple_ = std::max<int>(1, static_cast<int>(model.size_multiple()));
  mix.native_width_ = model.native_width();
  mix.native_height_ = model.native_height();
  for (const std::string& spec : options.conditioning) {
    Kind kind;
    for (absl::string_view part : absl::StrSplit(spec, '+')) {
      if (part == "text") {
        kind.text = true;
      } else if (part == "class") {
        kind.class_label = true;
      } else if (part == "map") {
        kind.map = true;
      } else if (part != "none") {
        return Invalid("--conditioning", spec, "kinds are text, class, map and none, joined by +");
      }
    }
    if (kind.text && !Has(model, "text")) {
      return Invalid("--conditioning", spec,
                     absl::StrCat("model ", model.name(), " takes no text"));
    }
    if (kind.class_label && (!Has(model, "class") || mix.num_classes_ == 0)) {
      return Invalid("--conditioning", spec,
                     absl::StrCat("model ", model.name(), " takes no class label"));
    }
    if (kind.map && (!Has(model, "semantic_map") || mix.num_labels_ < 2)) {
      return Invalid("--conditioning", spec,
                     absl::StrCat("model ", model.name(), " takes no semantic map"));
    }
    mix.kinds_.push_back(kind);
  }
  for (const std::string& spec : options.sizes) {
    std::vector<std::string> parts = absl::StrSplit(spec, 'x');
    Size size;
    if (parts.size() > 2 || !absl::SimpleAtoi(parts[0], &size.width) ||
        !absl::SimpleAtoi(parts.back(), &size.height)) {
      return Invalid("--sizes", spec, "expected SIZE or WIDTHxHEIGHT in pixels (0: native)");
    }
    mix.sizes_.push_back(size);
  }
  return mix;
}

void RequestMix::AddMap(int index, v1::GenerateRequest& request) const {
  // A latent-resolution map: one rectangle of one label over background.
  const uint32_t w = (request.width() > 0 ? request.width() : native_width_) / size_multiple_;
  const uint32_t h = (request.height() > 0 ? request.height() : native_height_) / size_multiple_;
  if (w == 0 || h == 0) return;
  std::string labels(static_cast<size_t>(w) * h, '\0');
  const char label = static_cast<char>(1 + index % (num_labels_ - 1));
  const uint32_t x0 = static_cast<uint32_t>(index) % std::max(1u, w / 2);
  const uint32_t y0 = static_cast<uint32_t>(index / 3) % std::max(1u, h / 2);
  for (uint32_t y = y0; y < std::min(h, y0 + std::max(1u, h / 2)); ++y) {
    for (uint32_t x = x0; x < std::min(w, x0 + std::max(1u, w / 2)); ++x) labels[y * w + x] = label;
  }
  v1::SemanticMap* map = request.mutable_semantic_map();
  map->set_width(w);
  map->set_height(h);
  map->set_labels(std::move(labels));
}

v1::GenerateRequest RequestMix::Make(int index, const std::string& id_prefix) const {
  std::mt19937_64 rng(options_.seed * 0x9e3779b97f4a7c15ULL + static_cast<uint64_t>(index));
  auto pick = [&rng](size_t n) { return static_cast<size_t>(rng() % n); };
  v1::GenerateRequest r;
  r.set_model(options_.model);
  r.set_request_id(absl::StrCat(id_prefix, "-", index));
  r.set_sampler(samplers_[pick(samplers_.size())]);
  r.set_steps(static_cast<uint32_t>(options_.steps[pick(options_.steps.size())]));
  r.set_guidance_scale(static_cast<float>(options_.guidance[pick(options_.guidance.size())]));
  const Size size = sizes_[pick(sizes_.size())];
  r.set_width(size.width);
  r.set_height(size.height);
  const Kind kind = kinds_[pick(kinds_.size())];
  if (kind.text) r.set_prompt(kPrompts[index % options_.prompts]);
  if (kind.class_label) r.set_class_label(index % num_classes_);
  if (kind.map) AddMap(index, r);
  r.set_num_images(static_cast<uint32_t>(options_.num_images));
  r.set_seed(options_.seed + static_cast<uint64_t>(index) * 1000);
  r.set_preview_every(static_cast<uint32_t>(options_.preview_every));
  return r;
}

}  // namespace ldm::bench
