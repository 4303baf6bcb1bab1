// ShapesDataset: the procedural "shapes" dataset ldm trains its small model on.
//
// Each sample is a 64x64 (or any resolution) RGB image of one or two objects (circle, square,
// triangle; six colors; small or large; in one of the 3x3 cells) on a white, gray or black
// background, with a caption that states a random subset of the truth, a class label (single
// object images) and a per-pixel semantic label map. Map samples render random labeled regions.
//
// Determinism: a sample depends only on (options, index). All random draws come from
// ShapesRng::ForItem(options.seed, stream, index), never from shared state, so samples can be
// produced in any order and on any thread. Layouts are drawn in the 64-pixel reference frame and
// scaled, so Sample(i) at resolution 256 shows the same scene as at 64 (only pixel noise differs);
// this gives aligned pairs for super-resolution.
//
// Thread safety: all methods are const and safe to call concurrently.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "tools/shapes/shapes_rng.h"
#include "tools/shapes/shapes_types.h"

namespace ldm::shapes {

struct ShapesDatasetOptions {
  uint64_t seed = 0;
  // Canvas side in pixels (square images). Sizes and positions scale by resolution / 64.
  int resolution = kReferenceResolution;
  double two_object_probability = 0.4;
  // Probabilities that the caption states an object's size / position / the background.
  double size_mention_probability = 0.6;
  double position_mention_probability = 0.6;
  double background_mention_probability = 0.4;
  // Per-channel uniform pixel noise amplitude (in 0..255 units) and brightness shading amplitude.
  int noise_amplitude = 6;
  double shading_amplitude = 0.15;
  // Anti-aliasing sub-samples per pixel side.
  int supersampling = 4;
};

class ShapesDataset {
 public:
  explicit ShapesDataset(ShapesDatasetOptions options = {});

  const ShapesDatasetOptions& options() const { return options_; }

  // The index-th training sample (objects, caption, class label, label map). In two-object
  // samples at most one object is large: two large ones rarely fit and would crowd the edges.
  ShapesSample Sample(uint64_t index) const;
  // The index-th semantic-map sample: random labeled regions (shapes, blobs, polygons, strokes)
  // over a random background. objects is empty, caption empty, class_label -1.
  ShapesSample MapSample(uint64_t index) const;
  // Held-out "hand-drawn-like" maps (wobbly outlines, scribbles) from a stream disjoint from
  // MapSample's, for evaluating map conditioning on inputs unlike the training maps.
  ShapesSample HandDrawnMapSample(uint64_t index) const;

  // Renders a chosen scene: 1 or 2 objects at distinct positions, laid out with jitter drawn from
  // spec.seed. The caption is CaptionFor(spec). INVALID_ARGUMENT if the resolution is outside
  // [16, 2048], the object count is not 1 or 2, two objects share a position, or no layout fits
  // within kMaxLayoutTries jittered draws. Two large objects fit only in opposite cells (e.g. left
  // and right) and with sides near the low end of the large range.
  absl::StatusOr<ShapesSample> Render(const SceneSpec& spec) const;
  // Renders a given label map (values 0..6, row-major width x height) in the dataset's colors and
  // shading over `background`. INVALID_ARGUMENT on a size mismatch or a label above 6.
  absl::StatusOr<ShapesSample> RenderMap(const std::vector<uint8_t>& label_map, int width,
                                         int height, Background background, uint64_t seed) const;

  // The caption stating every attribute of the spec, in canonical wording.
  static std::string CaptionFor(const SceneSpec& spec);
  // "red circle", "green circle", ..., "cyan triangle" (index = 6 * shape + color).
  static const std::vector<std::string>& ClassNames();
  // Captions of samples 0..n-1 (no rendering), e.g. for learning a tokenizer.
  std::vector<std::string> CaptionCorpus(size_t n) const;

 private:
  // A drawn scene before rendering: placements in reference units plus render parameters.
  struct Scene;
  Scene DrawScene(uint64_t index) const;
  ShapesSample RenderScene(const Scene& scene, int resolution, ShapesRng& noise_rng) const;

  ShapesDatasetOptions options_;
};

}  // namespace ldm::shapes
