#include "tools/shapes/shapes_analyzer.h"

#include <gtest/gtest.h>

#include <cstdio>

#include "tools/shapes/caption_grammar.h"
#include "tools/shapes/shapes_dataset.h"

namespace ldm::shapes {
namespace {

struct Accuracy {
  int samples = 0, count = 0, objects = 0, color = 0, shape = 0, size = 0, position = 0,
      background = 0, all = 0;
};

// Matches detected objects to the truth by position cell (distinct within a sample) and counts
// per-attribute agreement.
Accuracy Measure(int resolution, int n, uint64_t seed) {
  const ShapesDataset dataset({.seed = seed, .resolution = resolution});
  const ShapesAnalyzer analyzer;
  Accuracy a;
  for (int i = 0; i < n; ++i) {
    const ShapesSample s = dataset.Sample(static_cast<uint64_t>(i));
    absl::StatusOr<ImageAnalysis> r = analyzer.Analyze(s.rgb, s.width, s.height);
    EXPECT_TRUE(r.ok()) << r.status();
    if (!r.ok()) continue;
    ++a.samples;
    const bool count_ok = r->objects.size() == s.objects.size();
    a.count += count_ok;
    a.background += r->background == s.background;
    bool all = count_ok && r->background == s.background;
    for (const ShapeObject& o : s.objects) {
      ++a.objects;
      const DetectedObject* match = nullptr;
      for (const DetectedObject& d : r->objects) {
        if (d.position == o.position) match = &d;
      }
      if (match == nullptr) {
        all = false;
        continue;
      }
      a.position += 1;
      a.color += match->color == o.color;
      a.shape += match->shape == o.shape;
      a.size += match->size == o.size;
      all = all && match->color == o.color && match->shape == o.shape && match->size == o.size;
      if (match->shape != o.shape || match->color != o.color || match->size != o.size) {
        std::printf("  miss %d: %s %s %s -> %s %s %s fill=%.3f tb=%.2f corners=%.2f box=%dx%d\n", i,
                    std::string(SizeName(o.size)).c_str(), std::string(ColorName(o.color)).c_str(),
                    std::string(ShapeName(o.shape)).c_str(),
                    std::string(SizeName(match->size)).c_str(),
                    std::string(ColorName(match->color)).c_str(),
                    std::string(ShapeName(match->shape)).c_str(), match->fill_ratio,
                    match->top_bottom_ratio, match->corner_fill, match->max_x - match->min_x + 1,
                    match->max_y - match->min_y + 1);
      }
    }
    a.all += all;
  }
  std::printf(
      "analyzer %dx%d on %d samples (%d objects): count %.2f%% color %.2f%% shape %.2f%% size "
      "%.2f%% position %.2f%% background %.2f%% all-correct %.2f%%\n",
      resolution, resolution, a.samples, a.objects, 100.0 * a.count / a.samples,
      100.0 * a.color / a.objects, 100.0 * a.shape / a.objects, 100.0 * a.size / a.objects,
      100.0 * a.position / a.objects, 100.0 * a.background / a.samples, 100.0 * a.all / a.samples);
  return a;
}

void ExpectAtLeast99(const Accuracy& a) {
  EXPECT_GE(a.count, 0.99 * a.samples);
  EXPECT_GE(a.background, 0.99 * a.samples);
  EXPECT_GE(a.color, 0.99 * a.objects);
  EXPECT_GE(a.shape, 0.99 * a.objects);
  EXPECT_GE(a.size, 0.99 * a.objects);
  EXPECT_GE(a.position, 0.99 * a.objects);
  EXPECT_GE(a.all, 0.99 * a.samples);
}

TEST(ShapesAnalyzerTest, AccurateOnCleanRenders64) { ExpectAtLeast99(Measure(64, 2000, 123)); }

TEST(ShapesAnalyzerTest, AccurateOnCleanRenders128And256) {
  ExpectAtLeast99(Measure(128, 300, 124));
  ExpectAtLeast99(Measure(256, 100, 125));
}

TEST(ShapesAnalyzerTest, CheckCaptionAgreesWithDatasetCaptions) {
  const ShapesDataset dataset({.seed = 126});
  const ShapesAnalyzer analyzer;
  int all_correct = 0;
  const int n = 300;
  for (int i = 0; i < n; ++i) {
    const ShapesSample s = dataset.Sample(static_cast<uint64_t>(i));
    const ParsedCaption parsed = CaptionGrammar::Parse(s.caption).value();
    const CaptionCheck check =
        ShapesAnalyzer::CheckCaption(parsed, analyzer.Analyze(s.rgb, s.width, s.height).value());
    all_correct += check.all_correct;
  }
  EXPECT_GE(all_correct, 0.99 * n);

  // A wrong caption is caught.
  const ShapesSample s = dataset.Sample(0);
  ParsedCaption wrong = CaptionGrammar::Parse(s.caption).value();
  wrong.objects[0].color = static_cast<Color>((static_cast<int>(wrong.objects[0].color) + 1) % 6);
  const CaptionCheck check =
      ShapesAnalyzer::CheckCaption(wrong, analyzer.Analyze(s.rgb, s.width, s.height).value());
  EXPECT_FALSE(check.all_correct);
}

TEST(ShapesAnalyzerTest, PerPixelLabelsMatchSemanticMaps) {
  const ShapesAnalyzer analyzer;
  for (int resolution : {64, 128}) {
    const ShapesDataset dataset({.seed = 127, .resolution = resolution});
    double sum_train = 0, sum_hand = 0;
    const int n = 50;
    for (int i = 0; i < n; ++i) {
      for (bool hand : {false, true}) {
        const ShapesSample s = hand ? dataset.HandDrawnMapSample(i) : dataset.MapSample(i);
        const std::vector<uint8_t> pred = analyzer.PerPixelLabels(s.rgb, s.width, s.height).value();
        const double miou = ShapesAnalyzer::MeanIoU(pred, s.label_map, kNumMapLabels).value();
        (hand ? sum_hand : sum_train) += miou;
      }
    }
    std::printf("per-pixel mIoU %dx%d: map samples %.4f, hand-drawn maps %.4f (%d each)\n",
                resolution, resolution, sum_train / n, sum_hand / n, n);
    EXPECT_GT(sum_train / n, 0.9);
    EXPECT_GT(sum_hand / n, 0.9);
  }
}

TEST(ShapesAnalyzerTest, MeanIoUCountsLabelsPresentInEither) {
  const std::vector<uint8_t> truth = {0, 0, 1, 1};
  const std::vector<uint8_t> pred = {0, 2, 1, 1};
  // label 0: 1/2, label 1: 2/2, label 2: 0/1 -> mean 0.5.
  EXPECT_DOUBLE_EQ(ShapesAnalyzer::MeanIoU(pred, truth, 7).value(), 0.5);
  EXPECT_DOUBLE_EQ(ShapesAnalyzer::MeanIoU(truth, truth, 7).value(), 1.0);
  EXPECT_FALSE(ShapesAnalyzer::MeanIoU(pred, std::vector<uint8_t>{0}, 7).ok());
  EXPECT_FALSE(ShapesAnalyzer::MeanIoU({}, {}, 7).ok());
}

TEST(ShapesAnalyzerTest, RejectsBadImages) {
  const ShapesAnalyzer analyzer;
  std::vector<uint8_t> rgb(10);
  EXPECT_EQ(analyzer.Analyze(rgb, 2, 2).status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_FALSE(analyzer.PerPixelLabels(rgb, 0, 3).ok());
  // A plain background has no objects.
  std::vector<uint8_t> gray(16 * 16 * 3, 128);
  absl::StatusOr<ImageAnalysis> r = analyzer.Analyze(gray, 16, 16);
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE(r->objects.empty());
  EXPECT_EQ(r->background, Background::kGray);
}

}  // namespace
}  // namespace ldm::shapes
