#include "tools/eval/failure_log.h"

#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include "core/common/status_macros.h"
#include "tests/testing/fixtures.h"
#include "tools/shapes/shapes_dataset.h"

namespace ldm::eval {
namespace {

namespace fs = std::filesystem;

std::vector<std::string> Lines(const fs::path& file) {
  std::ifstream in(file);
  std::vector<std::string> lines;
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

// A large blue square at the top left, rendered by the dataset.
Image8 BlueSquare() {
  shapes::SceneSpec spec;
  spec.objects.push_back({shapes::Shape::kSquare, shapes::Color::kBlue, shapes::Size::kLarge,
                          shapes::Position::kTopLeft});
  auto sample = shapes::ShapesDataset().Render(spec);
  EXPECT_TRUE(sample.ok()) << sample.status();
  return Image8{sample->width, sample->height, 3, sample->rgb};
}

EvalCondition ClassCondition(shapes::Shape shape, shapes::Color color) {
  std::vector<EvalCondition> classes =
      EvalSuite::Build({.caption1 = 0, .caption2 = 0, .maps = 0, .hand_maps = 0});
  return classes.at(static_cast<size_t>(shapes::ClassIndex(shape, color)));
}

// What ldm-eval's scoring finds in `image` for a class or caption condition `c`.
SceneFindings FindingsOf(const EvalCondition& c, const Image8& image) {
  SceneFindings findings;
  auto score = EvalMetrics::ScoreImage(shapes::ShapesAnalyzer(), c, image, &findings);
  EXPECT_TRUE(score.ok()) << score.status();
  return findings;
}

// Opens a fresh log in `dir` and records BlueSquare() against `c` (condition 12, w=3, image 2).
absl::StatusOr<bool> RecordBlueSquareIn(const fs::path& dir, const EvalCondition& c) {
  LDM_ASSIGN_OR_RETURN(FailureLog log, FailureLog::Open(dir));
  const bool map = c.kind == EvalKind::kMap || c.kind == EvalKind::kHandMap;
  return log.Record(c, 12, 3.0, 2, BlueSquare(),
                    map ? SceneFindings{} : FindingsOf(c, BlueSquare()));
}

TEST(FailureLogTest, RecordsOnlyImagesThatMissAStatedFact) {
  const fs::path dir = ldm::testing::TempDir("failure_log_records") / "failures";
  auto log = FailureLog::Open(dir);
  ASSERT_TRUE(log.ok()) << log.status();
  const Image8 image = BlueSquare();

  const EvalCondition blue_square = ClassCondition(shapes::Shape::kSquare, shapes::Color::kBlue);
  auto right = log->Record(blue_square, 3, 5.0, 0, image, FindingsOf(blue_square, image));
  ASSERT_TRUE(right.ok()) << right.status();
  EXPECT_FALSE(*right);

  const EvalCondition red_circle = ClassCondition(shapes::Shape::kCircle, shapes::Color::kRed);
  auto wrong = log->Record(red_circle, 0, 5.0, 7, image, FindingsOf(red_circle, image));
  ASSERT_TRUE(wrong.ok()) << wrong.status();
  EXPECT_TRUE(*wrong);
  EXPECT_EQ(log->recorded(), 1);

  const std::vector<std::string> lines = Lines(dir / "failures.tsv");
  ASSERT_EQ(lines.size(), 2u);
  EXPECT_EQ(lines[0], "file\tkind\tguidance\tcondition\tasked\tfound\tmissed");
  EXPECT_EQ(
      lines[1],
      "class-w5-c0-i7.png\tclass\t5\t0\tred circle\tlarge blue square at top left [1-35 x 1-35]\t"
      "color,shape");
  // The image itself, as a PNG.
  std::ifstream png(dir / "class-w5-c0-i7.png", std::ios::binary);
  std::string magic(8, '\0');
  png.read(magic.data(), 8);
  EXPECT_EQ(magic, "\x89PNG\r\n\x1a\n");
}

TEST(FailureLogTest, CaptionLinesStateThePromptAndEveryMissedFact) {
  const fs::path dir = ldm::testing::TempDir("failure_log_caption");
  EvalCondition c;
  c.kind = EvalKind::kCaption2;
  c.prompt = "a blue square and a red circle on the right";
  c.expected.objects.push_back({shapes::Shape::kSquare, shapes::Color::kBlue, {}, {}});
  c.expected.objects.push_back(
      {shapes::Shape::kCircle, shapes::Color::kRed, {}, shapes::Position::kRight});
  c.expected.background = shapes::Background::kBlack;
  auto recorded = RecordBlueSquareIn(dir, c);
  ASSERT_TRUE(recorded.ok()) << recorded.status();
  EXPECT_TRUE(*recorded);
  const std::vector<std::string> lines = Lines(dir / "failures.tsv");
  ASSERT_EQ(lines.size(), 2u);
  // One object found for two asked: the second is missing (count, and its color, shape and
  // position); the rendered background is not black.
  EXPECT_EQ(
      lines[1],
      "caption2-w3-c12-i2.png\tcaption2\t3\t12\ta blue square and a red circle on the "
      "right\tlarge blue square at top left [1-35 x 1-35]\tcount,color,shape,position,background");
}

TEST(FailureLogTest, MapKindsAreNotRecorded) {
  const fs::path dir = ldm::testing::TempDir("failure_log_maps");
  EvalCondition c;
  c.kind = EvalKind::kMap;
  auto recorded = RecordBlueSquareIn(dir, c);
  ASSERT_TRUE(recorded.ok()) << recorded.status();
  EXPECT_FALSE(*recorded);
  EXPECT_EQ(Lines(dir / "failures.tsv").size(), 1u);
}

TEST(FailureLogTest, ReopeningStartsAFreshTable) {
  const fs::path dir = ldm::testing::TempDir("failure_log_reopen");
  {
    auto log = FailureLog::Open(dir);
    ASSERT_TRUE(log.ok());
    const EvalCondition red_circle = ClassCondition(shapes::Shape::kCircle, shapes::Color::kRed);
    ASSERT_TRUE(
        log->Record(red_circle, 0, 5.0, 0, BlueSquare(), FindingsOf(red_circle, BlueSquare()))
            .ok());
  }
  ASSERT_TRUE(FailureLog::Open(dir).ok());
  EXPECT_EQ(Lines(dir / "failures.tsv").size(), 1u);
}

TEST(FailureLogTest, UnwritableDirectoryIsAnError) {
  const fs::path file = ldm::testing::TempDir("failure_log_bad") / "a_file";
  std::ofstream(file) << "x";
  auto log = FailureLog::Open(file / "failures");
  ASSERT_FALSE(log.ok());
  EXPECT_EQ(log.status().code(), absl::StatusCode::kInternal);
  EXPECT_NE(log.status().message().find("a_file"), std::string::npos) << log.status();
}

TEST(FailureLogTest, DescribesAnEmptyAnalysisAsNothing) {
  EXPECT_EQ(FailureLog::Describe(shapes::ImageAnalysis{}), "nothing");
  shapes::CaptionCheck all_right;
  all_right.count_correct = true;
  all_right.objects = 1;
  all_right.color_correct = all_right.shape_correct = 1;
  all_right.all_correct = true;
  EXPECT_EQ(FailureLog::Missed(all_right), "");
}

}  // namespace
}  // namespace ldm::eval
