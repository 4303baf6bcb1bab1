#include "tools/shapes/shapes_dataset.h"

#include <algorithm>
#include <cmath>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "tools/shapes/caption_grammar.h"
#include "tools/shapes/scene_rasterizer.h"
#include "tools/shapes/semantic_map_generator.h"

namespace ldm::shapes {
namespace {

// Random streams. Distinct streams keep, e.g., map samples independent of training samples with
// the same index.
constexpr uint64_t kSceneStream = 1;
constexpr uint64_t kSceneNoiseStream = 2;
constexpr uint64_t kMapStream = 3;
constexpr uint64_t kMapNoiseStream = 4;
constexpr uint64_t kHandDrawnStream = 5;
constexpr uint64_t kHandDrawnNoiseStream = 6;
constexpr uint64_t kRenderStream = 7;
constexpr uint64_t kRenderNoiseStream = 8;
constexpr uint64_t kRenderMapStream = 9;

// Geometry in the 64-pixel reference frame.
constexpr double kRef = kReferenceResolution;
constexpr double kCell = kRef / 3.0;
constexpr double kJitter = 0.2 * kCell;  // centre jitter around the cell centre, each axis
constexpr double kEdgeMargin = 1.0;      // objects keep this distance from the canvas border
constexpr double kObjectGap = 2.0;       // and this gap between their bounding boxes
constexpr int kMaxLayoutTries = 2000;

struct Placement {
  double cx = 0, cy = 0, side = 0;
};

// Draws side and jittered centre for each object; false if two bounding boxes come closer than
// kObjectGap in both axes. Large objects near the border are pushed inward; since half of the
// largest side (18) is less than a cell (21.3), the centre stays in its cell.
bool TryPlace(const std::vector<ObjectSpec>& objects, ShapesRng& rng, std::vector<Placement>* out) {
  out->clear();
  for (const ObjectSpec& o : objects) {
    Placement p;
    p.side = o.size == Size::kSmall ? rng.Uniform(14.0, 18.0) : rng.Uniform(28.0, 36.0);
    const int col = static_cast<int>(o.position) % 3, row = static_cast<int>(o.position) / 3;
    const double lo = 0.5 * p.side + kEdgeMargin, hi = kRef - 0.5 * p.side - kEdgeMargin;
    p.cx = std::clamp((col + 0.5) * kCell + rng.Uniform(-kJitter, kJitter), lo, hi);
    p.cy = std::clamp((row + 0.5) * kCell + rng.Uniform(-kJitter, kJitter), lo, hi);
    out->push_back(p);
  }
  for (size_t i = 0; i < out->size(); ++i) {
    for (size_t j = i + 1; j < out->size(); ++j) {
      const Placement& a = (*out)[i];
      const Placement& b = (*out)[j];
      const double need = 0.5 * (a.side + b.side) + kObjectGap;
      if (std::abs(a.cx - b.cx) < need && std::abs(a.cy - b.cy) < need) return false;
    }
  }
  return true;
}

Region ObjectRegion(const ShapeObject& o, double scale, double shade_angle, double amplitude) {
  const double cx = o.center_x * scale, cy = o.center_y * scale, h = 0.5 * o.side_px * scale;
  Region r;
  r.color = o.color;
  switch (o.shape) {
    case Shape::kCircle:
      r.kind = Region::Kind::kCircle;
      r.cx = cx;
      r.cy = cy;
      r.radius = h;
      break;
    case Shape::kSquare:
      r.points = {{cx - h, cy - h}, {cx + h, cy - h}, {cx + h, cy + h}, {cx - h, cy + h}};
      break;
    case Shape::kTriangle:
      r.points = {{cx, cy - h}, {cx + h, cy + h}, {cx - h, cy + h}};
      break;
  }
  r.shade_center_x = cx;
  r.shade_center_y = cy;
  r.shade_dx = std::cos(shade_angle);
  r.shade_dy = std::sin(shade_angle);
  r.shade_extent = h;
  r.shade_amplitude = amplitude;
  return r;
}

ParsedCaption CaptionFacts(const std::vector<ShapeObject>& objects, Background background,
                           bool background_in_caption) {
  ParsedCaption facts;
  for (const ShapeObject& o : objects) {
    ParsedObject p;
    p.shape = o.shape;
    p.color = o.color;
    if (o.size_in_caption) p.size = o.size;
    if (o.position_in_caption) p.position = o.position;
    facts.objects.push_back(p);
  }
  if (background_in_caption) facts.background = background;
  return facts;
}

}  // namespace

struct ShapesDataset::Scene {
  Background background = Background::kWhite;
  bool background_in_caption = false;
  // center_x, center_y, side_px in reference units.
  std::vector<ShapeObject> objects;
  std::vector<double> shade_angles;
  std::string caption;
};

ShapesDataset::ShapesDataset(ShapesDatasetOptions options) : options_(options) {
  options_.resolution = std::clamp(options_.resolution, 16, 2048);
}

ShapesDataset::Scene ShapesDataset::DrawScene(uint64_t index) const {
  ShapesRng rng = ShapesRng::ForItem(options_.seed, kSceneStream, index);
  Scene scene;
  const int count = rng.Bernoulli(options_.two_object_probability) ? 2 : 1;
  scene.background = static_cast<Background>(rng.UniformInt(kNumBackgrounds));
  std::vector<ObjectSpec> specs(count);
  for (ObjectSpec& s : specs) {
    s.shape = static_cast<Shape>(rng.UniformInt(kNumShapes));
    s.color = static_cast<Color>(rng.UniformInt(kNumColors));
    s.size = static_cast<Size>(rng.UniformInt(kNumSizes));
  }
  // Two large objects fit only at opposite edges with sides near 28 px; rather than skew the
  // layout distribution towards that corner case, make one of them small.
  if (count == 2 && specs[0].size == Size::kLarge && specs[1].size == Size::kLarge) {
    specs[rng.UniformInt(2)].size = Size::kSmall;
  }
  std::vector<Placement> placements;
  for (int attempt = 0;; ++attempt) {
    specs[0].position = static_cast<Position>(rng.UniformInt(kNumPositions));
    if (count == 2) {
      const int other = rng.UniformInt(kNumPositions - 1);
      specs[1].position =
          static_cast<Position>(other >= static_cast<int>(specs[0].position) ? other + 1 : other);
    }
    if (TryPlace(specs, rng, &placements)) break;
    // Two small objects in distinct cells always fit for some jitter; fall back to that rather
    // than loop for long on a rare hard draw.
    if (attempt == kMaxLayoutTries) {
      for (ObjectSpec& s : specs) s.size = Size::kSmall;
    }
  }
  for (int i = 0; i < count; ++i) {
    ShapeObject o;
    o.shape = specs[i].shape;
    o.color = specs[i].color;
    o.size = specs[i].size;
    o.position = specs[i].position;
    o.center_x = placements[i].cx;
    o.center_y = placements[i].cy;
    o.side_px = placements[i].side;
    scene.objects.push_back(o);
    scene.shade_angles.push_back(rng.Uniform(0.0, 2.0 * M_PI));
  }
  for (ShapeObject& o : scene.objects) {
    o.size_in_caption = rng.Bernoulli(options_.size_mention_probability);
    o.position_in_caption = rng.Bernoulli(options_.position_mention_probability);
  }
  scene.background_in_caption = rng.Bernoulli(options_.background_mention_probability);
  scene.caption = CaptionGrammar::Generate(
      CaptionFacts(scene.objects, scene.background, scene.background_in_caption), rng);
  return scene;
}

ShapesSample ShapesDataset::RenderScene(const Scene& scene, int resolution,
                                        ShapesRng& noise_rng) const {
  const double scale = resolution / kRef;
  std::vector<Region> regions;
  ShapesSample sample;
  for (size_t i = 0; i < scene.objects.size(); ++i) {
    regions.push_back(
        ObjectRegion(scene.objects[i], scale, scene.shade_angles[i], options_.shading_amplitude));
    ShapeObject o = scene.objects[i];
    o.center_x *= scale;
    o.center_y *= scale;
    o.side_px *= scale;
    o.cx = static_cast<int>(std::lround(o.center_x));
    o.cy = static_cast<int>(std::lround(o.center_y));
    o.side = static_cast<int>(std::lround(o.side_px));
    sample.objects.push_back(o);
  }
  SceneRasterizer({options_.supersampling, options_.noise_amplitude})
      .Rasterize(resolution, resolution, scene.background, regions, noise_rng, &sample);
  sample.caption = scene.caption;
  sample.background_in_caption = scene.background_in_caption;
  sample.class_label =
      scene.objects.size() == 1 ? ClassIndex(scene.objects[0].shape, scene.objects[0].color) : -1;
  return sample;
}

ShapesSample ShapesDataset::Sample(uint64_t index) const {
  ShapesRng noise = ShapesRng::ForItem(options_.seed, kSceneNoiseStream, index);
  return RenderScene(DrawScene(index), options_.resolution, noise);
}

ShapesSample ShapesDataset::MapSample(uint64_t index) const {
  ShapesRng rng = ShapesRng::ForItem(options_.seed, kMapStream, index);
  ShapesRng noise = ShapesRng::ForItem(options_.seed, kMapNoiseStream, index);
  const auto background = static_cast<Background>(rng.UniformInt(kNumBackgrounds));
  const std::vector<Region> regions =
      SemanticMapGenerator::TrainingRegions(rng, options_.resolution, options_.shading_amplitude);
  ShapesSample sample;
  SceneRasterizer({options_.supersampling, options_.noise_amplitude})
      .Rasterize(options_.resolution, options_.resolution, background, regions, noise, &sample);
  return sample;
}

ShapesSample ShapesDataset::HandDrawnMapSample(uint64_t index) const {
  ShapesRng rng = ShapesRng::ForItem(options_.seed, kHandDrawnStream, index);
  ShapesRng noise = ShapesRng::ForItem(options_.seed, kHandDrawnNoiseStream, index);
  const auto background = static_cast<Background>(rng.UniformInt(kNumBackgrounds));
  const std::vector<Region> regions =
      SemanticMapGenerator::HandDrawnRegions(rng, options_.resolution, options_.shading_amplitude);
  ShapesSample sample;
  SceneRasterizer({options_.supersampling, options_.noise_amplitude})
      .Rasterize(options_.resolution, options_.resolution, background, regions, noise, &sample);
  return sample;
}

absl::StatusOr<ShapesSample> ShapesDataset::Render(const SceneSpec& spec) const {
  if (spec.resolution < 16 || spec.resolution > 2048) {
    return absl::InvalidArgumentError(
        absl::StrCat("resolution must be in [16, 2048], got ", spec.resolution));
  }
  if (spec.objects.empty() || spec.objects.size() > 2) {
    return absl::InvalidArgumentError(
        absl::StrCat("a scene has 1 or 2 objects, got ", spec.objects.size()));
  }
  if (spec.objects.size() == 2 && spec.objects[0].position == spec.objects[1].position) {
    return absl::InvalidArgumentError("the two objects of a scene need different positions");
  }
  ShapesRng rng = ShapesRng::ForItem(spec.seed, kRenderStream, 0);
  std::vector<Placement> placements;
  int tries = 0;
  while (!TryPlace(spec.objects, rng, &placements)) {
    if (++tries == kMaxLayoutTries) {
      return absl::InvalidArgumentError(
          absl::StrCat("objects do not fit without overlap: \"", CaptionFor(spec), "\""));
    }
  }
  Scene scene;
  scene.background = spec.background;
  scene.background_in_caption = true;
  for (size_t i = 0; i < spec.objects.size(); ++i) {
    ShapeObject o;
    o.shape = spec.objects[i].shape;
    o.color = spec.objects[i].color;
    o.size = spec.objects[i].size;
    o.position = spec.objects[i].position;
    o.center_x = placements[i].cx;
    o.center_y = placements[i].cy;
    o.side_px = placements[i].side;
    o.size_in_caption = true;
    o.position_in_caption = true;
    scene.objects.push_back(o);
    scene.shade_angles.push_back(rng.Uniform(0.0, 2.0 * M_PI));
  }
  scene.caption = CaptionFor(spec);
  ShapesRng noise = ShapesRng::ForItem(spec.seed, kRenderNoiseStream, 0);
  return RenderScene(scene, spec.resolution, noise);
}

absl::StatusOr<ShapesSample> ShapesDataset::RenderMap(const std::vector<uint8_t>& label_map,
                                                      int width, int height, Background background,
                                                      uint64_t seed) const {
  if (width <= 0 || height <= 0 ||
      label_map.size() != static_cast<size_t>(width) * static_cast<size_t>(height)) {
    return absl::InvalidArgumentError(absl::StrCat("label map has ", label_map.size(),
                                                   " entries, expected ", width, "x", height));
  }
  for (uint8_t v : label_map) {
    if (v >= kNumMapLabels) {
      return absl::InvalidArgumentError(
          absl::StrCat("label map values must be in [0, ", kNumMapLabels - 1, "], got ", v));
    }
  }
  ShapesRng rng = ShapesRng::ForItem(seed, kRenderMapStream, 0);
  ShapesSample sample;
  SceneRasterizer({options_.supersampling, options_.noise_amplitude})
      .RasterizeLabelMap(width, height, background, label_map, rng, &sample);
  return sample;
}

std::string ShapesDataset::CaptionFor(const SceneSpec& spec) {
  ParsedCaption facts;
  for (const ObjectSpec& o : spec.objects)
    facts.objects.push_back({o.shape, o.color, o.size, o.position});
  facts.background = spec.background;
  return CaptionGrammar::Canonical(facts);
}

const std::vector<std::string>& ShapesDataset::ClassNames() {
  static const std::vector<std::string>* const kNames = [] {
    auto* names = new std::vector<std::string>();
    for (int c = 0; c < kNumClasses; ++c) {
      names->push_back(absl::StrCat(std::string(ColorName(ClassColor(c))), " ",
                                    std::string(ShapeName(ClassShape(c)))));
    }
    return names;
  }();
  return *kNames;
}

std::vector<std::string> ShapesDataset::CaptionCorpus(size_t n) const {
  std::vector<std::string> corpus;
  corpus.reserve(n);
  for (size_t i = 0; i < n; ++i) corpus.push_back(DrawScene(i).caption);
  return corpus;
}

}  // namespace ldm::shapes
