#include "tools/train/lr_schedule.h"

#include <gtest/gtest.h>

namespace ldm::train {
namespace {

TEST(LrScheduleTest, WarmupThenCosineToFloor) {
  LrSchedule s({.peak_lr = 1.0, .warmup_steps = 10, .total_steps = 110, .final_fraction = 0.1});
  EXPECT_DOUBLE_EQ(s.At(0), 0.1);
  EXPECT_DOUBLE_EQ(s.At(9), 1.0);
  EXPECT_DOUBLE_EQ(s.At(10), 1.0);
  EXPECT_NEAR(s.At(60), 0.55, 1e-12);
  EXPECT_NEAR(s.At(110), 0.1, 1e-12);
  EXPECT_NEAR(s.At(500), 0.1, 1e-12);
  for (int i = 11; i < 110; ++i) EXPECT_LE(s.At(i), s.At(i - 1));
}

TEST(LrScheduleTest, WarmupCosineWarmsUpATenthOfTheStepsAtMostMaxWarmup) {
  LrScheduleOptions short_run = LrScheduleOptions::WarmupCosine(2e-4, 500, 100, 0.05);
  EXPECT_EQ(short_run.warmup_steps, 50);
  EXPECT_EQ(short_run.total_steps, 500);
  EXPECT_DOUBLE_EQ(short_run.peak_lr, 2e-4);
  EXPECT_DOUBLE_EQ(short_run.final_fraction, 0.05);
  EXPECT_EQ(LrScheduleOptions::WarmupCosine(5e-4, 6000, 200, 0.1).warmup_steps, 200);
}

}  // namespace
}  // namespace ldm::train
