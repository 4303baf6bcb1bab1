// Rasterizes a background and a stack of colored regions (circles, polygons, thick polylines) into
// an anti-aliased RGB image and its per-pixel label map.
//
// Anti-aliasing is by supersampling: each pixel is split into n x n sub-samples, each sub-sample
// takes the color of the topmost region containing it (or the background), and the pixel is their
// mean. The label of a pixel is the majority label of its sub-samples, so the label map agrees
// with the visible colors (a pixel is labeled with a region when that region covers at least half
// of it, up to ties). Shading is a linear brightness gradient across each region; noise is uniform
// per channel and drawn from the caller's generator.
//
// Stateless apart from options; Rasterize is const and thread-safe.
#pragma once

#include <cstdint>
#include <utility>
#include <vector>

#include "tools/shapes/shapes_rng.h"
#include "tools/shapes/shapes_types.h"

namespace ldm::shapes {

// One colored region in pixel coordinates (x to the right, y down; pixel (i, j) spans
// [i, i+1) x [j, j+1)).
struct Region {
  enum class Kind { kCircle, kPolygon, kStroke };
  Kind kind = Kind::kPolygon;
  Color color = Color::kRed;
  // kCircle: centre and radius.
  double cx = 0, cy = 0, radius = 0;
  // kPolygon: vertices of a simple or self-intersecting polygon (even-odd rule).
  // kStroke: the polyline's points.
  std::vector<std::pair<double, double>> points;
  // kStroke: full line width.
  double thickness = 0;
  // Shading: brightness factor 1 + amplitude * t, where t in [-1, 1] is the projection of
  // (p - shade_center) on the unit direction (shade_dx, shade_dy), divided by shade_extent.
  double shade_center_x = 0, shade_center_y = 0;
  double shade_dx = 1, shade_dy = 0;
  double shade_extent = 1;
  double shade_amplitude = 0;
};

struct RasterizerOptions {
  // Sub-samples per pixel side.
  int supersampling = 4;
  // Uniform noise in [-noise_amplitude, noise_amplitude] added to every channel of every pixel.
  int noise_amplitude = 6;
};

class SceneRasterizer {
 public:
  explicit SceneRasterizer(RasterizerOptions options = {});

  // Renders `regions` (later ones on top) over `background` into sample->rgb and
  // sample->label_map, setting width, height and background. Noise draws come from `noise_rng`.
  void Rasterize(int width, int height, Background background, const std::vector<Region>& regions,
                 ShapesRng& noise_rng, ShapesSample* sample) const;

  // Renders a given label map (values 0..6, others are treated as background): every labeled
  // pixel gets its color, shaded by one gradient per label drawn from `rng`, over the background,
  // plus noise. No anti-aliasing (the map is already pixel-exact).
  void RasterizeLabelMap(int width, int height, Background background,
                         const std::vector<uint8_t>& label_map, ShapesRng& rng,
                         ShapesSample* sample) const;

  // True if the point (x, y) lies inside the region.
  static bool Contains(const Region& region, double x, double y);
  // Conservative axis-aligned bounds of the region: {min_x, min_y, max_x, max_y}.
  static std::vector<double> Bounds(const Region& region);

 private:
  RasterizerOptions options_;
};

}  // namespace ldm::shapes
