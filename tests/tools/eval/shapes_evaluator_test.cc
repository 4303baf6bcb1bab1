// ShapesEvaluator's classifier guidance sweep on an untrained tiny shapes model with a random
// classifier (the numbers mean nothing; the bookkeeping, seeds and report do), and its refusal on a
// model without a classifier.
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

}  // namespace shapes_evaluator_test
}  // namespace ldm::eval
