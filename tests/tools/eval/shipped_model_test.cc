// The committed model, models/toy-shapes: it loads with core's loader (the one the conformance
// tests check against diffusers' outputs) and draws what a condition states. Generation is seeded,
// so the figures are fixed for given weights: a model file replaced by a broken or mismatched one
// (wrong layout, untrained weights, a VAE from another run) fails here. Thresholds sit well below
// the full ldm-eval figures in docs/MODEL.md (caption color 1.000, position 1.000, class color
// 1.000 at w=5) so that other CPUs' float rounding cannot flip the test.
#include <gtest/gtest.h>

#include <filesystem>

#include "core/pipeline/pipeline.h"
#include "tools/eval/eval_suite.h"
#include "tools/eval/shapes_evaluator.h"
#include "tools/shapes/caption_grammar.h"
#include "tools/shapes/shapes_dataset.h"

namespace ldm::eval {
namespace {

std::filesystem::path ShippedModel() {
  return std::filesystem::path(LDM_SOURCE_DIR) / "models" / "toy-shapes";
}

EvalCondition Caption(const std::string& prompt) {
  EvalCondition c;
  c.kind = EvalKind::kCaption1;
  c.name = c.prompt = prompt;
  auto parsed = shapes::CaptionGrammar::Parse(prompt);
  EXPECT_TRUE(parsed.ok()) << parsed.status();
  if (parsed.ok()) c.expected = *parsed;
  return c;
}

TEST(ShippedModelTest, LoadsWithEveryConditionAndTheDocumentedFiles) {
  auto p = Pipeline::Load(ShippedModel());
  ASSERT_TRUE(p.ok()) << p.status();
  const ModelInfo& info = (*p)->info();
  EXPECT_EQ(info.class_names, shapes::ShapesDataset::ClassNames());
  EXPECT_EQ(info.semantic_labels.size(), 7u);
  EXPECT_TRUE(info.has_classifier);
  // Ancestral DDIM by default: it draws the conditions more faithfully (docs/MODEL.md).
  EXPECT_EQ(info.default_sampler, "ddim");
  EXPECT_DOUBLE_EQ(info.default_eta, 1.0);
  // Map-only requests at w=1.25, where the sub-cell model's maps are best (docs/MODEL.md).
  EXPECT_EQ(info.default_guidance_map_only, 1.25);
  // The UNet sees each label's fraction in 2x2 sub-cells per latent cell: 4 + 7 * 4 channels.
  EXPECT_EQ(info.semantic_map_subcells, 2);
  // A one-cell latent margin when decoding: without it sampled images get a border stripe.
  EXPECT_EQ((*p)->extras().decode_latent_padding, 1);
}

TEST(ShippedModelTest, DrawsTheColorAndPlaceACaptionStatesAndTheColorOfAClass) {
  auto p = Pipeline::Load(ShippedModel());
  ASSERT_TRUE(p.ok()) << p.status();
  EvaluatorOptions o;
  o.guidance_scales = {5};
  o.images_per_condition = 4;
  std::vector<EvalCondition> suite = {Caption("a red circle at the top left"),
                                      Caption("a blue square at the bottom right"),
                                      Caption("a yellow triangle on the right")};
  EvalCondition green_triangle;
  green_triangle.kind = EvalKind::kClass;
  green_triangle.name = "green triangle";
  green_triangle.class_label = 13;  // 6 x triangle (2) + green (1)
  green_triangle.expected.objects.push_back(
      {shapes::ClassShape(13), shapes::ClassColor(13), {}, {}});
  suite.push_back(green_triangle);
  ShapesEvaluator evaluator(p->get(), o);
  auto result = evaluator.Run(suite, /*keep_samples=*/0);
  ASSERT_TRUE(result.ok()) << result.status();
  const RowStats& captions = result->rows.at({EvalKind::kCaption1, 5.0});
  ASSERT_EQ(captions.images, 12);
  EXPECT_GE(captions.color(), 0.75);
  EXPECT_GE(captions.position(), 0.75);
  const RowStats& classes = result->rows.at({EvalKind::kClass, 5.0});
  ASSERT_EQ(classes.images, 4);
  EXPECT_GE(classes.color(), 0.75);
}

}  // namespace
}  // namespace ldm::eval
