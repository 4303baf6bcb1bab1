#include "tools/eval/eval_metrics.h"

#include <torch/torch.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>

#include "absl/strings/str_cat.h"
#include "core/common/status_macros.h"
#include "core/common/torch_guard.h"
#include "core/pipeline/semantic_map_channels.h"

namespace ldm::eval {

void RowStats::Add(const ImageScore& s) {
  ++images;
  objects += s.objects;
  color_ok += s.color_ok;
  shape_ok += s.shape_ok;
  size_stated += s.size_stated;
  size_ok += s.size_ok;
  position_stated += s.position_stated;
  position_ok += s.position_ok;
  count_ok += s.count_ok;
  all_ok += s.all_ok;
  objects_ok += s.objects_ok;
  miou_sum += s.miou;
}

void RowStats::AddDiversity(double d) {
  ++conditions;
  diversity_sum += d;
}

nlohmann::json RowStats::ToJson() const {
  return {{"images", images},
          {"conditions", conditions},
          {"color", color()},
          {"shape", shape()},
          {"size", size()},
          {"size_stated", size_stated},
          {"position", position()},
          {"position_stated", position_stated},
          {"count", count()},
          {"all", all()},
          {"objects_right", objects_right()},
          {"miou", miou()},
          {"diversity", diversity()}};
}

absl::StatusOr<ImageScore> EvalMetrics::ScoreImage(const shapes::ShapesAnalyzer& analyzer,
                                                   const EvalCondition& c, const Image8& image,
                                                   SceneFindings* findings) {
  if (image.channels != 3) return absl::InvalidArgumentError("images must be RGB");
  ImageScore s;
  if (c.kind == EvalKind::kMap || c.kind == EvalKind::kHandMap) {
    if (static_cast<size_t>(image.width) * image.height != c.truth_map.size()) {
      return absl::InvalidArgumentError(
          absl::StrCat("image ", image.width, "x", image.height, " does not match its map"));
    }
    LDM_ASSIGN_OR_RETURN(std::vector<uint8_t> labels,
                         analyzer.PerPixelLabels(image.pixels, image.width, image.height));
    LDM_ASSIGN_OR_RETURN(
        s.miou, shapes::ShapesAnalyzer::MeanIoU(labels, c.truth_map, shapes::kNumMapLabels));
    return s;
  }
  LDM_ASSIGN_OR_RETURN(shapes::ImageAnalysis analysis,
                       analyzer.Analyze(image.pixels, image.width, image.height));
  const shapes::CaptionCheck check = shapes::ShapesAnalyzer::CheckCaption(c.expected, analysis);
  s.count_ok = check.count_correct;
  s.objects = check.objects;
  s.color_ok = check.color_correct;
  s.shape_ok = check.shape_correct;
  s.size_stated = check.size_stated;
  s.size_ok = check.size_correct;
  s.position_stated = check.position_stated;
  s.position_ok = check.position_correct;
  s.all_ok = check.all_correct;
  s.objects_ok = check.count_correct && check.color_correct == check.objects &&
                 check.shape_correct == check.objects;
  if (findings != nullptr) *findings = {std::move(analysis), check};
  return s;
}

absl::StatusOr<double> EvalMetrics::Diversity(const std::vector<Image8>& images) {
  if (images.size() < 2) return 0.0;
  double sum = 0;
  int64_t pairs = 0;
  for (size_t i = 0; i < images.size(); ++i) {
    for (size_t j = i + 1; j < images.size(); ++j) {
      const auto& a = images[i].pixels;
      const auto& b = images[j].pixels;
      if (a.size() != b.size()) return absl::InvalidArgumentError("images differ in size");
      int64_t d = 0;
      for (size_t k = 0; k < a.size(); ++k)
        d += std::abs(static_cast<int>(a[k]) - static_cast<int>(b[k]));
      sum += static_cast<double>(d) / (255.0 * static_cast<double>(a.size()));
      ++pairs;
    }
  }
  return sum / static_cast<double>(pairs);
}

absl::StatusOr<double> EvalMetrics::Psnr(std::span<const uint8_t> a, std::span<const uint8_t> b) {
  if (a.size() != b.size() || a.empty()) {
    return absl::InvalidArgumentError("PSNR needs two non-empty images of the same size");
  }
  double se = 0;
  for (size_t k = 0; k < a.size(); ++k) {
    const double d = static_cast<double>(a[k]) - static_cast<double>(b[k]);
    se += d * d;
  }
  const double mse = se / static_cast<double>(a.size());
  if (mse == 0) return INFINITY;
  return 10.0 * std::log10(255.0 * 255.0 / mse);
}

absl::StatusOr<std::vector<uint8_t>> EvalMetrics::MapFromCells(std::span<const uint8_t> labels,
                                                               int width, int height,
                                                               int num_labels, int cells_w,
                                                               int cells_h) {
  if (width <= 0 || height <= 0 || cells_w <= 0 || cells_h <= 0 || width % cells_w != 0 ||
      height % cells_h != 0 || labels.size() != static_cast<size_t>(width) * height) {
    return absl::InvalidArgumentError(absl::StrCat("map ", width, "x", height, " (", labels.size(),
                                                   " labels) does not divide into ", cells_w, "x",
                                                   cells_h, " cells"));
  }
  if (num_labels <= 0 ||
      std::any_of(labels.begin(), labels.end(), [&](uint8_t v) { return v >= num_labels; })) {
    return absl::InvalidArgumentError(absl::StrCat("map labels must be in [0, ", num_labels, ")"));
  }
  return TorchGuard("rebuilding a map from its cells", [&]() {
    torch::Tensor t =
        torch::from_blob(const_cast<uint8_t*>(labels.data()), {1, height, width}, torch::kUInt8);
    torch::Tensor cells = SemanticMapChannels::Fractions(t, num_labels, cells_h, cells_w);
    torch::Tensor up = torch::upsample_bicubic2d(cells, {height, width}, /*align_corners=*/false);
    torch::Tensor rebuilt = up.argmax(1).to(torch::kUInt8).contiguous();
    return std::vector<uint8_t>(rebuilt.data_ptr<uint8_t>(),
                                rebuilt.data_ptr<uint8_t>() + rebuilt.numel());
  });
}

}  // namespace ldm::eval
