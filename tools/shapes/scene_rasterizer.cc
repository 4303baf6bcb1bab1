#include "tools/shapes/scene_rasterizer.h"

#include <algorithm>
#include <array>
#include <cmath>

namespace ldm::shapes {
namespace {

double Clamp(double v, double lo, double hi) { return std::min(hi, std::max(lo, v)); }

uint8_t ToByte(double v) { return static_cast<uint8_t>(std::lround(Clamp(v, 0.0, 255.0))); }

double ShadeFactor(const Region& region, double x, double y) {
  if (region.shade_amplitude == 0) return 1.0;
  const double t = ((x - region.shade_center_x) * region.shade_dx +
                    (y - region.shade_center_y) * region.shade_dy) /
                   std::max(region.shade_extent, 1e-6);
  return 1.0 + region.shade_amplitude * Clamp(t, -1.0, 1.0);
}

double SegmentDistanceSquared(double px, double py, double ax, double ay, double bx, double by) {
  const double dx = bx - ax, dy = by - ay;
  const double len2 = dx * dx + dy * dy;
  double t = len2 > 0 ? ((px - ax) * dx + (py - ay) * dy) / len2 : 0.0;
  t = Clamp(t, 0.0, 1.0);
  const double qx = ax + t * dx - px, qy = ay + t * dy - py;
  return qx * qx + qy * qy;
}

}  // namespace

SceneRasterizer::SceneRasterizer(RasterizerOptions options) : options_(options) {
  options_.supersampling = std::max(1, options_.supersampling);
  options_.noise_amplitude = std::max(0, options_.noise_amplitude);
}

bool SceneRasterizer::Contains(const Region& region, double x, double y) {
  switch (region.kind) {
    case Region::Kind::kCircle: {
      const double dx = x - region.cx, dy = y - region.cy;
      return dx * dx + dy * dy <= region.radius * region.radius;
    }
    case Region::Kind::kPolygon: {
      // Even-odd rule by counting crossings of a ray towards +x.
      bool inside = false;
      const auto& p = region.points;
      for (size_t i = 0, j = p.size() - 1; i < p.size(); j = i++) {
        const auto [xi, yi] = p[i];
        const auto [xj, yj] = p[j];
        if ((yi > y) != (yj > y) && x < (xj - xi) * (y - yi) / (yj - yi) + xi) inside = !inside;
      }
      return inside;
    }
    case Region::Kind::kStroke: {
      const double r2 = 0.25 * region.thickness * region.thickness;
      const auto& p = region.points;
      if (p.size() == 1) {
        return SegmentDistanceSquared(x, y, p[0].first, p[0].second, p[0].first, p[0].second) <= r2;
      }
      for (size_t i = 1; i < p.size(); ++i) {
        if (SegmentDistanceSquared(x, y, p[i - 1].first, p[i - 1].second, p[i].first,
                                   p[i].second) <= r2) {
          return true;
        }
      }
      return false;
    }
  }
  return false;
}

std::vector<double> SceneRasterizer::Bounds(const Region& region) {
  if (region.kind == Region::Kind::kCircle) {
    return {region.cx - region.radius, region.cy - region.radius, region.cx + region.radius,
            region.cy + region.radius};
  }
  std::vector<double> b = {1e30, 1e30, -1e30, -1e30};
  for (const auto& [x, y] : region.points) {
    b[0] = std::min(b[0], x);
    b[1] = std::min(b[1], y);
    b[2] = std::max(b[2], x);
    b[3] = std::max(b[3], y);
  }
  if (region.kind == Region::Kind::kStroke) {
    const double r = 0.5 * region.thickness;
    b[0] -= r;
    b[1] -= r;
    b[2] += r;
    b[3] += r;
  }
  return b;
}

void SceneRasterizer::Rasterize(int width, int height, Background background,
                                const std::vector<Region>& regions, ShapesRng& noise_rng,
                                ShapesSample* sample) const {
  sample->width = width;
  sample->height = height;
  sample->background = background;
  sample->rgb.assign(static_cast<size_t>(width) * height * 3, 0);
  sample->label_map.assign(static_cast<size_t>(width) * height, 0);

  // Regions with empty polygons/strokes would break Contains; drop them up front.
  std::vector<const Region*> live;
  std::vector<std::vector<double>> bounds;
  for (const Region& r : regions) {
    if (r.kind != Region::Kind::kCircle && r.points.empty()) continue;
    live.push_back(&r);
    bounds.push_back(Bounds(r));
  }

  const Rgb bg = BackgroundRgb(background);
  const int n = options_.supersampling;
  const double inv_n = 1.0 / n;
  const double inv_samples = 1.0 / (n * n);
  const int amp = options_.noise_amplitude;
  for (int y = 0; y < height; ++y) {
    for (int x = 0; x < width; ++x) {
      // Only regions whose bounds touch this pixel need per-sample tests.
      std::array<int, 16> near{};
      int num_near = 0;
      for (int k = static_cast<int>(live.size()) - 1; k >= 0 && num_near < 16; --k) {
        const auto& b = bounds[k];
        if (b[0] <= x + 1 && b[2] >= x && b[1] <= y + 1 && b[3] >= y) near[num_near++] = k;
      }
      double r = 0, g = 0, bl = 0;
      std::array<int, kNumMapLabels> votes{};
      for (int sy = 0; sy < n; ++sy) {
        for (int sx = 0; sx < n; ++sx) {
          const double px = x + (sx + 0.5) * inv_n, py = y + (sy + 0.5) * inv_n;
          const Region* hit = nullptr;
          for (int i = 0; i < num_near && hit == nullptr; ++i) {
            if (Contains(*live[near[i]], px, py)) hit = live[near[i]];
          }
          if (hit == nullptr) {
            r += bg.r;
            g += bg.g;
            bl += bg.b;
            ++votes[0];
          } else {
            const Rgb c = ColorRgb(hit->color);
            const double f = ShadeFactor(*hit, px, py);
            r += c.r * f;
            g += c.g * f;
            bl += c.b * f;
            ++votes[ColorLabel(hit->color)];
          }
        }
      }
      const size_t p = static_cast<size_t>(y) * width + x;
      // Noise is drawn for every pixel in raster order so the stream does not depend on content.
      const double nr = amp ? noise_rng.UniformInt(2 * amp + 1) - amp : 0;
      const double ng = amp ? noise_rng.UniformInt(2 * amp + 1) - amp : 0;
      const double nb = amp ? noise_rng.UniformInt(2 * amp + 1) - amp : 0;
      sample->rgb[3 * p + 0] = ToByte(r * inv_samples + nr);
      sample->rgb[3 * p + 1] = ToByte(g * inv_samples + ng);
      sample->rgb[3 * p + 2] = ToByte(bl * inv_samples + nb);
      sample->label_map[p] =
          static_cast<uint8_t>(std::max_element(votes.begin(), votes.end()) - votes.begin());
    }
  }
}

void SceneRasterizer::RasterizeLabelMap(int width, int height, Background background,
                                        const std::vector<uint8_t>& label_map, ShapesRng& rng,
                                        ShapesSample* sample) const {
  sample->width = width;
  sample->height = height;
  sample->background = background;
  sample->rgb.assign(static_cast<size_t>(width) * height * 3, 0);
  sample->label_map.assign(static_cast<size_t>(width) * height, 0);

  // One gradient per label across the whole canvas, so a label's regions share a light direction.
  std::array<Region, kNumMapLabels> shade{};
  for (int l = 1; l < kNumMapLabels; ++l) {
    const double angle = rng.Uniform(0.0, 2.0 * M_PI);
    shade[l].shade_center_x = 0.5 * width;
    shade[l].shade_center_y = 0.5 * height;
    shade[l].shade_dx = std::cos(angle);
    shade[l].shade_dy = std::sin(angle);
    shade[l].shade_extent = 0.5 * std::max(width, height);
    shade[l].shade_amplitude = 0.15;
  }
  const Rgb bg = BackgroundRgb(background);
  const int amp = options_.noise_amplitude;
  for (int y = 0; y < height; ++y) {
    for (int x = 0; x < width; ++x) {
      const size_t p = static_cast<size_t>(y) * width + x;
      const int label = p < label_map.size() && label_map[p] < kNumMapLabels ? label_map[p] : 0;
      double r = bg.r, g = bg.g, b = bg.b;
      if (label > 0) {
        const Rgb c = ColorRgb(static_cast<Color>(label - 1));
        const double f = ShadeFactor(shade[label], x + 0.5, y + 0.5);
        r = c.r * f;
        g = c.g * f;
        b = c.b * f;
      }
      const double nr = amp ? rng.UniformInt(2 * amp + 1) - amp : 0;
      const double ng = amp ? rng.UniformInt(2 * amp + 1) - amp : 0;
      const double nb = amp ? rng.UniformInt(2 * amp + 1) - amp : 0;
      sample->rgb[3 * p + 0] = ToByte(r + nr);
      sample->rgb[3 * p + 1] = ToByte(g + ng);
      sample->rgb[3 * p + 2] = ToByte(b + nb);
      sample->label_map[p] = static_cast<uint8_t>(label);
    }
  }
}

}  // namespace ldm::shapes
