#include "tools/shapes/semantic_map_generator.h"

#include <algorithm>
#include <cmath>

namespace ldm::shapes {
namespace {

constexpr double kRef = kReferenceResolution;

void SetShading(Region* r, double cx, double cy, double extent, double amplitude, ShapesRng& rng) {
  const double angle = rng.Uniform(0.0, 2.0 * M_PI);
  r->shade_center_x = cx;
  r->shade_center_y = cy;
  r->shade_dx = std::cos(angle);
  r->shade_dy = std::sin(angle);
  r->shade_extent = extent;
  r->shade_amplitude = amplitude;
}

// A closed outline around (cx, cy) with radius r0 * (1 + sum of low-frequency sines): smooth
// blobs when `wobble` is small in high harmonics, hand-drawn outlines when noisy per vertex.
std::vector<std::pair<double, double>> RadialOutline(double cx, double cy, double r0, int vertices,
                                                     double harmonic_amplitude,
                                                     double vertex_jitter, ShapesRng& rng) {
  double amp[3], phase[3];
  for (int k = 0; k < 3; ++k) {
    amp[k] = rng.Uniform(0.0, harmonic_amplitude);
    phase[k] = rng.Uniform(0.0, 2.0 * M_PI);
  }
  std::vector<std::pair<double, double>> pts;
  for (int i = 0; i < vertices; ++i) {
    const double t = 2.0 * M_PI * i / vertices;
    double r = 1.0;
    for (int k = 0; k < 3; ++k) r += amp[k] * std::sin((k + 2) * t + phase[k]);
    r = r0 * std::max(0.3, r) * (1.0 + rng.Uniform(-vertex_jitter, vertex_jitter));
    pts.emplace_back(cx + r * std::cos(t), cy + r * std::sin(t));
  }
  return pts;
}

// Points along a path; `jitter` displaces each point sideways to look hand-made.
std::vector<std::pair<double, double>> Wobble(const std::vector<std::pair<double, double>>& path,
                                              int steps_per_segment, double jitter,
                                              ShapesRng& rng) {
  std::vector<std::pair<double, double>> out;
  double ox = 0, oy = 0;  // a slowly drifting offset gives smooth, not spiky, wobble
  for (size_t i = 0; i + 1 < path.size(); ++i) {
    for (int s = 0; s < steps_per_segment; ++s) {
      const double t = static_cast<double>(s) / steps_per_segment;
      ox = 0.6 * ox + rng.Uniform(-jitter, jitter);
      oy = 0.6 * oy + rng.Uniform(-jitter, jitter);
      out.emplace_back(path[i].first + t * (path[i + 1].first - path[i].first) + ox,
                       path[i].second + t * (path[i + 1].second - path[i].second) + oy);
    }
  }
  out.push_back(path.back());
  return out;
}

void Scale(Region* r, double s) {
  r->cx *= s;
  r->cy *= s;
  r->radius *= s;
  r->thickness *= s;
  r->shade_center_x *= s;
  r->shade_center_y *= s;
  r->shade_extent *= s;
  for (auto& [x, y] : r->points) {
    x *= s;
    y *= s;
  }
}

Region BasicShape(int kind, double cx, double cy, double side) {
  Region r;
  const double h = 0.5 * side;
  if (kind == 0) {
    r.kind = Region::Kind::kCircle;
    r.cx = cx;
    r.cy = cy;
    r.radius = h;
  } else if (kind == 1) {
    r.points = {{cx - h, cy - h}, {cx + h, cy - h}, {cx + h, cy + h}, {cx - h, cy + h}};
  } else {
    r.points = {{cx, cy - h}, {cx + h, cy + h}, {cx - h, cy + h}};
  }
  return r;
}

}  // namespace

std::vector<Region> SemanticMapGenerator::TrainingRegions(ShapesRng& rng, int resolution,
                                                          double shading_amplitude) {
  const int count = 1 + rng.UniformInt(4);
  std::vector<Region> regions;
  for (int i = 0; i < count; ++i) {
    const double cx = rng.Uniform(0.12, 0.88) * kRef, cy = rng.Uniform(0.12, 0.88) * kRef;
    const double size = rng.Uniform(10.0, 36.0);
    Region r;
    switch (rng.UniformInt(6)) {
      case 0:
      case 1:
      case 2:
        r = BasicShape(rng.UniformInt(3), cx, cy, size);
        break;
      case 3:  // smooth blob
        r.points = RadialOutline(cx, cy, 0.5 * size, 40, 0.3, 0.0, rng);
        break;
      case 4: {  // star-like polygon with 3-8 vertices
        const int n = 3 + rng.UniformInt(6);
        const double start = rng.Uniform(0.0, 2.0 * M_PI);
        for (int k = 0; k < n; ++k) {
          const double t = start + 2.0 * M_PI * (k + rng.Uniform(-0.3, 0.3)) / n;
          const double rr = 0.5 * size * rng.Uniform(0.5, 1.0);
          r.points.emplace_back(cx + rr * std::cos(t), cy + rr * std::sin(t));
        }
        break;
      }
      default: {  // thick polyline
        r.kind = Region::Kind::kStroke;
        r.thickness = rng.Uniform(3.0, 9.0);
        double x = cx, y = cy, heading = rng.Uniform(0.0, 2.0 * M_PI);
        r.points.emplace_back(x, y);
        for (int k = 1 + rng.UniformInt(4); k > 0; --k) {
          heading += rng.Uniform(-1.2, 1.2);
          const double len = rng.Uniform(8.0, 22.0);
          x = std::clamp(x + len * std::cos(heading), 2.0, kRef - 2.0);
          y = std::clamp(y + len * std::sin(heading), 2.0, kRef - 2.0);
          r.points.emplace_back(x, y);
        }
        break;
      }
    }
    r.color = static_cast<Color>(rng.UniformInt(kNumColors));
    SetShading(&r, cx, cy, std::max(4.0, 0.5 * size), shading_amplitude, rng);
    Scale(&r, resolution / kRef);
    regions.push_back(std::move(r));
  }
  return regions;
}

std::vector<Region> SemanticMapGenerator::HandDrawnRegions(ShapesRng& rng, int resolution,
                                                           double shading_amplitude) {
  const int count = 1 + rng.UniformInt(3);
  std::vector<Region> regions;
  for (int i = 0; i < count; ++i) {
    const double cx = rng.Uniform(0.15, 0.85) * kRef, cy = rng.Uniform(0.15, 0.85) * kRef;
    const double size = rng.Uniform(14.0, 34.0);
    const double h = 0.5 * size;
    Region r;
    switch (rng.UniformInt(4)) {
      case 0:  // rough circle: per-vertex jitter on a near-round outline
        r.points = RadialOutline(cx, cy, h, 28, 0.08, 0.06, rng);
        break;
      case 1: {  // wobbly box, slightly rotated
        const double a = rng.Uniform(-0.25, 0.25), c = std::cos(a), s = std::sin(a);
        std::vector<std::pair<double, double>> corners;
        for (auto [dx, dy] : {std::pair{-h, -h}, {h, -h}, {h, h}, {-h, h}, {-h, -h}}) {
          corners.emplace_back(cx + c * dx - s * dy, cy + s * dx + c * dy);
        }
        r.points = Wobble(corners, 6, 0.6, rng);
        break;
      }
      case 2: {  // wobbly triangle
        std::vector<std::pair<double, double>> corners = {
            {cx + rng.Uniform(-3.0, 3.0), cy - h}, {cx + h, cy + h}, {cx - h, cy + h}, {0, 0}};
        corners.back() = corners.front();
        r.points = Wobble(corners, 8, 0.6, rng);
        break;
      }
      default: {  // scribbled stroke
        r.kind = Region::Kind::kStroke;
        r.thickness = rng.Uniform(4.0, 10.0);
        std::vector<std::pair<double, double>> path = {{cx, cy}};
        double heading = rng.Uniform(0.0, 2.0 * M_PI);
        for (int k = 1 + rng.UniformInt(3); k > 0; --k) {
          heading += rng.Uniform(-1.5, 1.5);
          const double len = rng.Uniform(10.0, 24.0);
          path.emplace_back(
              std::clamp(path.back().first + len * std::cos(heading), 3.0, kRef - 3.0),
              std::clamp(path.back().second + len * std::sin(heading), 3.0, kRef - 3.0));
        }
        r.points = Wobble(path, 8, 0.8, rng);
        break;
      }
    }
    r.color = static_cast<Color>(rng.UniformInt(kNumColors));
    SetShading(&r, cx, cy, h, shading_amplitude, rng);
    Scale(&r, resolution / kRef);
    regions.push_back(std::move(r));
  }
  return regions;
}

}  // namespace ldm::shapes
