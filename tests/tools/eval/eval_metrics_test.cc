#include "tools/eval/eval_metrics.h"

#include <gtest/gtest.h>

#include <cmath>

#include "tools/eval/eval_report.h"
#include "tools/eval/eval_suite.h"
#include "tools/eval/image_grid.h"
#include "tools/shapes/shapes_dataset.h"

namespace ldm::eval {
namespace {

Image8 Flat(uint8_t v, int side = 8) {
  return Image8{side, side, 3, std::vector<uint8_t>(static_cast<size_t>(side) * side * 3, v)};
}

Image8 FromSample(const shapes::ShapesSample& s) { return Image8{s.width, s.height, 3, s.rgb}; }

TEST(EvalMetricsTest, DiversityOfKnownImages) {
  EXPECT_DOUBLE_EQ(*EvalMetrics::Diversity({Flat(7), Flat(7), Flat(7)}), 0.0);
  EXPECT_DOUBLE_EQ(*EvalMetrics::Diversity({Flat(0), Flat(255)}), 1.0);
  // Pairs (0,255) = 1, (0,0) = 0, (255,0) = 1 -> 2/3.
  EXPECT_NEAR(*EvalMetrics::Diversity({Flat(0), Flat(255), Flat(0)}), 2.0 / 3.0, 1e-12);
  EXPECT_DOUBLE_EQ(*EvalMetrics::Diversity({Flat(3)}), 0.0);
  EXPECT_FALSE(EvalMetrics::Diversity({Flat(0, 8), Flat(0, 4)}).ok());
}

TEST(EvalMetricsTest, PsnrOfKnownImages) {
  Image8 a = Flat(100), b = Flat(101);
  EXPECT_NEAR(*EvalMetrics::Psnr(a.pixels, b.pixels), 10 * std::log10(255.0 * 255.0), 1e-9);
  EXPECT_TRUE(std::isinf(*EvalMetrics::Psnr(a.pixels, a.pixels)));
  EXPECT_FALSE(EvalMetrics::Psnr(a.pixels, Flat(1, 4).pixels).ok());
}

TEST(EvalMetricsTest, GroundTruthRendersScorePerfectly) {
  shapes::ShapesDataset dataset;
  shapes::ShapesAnalyzer analyzer;
  shapes::SceneSpec spec;
  spec.objects.push_back({shapes::Shape::kSquare, shapes::Color::kBlue, shapes::Size::kLarge,
                          shapes::Position::kTopLeft});
  auto sample = dataset.Render(spec);
  ASSERT_TRUE(sample.ok()) << sample.status();
  std::vector<EvalCondition> suite =
      EvalSuite::Build({.caption1 = 0, .caption2 = 0, .maps = 0, .hand_maps = 0});
  ASSERT_EQ(suite.size(), 18u);
  const int right = shapes::ClassIndex(shapes::Shape::kSquare, shapes::Color::kBlue);
  auto good = EvalMetrics::ScoreImage(analyzer, suite[right], FromSample(*sample));
  ASSERT_TRUE(good.ok()) << good.status();
  EXPECT_TRUE(good->objects_ok);
  EXPECT_TRUE(good->all_ok);
  auto bad = EvalMetrics::ScoreImage(analyzer, suite[0], FromSample(*sample));  // red circle
  EXPECT_FALSE(bad->objects_ok);
  EXPECT_EQ(bad->color_ok, 0);

  // A caption condition with position stated, scored on its own render.
  EvalCondition cap;
  cap.kind = EvalKind::kCaption1;
  cap.expected.objects.push_back({shapes::Shape::kSquare, shapes::Color::kBlue,
                                  shapes::Size::kLarge, shapes::Position::kTopLeft});
  auto c = EvalMetrics::ScoreImage(analyzer, cap, FromSample(*sample));
  EXPECT_EQ(c->position_stated, 1);
  EXPECT_EQ(c->position_ok, 1);
  EXPECT_EQ(c->size_ok, 1);
}

TEST(EvalMetricsTest, MapRenderedFromItsLabelsHasHighMiou) {
  shapes::ShapesDataset dataset;
  shapes::ShapesAnalyzer analyzer;
  std::vector<EvalCondition> suite = EvalSuite::Build(
      {.caption1 = 0, .caption2 = 0, .maps = 2, .hand_maps = 2, .include_classes = false});
  ASSERT_EQ(suite.size(), 4u);
  for (const EvalCondition& c : suite) {
    auto img = dataset.RenderMap(c.truth_map, 64, 64, shapes::Background::kWhite, 1);
    ASSERT_TRUE(img.ok());
    auto s = EvalMetrics::ScoreImage(analyzer, c, FromSample(*img));
    ASSERT_TRUE(s.ok()) << s.status();
    EXPECT_GT(s->miou, 0.8) << c.name;
    // A blank image misses every colored region.
    auto blank = EvalMetrics::ScoreImage(analyzer, c, Flat(240, 64));
    EXPECT_LT(blank->miou, 0.6) << c.name;
  }
}

TEST(EvalMetricsTest, MapFromCellsKeepsWhatTheCellsCarry) {
  std::vector<EvalCondition> suite = EvalSuite::Build(
      {.caption1 = 0, .caption2 = 0, .maps = 3, .hand_maps = 3, .include_classes = false});
  for (const EvalCondition& c : suite) {
    // Cells of one pixel carry the whole map.
    auto same = EvalMetrics::MapFromCells(c.truth_map, 64, 64, 7, 64, 64);
    ASSERT_TRUE(same.ok()) << same.status();
    EXPECT_EQ(*same, c.truth_map) << c.name;
    // 16x16 cells (8x8 latents, 2x2 sub-cells) carry more of a map's shape than 8x8 cells.
    auto fine = EvalMetrics::MapFromCells(c.truth_map, 64, 64, 7, 16, 16);
    auto coarse = EvalMetrics::MapFromCells(c.truth_map, 64, 64, 7, 8, 8);
    ASSERT_TRUE(fine.ok() && coarse.ok());
    const double fine_miou = *shapes::ShapesAnalyzer::MeanIoU(*fine, c.truth_map, 7);
    const double coarse_miou = *shapes::ShapesAnalyzer::MeanIoU(*coarse, c.truth_map, 7);
    EXPECT_GT(fine_miou, coarse_miou) << c.name;
    EXPECT_LT(coarse_miou, 1.0) << c.name;
  }
  const std::vector<uint8_t> map(64, 1);
  EXPECT_EQ(EvalMetrics::MapFromCells(map, 8, 8, 7, 3, 3).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(EvalMetrics::MapFromCells(map, 8, 8, 1, 2, 2).status().code(),
            absl::StatusCode::kInvalidArgument);  // label 1 with one label
}

TEST(EvalSuiteTest, HeldOutConditionsHaveTheRequestedKinds) {
  std::vector<EvalCondition> suite = EvalSuite::Build({});
  int counts[5] = {};
  for (const EvalCondition& c : suite) {
    counts[static_cast<int>(c.kind)]++;
    if (c.kind == EvalKind::kCaption1) {
      EXPECT_EQ(c.expected.objects.size(), 1u) << c.prompt;
    } else if (c.kind == EvalKind::kCaption2) {
      EXPECT_EQ(c.expected.objects.size(), 2u) << c.prompt;
    } else if (c.kind == EvalKind::kClass) {
      EXPECT_TRUE(c.prompt.empty() && c.class_label.has_value());
    } else if (c.kind == EvalKind::kMap) {
      EXPECT_EQ(c.truth_map.size(), 64u * 64u);
    }
  }
  EXPECT_EQ(counts[0], 18);
  EXPECT_EQ(counts[1], 24);
  EXPECT_EQ(counts[2], 24);
  EXPECT_EQ(counts[3], 17);
  EXPECT_EQ(counts[4], 17);
  EXPECT_EQ(EvalSuite::Build({})[20].prompt, suite[20].prompt);  // deterministic
}

TEST(EvalReportTest, AcceptanceUsesTheIssueThresholds) {
  EvalResult r;
  RowStats& cls = r.rows[{EvalKind::kClass, 3.0}];
  ImageScore ok;
  ok.objects = 1;
  ok.color_ok = ok.shape_ok = 1;
  ok.count_ok = ok.all_ok = ok.objects_ok = true;
  for (int i = 0; i < 19; ++i) cls.Add(ok);
  cls.Add(ImageScore{.objects = 1});
  cls.AddDiversity(0.1);
  nlohmann::json j = EvalReport::Json(r);
  ASSERT_EQ(j["acceptance"].size(), 1u);
  EXPECT_DOUBLE_EQ(j["acceptance"][0]["value"].get<double>(), 0.95);
  EXPECT_TRUE(j["acceptance"][0]["pass"].get<bool>());
  EXPECT_NE(EvalReport::Text(r).find("PASS"), std::string::npos);
}

TEST(EvalReportTest, MapAcceptanceIsAtTheModelsMapGuidance) {
  EvalResult r;
  ImageScore s;
  s.miou = 0.9;
  r.rows[{EvalKind::kMap, 2.0}].Add(s);
  s.miou = 0.5;
  r.rows[{EvalKind::kMap, 5.0}].Add(s);
  // Default: w=5.
  nlohmann::json j = EvalReport::Json(r);
  ASSERT_EQ(j["acceptance"].size(), 1u);
  EXPECT_EQ(j["acceptance"][0]["what"], "map w=5: mIoU");
  EXPECT_FALSE(j["acceptance"][0]["pass"].get<bool>());
  // A model whose map-only requests default to w=2 is judged there.
  r.map_guidance = 2.0;
  j = EvalReport::Json(r);
  ASSERT_EQ(j["acceptance"].size(), 1u);
  EXPECT_EQ(j["acceptance"][0]["what"], "map w=2: mIoU");
  EXPECT_DOUBLE_EQ(j["acceptance"][0]["value"].get<double>(), 0.9);
  EXPECT_TRUE(j["acceptance"][0]["pass"].get<bool>());
}

TEST(EvalReportTest, TablesPrintEveryScaleDistinctly) {
  EvalResult r;
  ImageScore s;
  s.miou = 0.9;
  for (double g : {1.0, 1.25, 7.5}) r.rows[{EvalKind::kMap, g}].Add(s);
  const std::string text = EvalReport::Text(r);
  EXPECT_NE(text.find("\nguidance 1.0\n"), std::string::npos) << text;
  EXPECT_NE(text.find("\nguidance 1.25\n"), std::string::npos) << text;
  EXPECT_NE(text.find("\nguidance 7.5\n"), std::string::npos) << text;
  EXPECT_NE(text.find("w=1.25"), std::string::npos) << text;
  EXPECT_EQ(text.find("guidance 1.2\n"), std::string::npos) << text;
}

TEST(EvalReportTest, AMapTargetAtAnUnevaluatedScaleIsListedAsNotEvaluated) {
  EvalResult r;
  ImageScore s;
  s.miou = 0.9;
  r.rows[{EvalKind::kMap, 2.0}].Add(s);
  r.map_guidance = 1.25;  // the model's map-only default, not among the evaluated scales
  nlohmann::json j = EvalReport::Json(r);
  ASSERT_EQ(j["acceptance"].size(), 1u);
  EXPECT_EQ(j["acceptance"][0]["what"], "map w=1.25: mIoU");
  EXPECT_TRUE(j["acceptance"][0]["value"].is_null());
  EXPECT_FALSE(j["acceptance"][0]["pass"].get<bool>());
  EXPECT_NE(EvalReport::Text(r).find("n/a  map w=1.25: mIoU"), std::string::npos)
      << EvalReport::Text(r);
  EXPECT_NE(EvalReport::Text(r).find("scale 1.25 not in --guidance"), std::string::npos);
  // Kinds that were not evaluated at all (here: hand-drawn maps) stay out of the list.
  EXPECT_EQ(j["acceptance"].dump().find("hand_map"), std::string::npos);
}

TEST(ImageGridTest, TilesWithGaps) {
  auto g = ImageGrid::Tile({{Flat(0, 4), Flat(0, 4)}, {Flat(0, 4)}}, 2, 255);
  ASSERT_TRUE(g.ok());
  EXPECT_EQ(g->width, 2 * 6 + 2);
  EXPECT_EQ(g->height, 2 * 6 + 2);
  EXPECT_EQ(g->pixels[0], 255);
  EXPECT_EQ(g->pixels[(2 * g->width + 2) * 3], 0);
  EXPECT_FALSE(ImageGrid::Tile({}).ok());
}

}  // namespace
}  // namespace ldm::eval
