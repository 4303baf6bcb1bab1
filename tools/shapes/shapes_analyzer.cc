#include "tools/shapes/shapes_analyzer.h"

#include <algorithm>
#include <array>
#include <cmath>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"

namespace ldm::shapes {
namespace {

// Hue in degrees [0, 360) and chroma of an RGB triple.
void HueChroma(double r, double g, double b, double* hue, double* chroma) {
  const double mx = std::max({r, g, b}), mn = std::min({r, g, b});
  const double c = mx - mn;
  *chroma = c;
  if (c <= 0) {
    *hue = 0;
    return;
  }
  double h;
  if (mx == r) {
    h = std::fmod((g - b) / c, 6.0);
  } else if (mx == g) {
    h = (b - r) / c + 2.0;
  } else {
    h = (r - g) / c + 4.0;
  }
  h *= 60.0;
  if (h < 0) h += 360.0;
  *hue = h;
}

struct PaletteEntry {
  double hue = 0, chroma = 0;
};

const std::array<PaletteEntry, kNumColors>& Palette() {
  static const std::array<PaletteEntry, kNumColors> kPalette = [] {
    std::array<PaletteEntry, kNumColors> p;
    for (int c = 0; c < kNumColors; ++c) {
      const Rgb rgb = ColorRgb(static_cast<Color>(c));
      HueChroma(rgb.r, rgb.g, rgb.b, &p[c].hue, &p[c].chroma);
    }
    return p;
  }();
  return kPalette;
}

absl::Status CheckImage(std::span<const uint8_t> rgb, int width, int height) {
  if (width <= 0 || height <= 0 ||
      rgb.size() != static_cast<size_t>(width) * static_cast<size_t>(height) * 3) {
    return absl::InvalidArgumentError(
        absl::StrCat("image has ", rgb.size(), " bytes, expected ", width, "x", height, "x3"));
  }
  return absl::OkStatus();
}

Position CellOf(double cx, double cy, int width, int height) {
  const int col = std::clamp(static_cast<int>(cx * 3.0 / width), 0, 2);
  const int row = std::clamp(static_cast<int>(cy * 3.0 / height), 0, 2);
  return static_cast<Position>(3 * row + col);
}

}  // namespace

ShapesAnalyzer::ShapesAnalyzer(ShapesAnalyzerOptions options) : options_(options) {}

uint8_t ShapesAnalyzer::PixelLabel(uint8_t r, uint8_t g, uint8_t b) const {
  double hue, chroma;
  HueChroma(r, g, b, &hue, &chroma);
  int best = 0;
  double best_distance = 1e9;
  for (int c = 0; c < kNumColors; ++c) {
    double d = std::abs(hue - Palette()[c].hue);
    d = std::min(d, 360.0 - d);
    if (d < best_distance) {
      best_distance = d;
      best = c;
    }
  }
  return chroma >= options_.min_chroma_fraction * Palette()[best].chroma
             ? static_cast<uint8_t>(best + 1)
             : 0;
}

absl::StatusOr<std::vector<uint8_t>> ShapesAnalyzer::PerPixelLabels(std::span<const uint8_t> rgb,
                                                                    int width, int height) const {
  if (absl::Status s = CheckImage(rgb, width, height); !s.ok()) return s;
  std::vector<uint8_t> labels(static_cast<size_t>(width) * height);
  for (size_t p = 0; p < labels.size(); ++p) {
    labels[p] = PixelLabel(rgb[3 * p], rgb[3 * p + 1], rgb[3 * p + 2]);
  }
  return labels;
}

absl::StatusOr<ImageAnalysis> ShapesAnalyzer::Analyze(std::span<const uint8_t> rgb, int width,
                                                      int height) const {
  absl::StatusOr<std::vector<uint8_t>> labels_or = PerPixelLabels(rgb, width, height);
  if (!labels_or.ok()) return labels_or.status();
  const std::vector<uint8_t>& labels = *labels_or;
  const size_t num_pixels = labels.size();
  ImageAnalysis analysis;

  // Background level from the mean brightness of uncolored pixels.
  double sum = 0;
  size_t count = 0;
  for (size_t p = 0; p < num_pixels; ++p) {
    if (labels[p] != 0) continue;
    sum += (rgb[3 * p] + rgb[3 * p + 1] + rgb[3 * p + 2]) / 3.0;
    ++count;
  }
  if (count > 0) {
    const double mean = sum / count;
    double best = 1e9;
    for (int b = 0; b < kNumBackgrounds; ++b) {
      const double d = std::abs(mean - BackgroundRgb(static_cast<Background>(b)).r);
      if (d < best) {
        best = d;
        analysis.background = static_cast<Background>(b);
      }
    }
  }

  // Components over "any color" rather than per color: a hue-misread edge pixel then stays part of
  // its object instead of splitting it, and the majority vote decides the color.
  const double scale = width / static_cast<double>(kReferenceResolution);
  const int min_area =
      std::max(4, static_cast<int>(options_.min_area_fraction * static_cast<double>(num_pixels)));
  std::vector<int> component(num_pixels, -1);
  std::vector<int> stack;
  std::vector<int> pixels;
  int next_id = 0;
  for (size_t seed = 0; seed < num_pixels; ++seed) {
    if (labels[seed] == 0 || component[seed] >= 0) continue;
    pixels.clear();
    stack.assign(1, static_cast<int>(seed));
    component[seed] = next_id;
    while (!stack.empty()) {
      const int p = stack.back();
      stack.pop_back();
      pixels.push_back(p);
      const int x = p % width, y = p / width;
      const int neighbors[4][2] = {{x - 1, y}, {x + 1, y}, {x, y - 1}, {x, y + 1}};
      for (const auto& [nx, ny] : neighbors) {
        if (nx < 0 || ny < 0 || nx >= width || ny >= height) continue;
        const int q = ny * width + nx;
        if (labels[q] != 0 && component[q] < 0) {
          component[q] = next_id;
          stack.push_back(q);
        }
      }
    }
    ++next_id;
    if (static_cast<int>(pixels.size()) < min_area) continue;

    DetectedObject o;
    o.area = static_cast<int>(pixels.size());
    o.min_x = width;
    o.min_y = height;
    o.max_x = -1;
    o.max_y = -1;
    std::array<int, kNumMapLabels> votes{};
    for (int p : pixels) {
      const int x = p % width, y = p / width;
      o.min_x = std::min(o.min_x, x);
      o.max_x = std::max(o.max_x, x);
      o.min_y = std::min(o.min_y, y);
      o.max_y = std::max(o.max_y, y);
      ++votes[labels[p]];
    }
    const int majority =
        static_cast<int>(std::max_element(votes.begin() + 1, votes.end()) - votes.begin());
    o.color = static_cast<Color>(majority - 1);
    o.color_purity = votes[majority] / static_cast<double>(o.area);
    const int w = o.max_x - o.min_x + 1, h = o.max_y - o.min_y + 1;
    o.fill_ratio = o.area / static_cast<double>(w * h);

    // Mean row width over the top and bottom quarters of the box (at least one row each).
    std::vector<int> row_width(h, 0);
    for (int p : pixels) ++row_width[p / width - o.min_y];
    const int band = std::max(1, h / 4);
    double top = 0, bottom = 0;
    for (int i = 0; i < band; ++i) {
      top += row_width[i];
      bottom += row_width[h - 1 - i];
    }
    o.top_bottom_ratio = top / std::max(bottom, 1.0);

    // Corner boxes separate squares from circles better than the overall fill ratio when edge
    // pixels are lost to shading (a ragged square's fill drops towards pi/4; its corners stay).
    const int cw = std::max(1, (w + 2) / 5), ch = std::max(1, (h + 2) / 5);
    int corner_pixels = 0;
    for (int p : pixels) {
      const int x = p % width - o.min_x, y = p / width - o.min_y;
      corner_pixels += (x < cw || x >= w - cw) && (y < ch || y >= h - ch);
    }
    o.corner_fill = corner_pixels / static_cast<double>(4 * cw * ch);

    if (o.top_bottom_ratio < 0.6 && o.fill_ratio < 0.7) {
      o.shape = Shape::kTriangle;
    } else if (o.corner_fill >= 0.55 || o.fill_ratio > 0.93) {
      o.shape = Shape::kSquare;
    } else {
      o.shape = Shape::kCircle;
    }
    o.size = std::max(w, h) < 23.0 * scale ? Size::kSmall : Size::kLarge;
    o.position =
        CellOf(0.5 * (o.min_x + o.max_x + 1), 0.5 * (o.min_y + o.max_y + 1), width, height);
    analysis.objects.push_back(o);
  }
  std::stable_sort(analysis.objects.begin(), analysis.objects.end(),
                   [](const DetectedObject& a, const DetectedObject& b) {
                     if (a.area != b.area) return a.area > b.area;
                     if (a.min_y != b.min_y) return a.min_y < b.min_y;
                     return a.min_x < b.min_x;
                   });
  return analysis;
}

absl::StatusOr<double> ShapesAnalyzer::MeanIoU(std::span<const uint8_t> pred,
                                               std::span<const uint8_t> truth, int num_labels) {
  if (pred.size() != truth.size() || pred.empty() || num_labels <= 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("MeanIoU needs two non-empty maps of equal size "
                     "and num_labels > 0; got sizes ",
                     pred.size(), " and ", truth.size(), ", num_labels ", num_labels));
  }
  std::vector<int64_t> intersection(num_labels, 0), pred_count(num_labels, 0),
      truth_count(num_labels, 0);
  for (size_t i = 0; i < pred.size(); ++i) {
    if (pred[i] < num_labels) ++pred_count[pred[i]];
    if (truth[i] < num_labels) ++truth_count[truth[i]];
    if (pred[i] == truth[i] && pred[i] < num_labels) ++intersection[pred[i]];
  }
  double sum = 0;
  int present = 0;
  for (int l = 0; l < num_labels; ++l) {
    const int64_t uni = pred_count[l] + truth_count[l] - intersection[l];
    if (uni == 0) continue;
    sum += static_cast<double>(intersection[l]) / static_cast<double>(uni);
    ++present;
  }
  if (present == 0) return absl::InvalidArgumentError("no label in [0, num_labels) present");
  return sum / present;
}

CaptionCheck ShapesAnalyzer::CheckCaption(const ParsedCaption& caption,
                                          const ImageAnalysis& analysis) {
  CaptionCheck check;
  check.objects = static_cast<int>(caption.objects.size());
  check.count_correct = analysis.objects.size() == caption.objects.size();
  bool all = check.count_correct;
  std::vector<bool> used(analysis.objects.size(), false);
  for (const ParsedObject& want : caption.objects) {
    auto agreement = [&want](const DetectedObject& d) {
      int score = 2 * (d.color == want.color) + 2 * (d.shape == want.shape);
      if (want.size) score += (d.size == *want.size);
      if (want.position) score += (d.position == *want.position);
      return score;
    };
    int best = -1;
    for (size_t i = 0; i < analysis.objects.size(); ++i) {
      if (!used[i] &&
          (best < 0 || agreement(analysis.objects[i]) > agreement(analysis.objects[best]))) {
        best = static_cast<int>(i);
      }
    }
    if (want.size) ++check.size_stated;
    if (want.position) ++check.position_stated;
    if (best < 0) {
      all = false;
      continue;
    }
    used[best] = true;
    const DetectedObject& got = analysis.objects[best];
    const bool color_ok = got.color == want.color, shape_ok = got.shape == want.shape;
    const bool size_ok = !want.size || got.size == *want.size;
    const bool position_ok = !want.position || got.position == *want.position;
    check.color_correct += color_ok;
    check.shape_correct += shape_ok;
    check.size_correct += want.size && size_ok;
    check.position_correct += want.position && position_ok;
    all = all && color_ok && shape_ok && size_ok && position_ok;
  }
  if (caption.background) {
    check.background_stated = true;
    check.background_correct = analysis.background == *caption.background;
    all = all && check.background_correct;
  }
  check.all_correct = all;
  return check;
}

}  // namespace ldm::shapes
