#include "tools/eval/sr_evaluator.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "tests/testing/fixtures.h"
#include "tests/testing/tiny_sr_model.h"

namespace ldm::eval {
namespace sr_evaluator_test {

using ::testing::HasSubstr;

TEST(SrEvaluatorTest, ResizeKeepsFlatImagesFlatAndScalesBothSides) {
  Image8 flat{3, 2, 3, std::vector<uint8_t>(3 * 2 * 3, 77)};
  for (const char* mode : {"bicubic", "nearest"}) {
    const Image8 big = SrEvaluator::Resize(flat, 4, mode);
    EXPECT_EQ(big.width, 12);
    EXPECT_EQ(big.height, 8);
    ASSERT_EQ(big.pixels.size(), 12u * 8u * 3u);
    for (uint8_t v : big.pixels) EXPECT_EQ(v, 77) << mode;
  }
}

TEST(SrEvaluatorTest, ReportsEveryMethodOnHeldOutImages) {
  const auto dir = ldm::testing::TempDir("sr-eval") / "model";
  ASSERT_TRUE(ldm::testing::WriteTinySrModel(dir).ok());
  auto p = Pipeline::Load(dir);
  ASSERT_TRUE(p.ok()) << p.status();
  SrEvaluator evaluator(p->get(),
                        {.images = 3, .steps = 1, .resolution = 64, .batch = 2, .samples = 2});
  absl::StatusOr<SrEvalResult> r = evaluator.Run();
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->low_res, 16);
  ASSERT_EQ(r->rows.size(), 7u);
  EXPECT_EQ(r->rows[0].psnr, 0);  // the truth is not compared with itself
  for (size_t i = 1; i < r->rows.size(); ++i) {
    EXPECT_GT(r->rows[i].psnr, 0) << r->rows[i].name;
    EXPECT_EQ(r->rows[i].images, 3) << r->rows[i].name;
  }
  // A box-downsampled flat-colored scene is a good nearest/bicubic input; an untrained model's
  // output is noise: the table must tell them apart.
  EXPECT_GT(r->rows[2].psnr, r->rows[5].psnr);
  // Back-projection pins the block means the input gives: it can only help a noise output.
  EXPECT_GT(r->rows[6].psnr, r->rows[5].psnr);
  EXPECT_GT(r->rows[0].color(), 0.9);  // the analyzer reads the truth
  ASSERT_EQ(r->samples.size(), 2u);
  EXPECT_EQ(r->samples[0].size(), 4u);
  EXPECT_EQ(r->samples[0][2].width, 64);
  const std::string text = SrEvaluator::Text(*r);
  EXPECT_THAT(text, HasSubstr("16x16 -> 64x64"));
  EXPECT_THAT(text, HasSubstr("| bicubic |"));
  EXPECT_EQ(SrEvaluator::Json(*r)["rows"].size(), 7u);
}

}  // namespace sr_evaluator_test
}  // namespace ldm::eval
