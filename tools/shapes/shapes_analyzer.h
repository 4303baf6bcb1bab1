// ShapesAnalyzer: finds the objects of a shapes-dataset image (for ldm-eval) and labels its pixels.
//
// Method: every pixel is classified as background or one of the six palette colors by hue and
// chroma (max - min channel), not raw RGB distance, so shading (which scales brightness) and
// blending with a gray-level background (which keeps hue) do not change the class. A pixel is
// colored when its chroma reaches min_chroma_fraction of its palette color's chroma, i.e. roughly
// when an anti-aliased edge pixel is at least half covered. Colored pixels form 4-connected
// components; components under min_area_fraction of the image are noise. Per component:
//   color     majority of its pixels' colors
//   shape     triangle if the top quarter of the bounding box is much narrower than the bottom
//             quarter and the box is about half filled; else square if the corners of the box
//             are filled (a circle leaves them empty) or the fill ratio is near 1, else circle
//   size      small if the bounding box side is below 23 px at 64 px (scaled), else large
//   position  3x3 cell of the bounding-box centre
// The background class is the nearest level (240 / 128 / 25) to the mean background brightness.
//
// Images are row-major HWC uint8 RGB of any size (the dataset uses 64, 128, 256). Stateless apart
// from options; all methods are const/static and thread-safe.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "absl/status/statusor.h"
#include "tools/shapes/shapes_types.h"

namespace ldm::shapes {

struct ShapesAnalyzerOptions {
  double min_chroma_fraction = 0.5;
  double min_area_fraction = 0.006;  // about 25 pixels at 64x64
};

struct DetectedObject {
  Shape shape = Shape::kCircle;
  Color color = Color::kRed;
  Size size = Size::kSmall;
  Position position = Position::kCenter;
  int area = 0;                                    // pixels
  int min_x = 0, min_y = 0, max_x = 0, max_y = 0;  // inclusive bounding box
  double fill_ratio = 0;                           // area / bounding-box area
  double top_bottom_ratio = 0;                     // mean row width, top quarter / bottom quarter
  double corner_fill = 0;   // filled fraction of the four corner boxes (w/5 x h/5)
  double color_purity = 0;  // fraction of pixels with the majority color
};

struct ImageAnalysis {
  Background background = Background::kGray;
  // Largest first (ties: top-most, then left-most).
  std::vector<DetectedObject> objects;
};

// Agreement of a caption's facts with an analysis (see CheckCaption).
struct CaptionCheck {
  bool count_correct = false;  // as many objects found as the caption names
  int objects = 0;             // objects named by the caption
  int color_correct = 0, shape_correct = 0;
  int size_stated = 0, size_correct = 0;
  int position_stated = 0, position_correct = 0;
  bool background_stated = false, background_correct = false;
  // Everything the caption states holds, and the count is right.
  bool all_correct = false;
};

class ShapesAnalyzer {
 public:
  explicit ShapesAnalyzer(ShapesAnalyzerOptions options = {});

  // INVALID_ARGUMENT if rgb.size() != width * height * 3 or a dimension is not positive.
  absl::StatusOr<ImageAnalysis> Analyze(std::span<const uint8_t> rgb, int width, int height) const;
  // Per-pixel labels 0 (background) or 1 + Color; same errors as Analyze.
  absl::StatusOr<std::vector<uint8_t>> PerPixelLabels(std::span<const uint8_t> rgb, int width,
                                                      int height) const;

  // Mean over labels in [0, num_labels) present in pred or truth of |pred & truth| / |pred |
  // truth|. Values >= num_labels are ignored. INVALID_ARGUMENT on a size mismatch, empty maps, or
  // num_labels <= 0.
  static absl::StatusOr<double> MeanIoU(std::span<const uint8_t> pred,
                                        std::span<const uint8_t> truth, int num_labels);

  // Matches each caption object to a distinct detected object (greedily, most agreeing attributes
  // first) and counts which stated attributes hold.
  static CaptionCheck CheckCaption(const ParsedCaption& caption, const ImageAnalysis& analysis);

 private:
  // Label of one pixel: 0 or 1 + Color.
  uint8_t PixelLabel(uint8_t r, uint8_t g, uint8_t b) const;

  ShapesAnalyzerOptions options_;
};

}  // namespace ldm::shapes
