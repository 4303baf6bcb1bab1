#include "client/output_path_pattern.h"

#include <gtest/gtest.h>

namespace ldm::client {
namespace {

TEST(OutputPathPatternTest, PlainNameForOneImage) {
  EXPECT_EQ(OutputPathPattern("out.png", 1).PathFor(0, 7), "out.png");
}

TEST(OutputPathPatternTest, PlainNameForSeveralImagesGetsTheIndexBeforeTheExtension) {
  OutputPathPattern p("dir.v2/out.png", 3);
  EXPECT_EQ(p.PathFor(0, 7), "dir.v2/out-0.png");
  EXPECT_EQ(p.PathFor(2, 9), "dir.v2/out-2.png");
  EXPECT_EQ(OutputPathPattern("dir.v2/out", 2).PathFor(1, 1), "dir.v2/out-1");
}

TEST(OutputPathPatternTest, PlaceholdersAreReplacedEverywhere) {
  OutputPathPattern p("img-{seed}/{i}-{seed}.png", 2);
  EXPECT_EQ(p.PathFor(1, 43), "img-43/1-43.png");
  EXPECT_EQ(OutputPathPattern("s{seed}.png", 4).PathFor(3, 10), "s10.png");
}

}  // namespace
}  // namespace ldm::client
