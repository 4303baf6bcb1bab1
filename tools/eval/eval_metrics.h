// EvalMetrics: scoring of generated shapes images, and the per-row aggregates ldm-eval reports.
//
//   ScoreImage   one image against its condition, with ShapesAnalyzer: for class and caption
//                conditions which stated facts hold (CheckCaption); for maps the mIoU between
//                the analyzer's per-pixel colors and the input map (7 labels, background
//                included)
//   Diversity    mean pairwise distance of a condition's images: mean |a - b| over pixels and
//                channels, in [0, 1] (0: identical images)
//   Psnr         10 log10(255^2 / MSE) over uint8 images
// Pure functions; thread-safe.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "absl/status/statusor.h"
#include "core/io/png_codec.h"
#include "nlohmann/json.hpp"
#include "tools/eval/eval_suite.h"
#include "tools/shapes/shapes_analyzer.h"

namespace ldm::eval {

struct ImageScore {
  bool count_ok = false;
  int objects = 0;
  int color_ok = 0, shape_ok = 0;
  int size_stated = 0, size_ok = 0;
  int position_stated = 0, position_ok = 0;
  bool all_ok = false;      // every stated fact and the count
  bool objects_ok = false;  // count right and every object's color and shape right
  double miou = 0;          // map kinds
};

// Aggregate over the images of one row (a kind at one guidance scale).
struct RowStats {
  int images = 0, conditions = 0;
  int64_t objects = 0, color_ok = 0, shape_ok = 0;
  int64_t size_stated = 0, size_ok = 0, position_stated = 0, position_ok = 0;
  int64_t count_ok = 0, all_ok = 0, objects_ok = 0;
  double miou_sum = 0;
  double diversity_sum = 0;  // summed per condition

  void Add(const ImageScore& s);
  void AddDiversity(double d);
  static double Ratio(int64_t a, int64_t b) { return b > 0 ? static_cast<double>(a) / b : 0.0; }
  double color() const { return Ratio(color_ok, objects); }
  double shape() const { return Ratio(shape_ok, objects); }
  double size() const { return Ratio(size_ok, size_stated); }
  double position() const { return Ratio(position_ok, position_stated); }
  double count() const { return Ratio(count_ok, images); }
  double all() const { return Ratio(all_ok, images); }
  double objects_right() const { return Ratio(objects_ok, images); }
  double miou() const { return images > 0 ? miou_sum / images : 0.0; }
  double diversity() const { return conditions > 0 ? diversity_sum / conditions : 0.0; }
  nlohmann::json ToJson() const;
};

// What ScoreImage found in a class or caption image: the analyzer's objects and the check of
// the condition's facts against them (FailureLog reports them).
struct SceneFindings {
  shapes::ImageAnalysis analysis;
  shapes::CaptionCheck check;
};

class EvalMetrics {
 public:
  // `findings`, when given, receives the analysis and check of a class or caption image (left
  // as it is for map kinds).
  static absl::StatusOr<ImageScore> ScoreImage(const shapes::ShapesAnalyzer& analyzer,
                                               const EvalCondition& condition, const Image8& image,
                                               SceneFindings* findings = nullptr);
  // INVALID_ARGUMENT when images differ in size; 0 for fewer than two images.
  static absl::StatusOr<double> Diversity(const std::vector<Image8>& images);
  static absl::StatusOr<double> Psnr(std::span<const uint8_t> a, std::span<const uint8_t> b);
  // The label map a decoder could rebuild from a model's map channels alone: `labels` (width x
  // height, values in [0, num_labels)) area-downsampled to cells_w x cells_h fractions
  // (SemanticMapChannels::Fractions, what the UNet is given: latent size x
  // semantic_map_subcells), upsampled back bicubically, argmax per pixel. Its mIoU against `labels`
  // measures how much of the map's shape the channels carry. INVALID_ARGUMENT when the sizes do not
  // divide or a label is out of range.
  static absl::StatusOr<std::vector<uint8_t>> MapFromCells(std::span<const uint8_t> labels,
                                                           int width, int height, int num_labels,
                                                           int cells_w, int cells_h);
};

}  // namespace ldm::eval
