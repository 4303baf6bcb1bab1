#include "tools/shapes/caption_grammar.h"

#include <gtest/gtest.h>

#include <set>

namespace ldm::shapes {
namespace {

TEST(CaptionGrammarTest, ParsesTheDocumentedForms) {
  absl::StatusOr<ParsedCaption> p =
      CaptionGrammar::Parse("A cyan triangle on the left and a red square on the right.");
  ASSERT_TRUE(p.ok()) << p.status();
  ASSERT_EQ(p->objects.size(), 2u);
  EXPECT_EQ(p->objects[0].shape, Shape::kTriangle);
  EXPECT_EQ(p->objects[0].color, Color::kCyan);
  EXPECT_EQ(p->objects[0].position, Position::kLeft);
  EXPECT_EQ(p->objects[1].position, Position::kRight);
  EXPECT_FALSE(p->objects[0].size.has_value());
  EXPECT_FALSE(p->background.has_value());

  p = CaptionGrammar::Parse("a large blue square at the top left");
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(p->objects[0].size, Size::kLarge);
  EXPECT_EQ(p->objects[0].position, Position::kTopLeft);

  p = CaptionGrammar::Parse("a small yellow triangle on a grey background at the top");
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(p->background, Background::kGray);
  EXPECT_EQ(p->objects[0].position, Position::kTop);

  p = CaptionGrammar::Parse("a black background with one green circle in the center");
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(p->background, Background::kBlack);
  EXPECT_EQ(p->objects[0].color, Color::kGreen);
  EXPECT_EQ(p->objects[0].position, Position::kCenter);
}

TEST(CaptionGrammarTest, RejectsMalformedCaptions) {
  EXPECT_FALSE(CaptionGrammar::Parse("").ok());
  EXPECT_FALSE(CaptionGrammar::Parse("a circle").ok());
  EXPECT_FALSE(CaptionGrammar::Parse("at the top a red circle").ok());
  EXPECT_FALSE(CaptionGrammar::Parse("a white background").ok());
}

TEST(CaptionGrammarTest, GeneratedCaptionsRoundTripAndVary) {
  ParsedCaption facts;
  facts.objects = {{Shape::kSquare, Color::kPurple, Size::kSmall, Position::kBottomLeft},
                   {Shape::kCircle, Color::kRed, std::nullopt, Position::kTopRight}};
  facts.background = Background::kWhite;
  std::set<std::string> wordings;
  for (uint64_t seed = 0; seed < 200; ++seed) {
    ShapesRng rng(seed);
    const std::string caption = CaptionGrammar::Generate(facts, rng);
    wordings.insert(caption);
    absl::StatusOr<ParsedCaption> p = CaptionGrammar::Parse(caption);
    ASSERT_TRUE(p.ok()) << caption;
    ASSERT_EQ(p->objects.size(), 2u) << caption;
    EXPECT_EQ(p->objects[0].size, Size::kSmall) << caption;
    EXPECT_EQ(p->objects[0].position, Position::kBottomLeft) << caption;
    EXPECT_FALSE(p->objects[1].size.has_value()) << caption;
    EXPECT_EQ(p->objects[1].position, Position::kTopRight) << caption;
    EXPECT_EQ(p->background, Background::kWhite) << caption;
  }
  EXPECT_GT(wordings.size(), 10u);
  EXPECT_EQ(CaptionGrammar::Canonical(facts),
            "a small purple square at the bottom left and a red circle at the top right on a "
            "white background");
}

}  // namespace
}  // namespace ldm::shapes
