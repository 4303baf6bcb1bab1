// ShapesEvaluator's classifier guidance sweep on an untrained tiny shapes model with a random
// classifier (the numbers mean nothing; the bookkeeping, seeds and report do), and its refusal on a
// model without a classifier; the autoencoder ceiling's bookkeeping on the same tiny model.
#include "tools/eval/shapes_evaluator.h"

#include <gtest/gtest.h>

#include "tests/testing/fixtures.h"
#include "tests/testing/tiny_classifier_model.h"
#include "tests/tools/train/tiny_model.h"
#include "tools/eval/eval_report.h"

namespace ldm::eval {
namespace shapes_evaluator_test {

class ClassifierSweepTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new std::filesystem::path(ldm::testing::TempDir("shapes_evaluator_sweep"));
    absl::Status s = train::testing::ExportTinyModel(*dir_ / "work", *dir_ / "plain");
    ASSERT_TRUE(s.ok()) << s;
    std::filesystem::copy(*dir_ / "plain", *dir_ / "guided",
                          std::filesystem::copy_options::recursive);
    s = ldm::testing::WriteRandomClassifier(*dir_ / "guided" / "classifier", 4, 18, 9);
    ASSERT_TRUE(s.ok()) << s;
  }
  static void TearDownTestSuite() { delete dir_; }

  static EvaluatorOptions Options() {
    EvaluatorOptions o;
    o.images_per_condition = 2;
    o.steps = 2;
    o.classifier_scales = {0, 5};
    return o;
  }
  static std::vector<EvalCondition> Classes() {
    EvalSuiteOptions so;
    so.caption1 = so.caption2 = so.maps = so.hand_maps = 0;
    return EvalSuite::Build(so);
  }

  static std::filesystem::path* dir_;
};

std::filesystem::path* ClassifierSweepTest::dir_ = nullptr;

TEST_F(ClassifierSweepTest, OneRowPerScaleOverEveryClassCondition) {
  auto p = Pipeline::Load(*dir_ / "guided");
  ASSERT_TRUE(p.ok()) << p.status();
  ShapesEvaluator evaluator(p->get(), Options());
  EvalResult result;
  std::vector<std::string> lines;
  absl::Status s = evaluator.RunClassifierSweep(
      Classes(), &result, [&](const std::string& line) { lines.push_back(line); });
  ASSERT_TRUE(s.ok()) << s;
  ASSERT_EQ(result.classifier_sweep.size(), 2u);
  for (const auto& [scale, row] : result.classifier_sweep) {
    EXPECT_EQ(row.images, 18 * 2) << scale;
    EXPECT_EQ(row.conditions, 18) << scale;
  }
  EXPECT_EQ(lines.size(), 2u);
  const std::string text = EvalReport::Text(result);
  EXPECT_NE(text.find("classifier guidance sweep"), std::string::npos) << text;
  const nlohmann::json json = EvalReport::Json(result);
  ASSERT_EQ(json["classifier_sweep"].size(), 2u);
  EXPECT_EQ(json["classifier_sweep"][1]["classifier_scale"], 5.0);
  int issue7 = 0;
  for (const auto& line : json["acceptance"]) {
    if (line["what"].get<std::string>().find("classifier guidance") != std::string::npos) ++issue7;
  }
  EXPECT_EQ(issue7, 2);
}

TEST_F(ClassifierSweepTest, AModelWithoutAClassifierIsRefused) {
  auto p = Pipeline::Load(*dir_ / "plain");
  ASSERT_TRUE(p.ok()) << p.status();
  ShapesEvaluator evaluator(p->get(), Options());
  EvalResult result;
  EXPECT_EQ(evaluator.RunClassifierSweep(Classes(), &result).code(),
            absl::StatusCode::kFailedPrecondition);
}

TEST_F(ClassifierSweepTest, AutoencoderCeilingScoresTruthAndRoundTripOfTheSameImages) {
  auto p = Pipeline::Load(*dir_ / "plain");
  ASSERT_TRUE(p.ok()) << p.status();
  ShapesEvaluator evaluator(p->get(), Options());
  EvalResult result;
  absl::Status s = evaluator.AutoencoderCeiling(24, 1000003, &result);
  ASSERT_TRUE(s.ok()) << s;
  ASSERT_EQ(result.autoencoder_ceiling.size(), 4u);
  int scenes = 0;
  for (const auto& [kind, rows] : result.autoencoder_ceiling) {
    const auto& [truth, round_trip] = rows;
    EXPECT_EQ(truth.images, round_trip.images) << EvalKindName(kind);
    EXPECT_GT(truth.images, 0) << EvalKindName(kind);
    if (kind == EvalKind::kMap || kind == EvalKind::kHandMap) {
      EXPECT_EQ(truth.images, 24);
      // The analyzer reads the rendered maps back almost exactly (shading and edges aside).
      EXPECT_GT(truth.miou(), 0.9) << EvalKindName(kind);
    } else {
      scenes += truth.images;
      // Every fact of a rendered scene is stated, and the analyzer finds them on the render.
      EXPECT_EQ(truth.position_stated, truth.objects) << EvalKindName(kind);
      EXPECT_EQ(truth.size_stated, truth.objects) << EvalKindName(kind);
      EXPECT_GT(truth.all(), 0.9) << EvalKindName(kind);
    }
  }
  EXPECT_EQ(scenes, 24);
  // The maps as the UNet gets them (one area fraction per label and 8x8 latent cell).
  ASSERT_EQ(result.map_channel_ceiling.size(), 2u);
  for (const auto& [kind, cells] : result.map_channel_ceiling) {
    EXPECT_EQ(cells.images, 24) << EvalKindName(kind);
    EXPECT_GT(cells.miou(), 0.5) << EvalKindName(kind);
    EXPECT_LT(cells.miou(), 0.95) << EvalKindName(kind);
  }
  const std::string text = EvalReport::Text(result);
  EXPECT_NE(text.find("autoencoder ceiling"), std::string::npos) << text;
  EXPECT_NE(text.find("round trip"), std::string::npos) << text;
  EXPECT_NE(text.find("UNet input"), std::string::npos) << text;
  const nlohmann::json json = EvalReport::Json(result);
  EXPECT_TRUE(json["autoencoder_ceiling"].contains("caption1")) << json.dump();
  EXPECT_TRUE(json["autoencoder_ceiling"]["map"].contains("round_trip")) << json.dump();
  EXPECT_TRUE(json["autoencoder_ceiling"]["hand_map"].contains("unet_input")) << json.dump();
  // A model given 2x2 sub-cells per latent cell gets more of each map's shape.
  ASSERT_TRUE(train::testing::ExportTinyModel(*dir_ / "work-sub", *dir_ / "subcells", 2).ok());
  auto sub = Pipeline::Load(*dir_ / "subcells");
  ASSERT_TRUE(sub.ok()) << sub.status();
  EvalResult finer;
  ASSERT_TRUE(ShapesEvaluator(sub->get(), Options()).AutoencoderCeiling(24, 1000003, &finer).ok());
  for (const auto& [kind, cells] : finer.map_channel_ceiling) {
    EXPECT_GT(cells.miou(), result.map_channel_ceiling[kind].miou() + 0.05) << EvalKindName(kind);
  }
  auto psnr = evaluator.AutoencoderPsnr(16, 1000003);
  ASSERT_TRUE(psnr.ok()) << psnr.status();
  EXPECT_GT(*psnr, 0.0);
}

}  // namespace shapes_evaluator_test
}  // namespace ldm::eval
