#include "tools/train/condition_dropout.h"

#include <gtest/gtest.h>

#include <array>

namespace ldm::train {
namespace {

TEST(ConditionDropoutTest, EverySubsetIsCommonAndDropAllIsAboutTwentyPercent) {
  ConditionDropout dropout;  // drop all 10%, keep each 50%
  constexpr int kDraws = 200000;
  std::array<int, 8> subsets{};
  int text = 0, cls = 0, map = 0;
  for (int i = 0; i < kDraws; ++i) {
    ConditionKeep k = dropout.Draw(/*seed=*/3, /*step=*/i / 64, /*item=*/i % 64);
    subsets[(k.text ? 1 : 0) | (k.class_label ? 2 : 0) | (k.map ? 4 : 0)]++;
    text += k.text;
    cls += k.class_label;
    map += k.map;
  }
  // P(none) = 0.1 + 0.9 / 8; every other subset 0.9 / 8.
  EXPECT_NEAR(subsets[0] / double(kDraws), 0.2125, 0.005);
  for (int s = 1; s < 8; ++s) EXPECT_NEAR(subsets[s] / double(kDraws), 0.1125, 0.005) << s;
  for (int kept : {text, cls, map}) EXPECT_NEAR(kept / double(kDraws), 0.45, 0.005);
}

TEST(ConditionDropoutTest, DeterministicPerSeedStepItem) {
  ConditionDropout dropout;
  int differ = 0;
  for (int i = 0; i < 100; ++i) {
    ConditionKeep a = dropout.Draw(1, 5, i), b = dropout.Draw(1, 5, i), c = dropout.Draw(2, 5, i);
    EXPECT_EQ(a.text, b.text);
    EXPECT_EQ(a.class_label, b.class_label);
    EXPECT_EQ(a.map, b.map);
    differ += (a.text != c.text) || (a.class_label != c.class_label) || (a.map != c.map);
  }
  EXPECT_GT(differ, 20);
}

TEST(ConditionDropoutTest, ProbabilitiesAreHonoured) {
  ConditionDropout never({.drop_all_probability = 0.0, .keep_probability = 1.0});
  ConditionDropout always({.drop_all_probability = 1.0, .keep_probability = 1.0});
  for (int i = 0; i < 50; ++i) {
    ConditionKeep n = never.Draw(0, 0, i), a = always.Draw(0, 0, i);
    EXPECT_TRUE(n.text && n.class_label && n.map);
    EXPECT_FALSE(a.text || a.class_label || a.map);
  }
}

}  // namespace
}  // namespace ldm::train
