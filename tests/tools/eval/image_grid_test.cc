// ImageGrid: tiling, nearest-neighbour resizing and label-map drawing for sample sheets.
#include "tools/eval/image_grid.h"

#include <gtest/gtest.h>

namespace ldm::eval {
namespace image_grid_test {

Image8 Solid(int w, int h, uint8_t value) {
  Image8 img;
  img.width = w;
  img.height = h;
  img.channels = 3;
  img.pixels.assign(static_cast<size_t>(w) * h * 3, value);
  return img;
}

TEST(ImageGridTest, TilesRowsWithGapsAndLeftAlignsShortRows) {
  absl::StatusOr<Image8> grid =
      ImageGrid::Tile({{Solid(2, 2, 10), Solid(2, 2, 20)}, {Solid(2, 2, 30)}}, 1, 255);
  ASSERT_TRUE(grid.ok()) << grid.status();
  EXPECT_EQ(grid->width, 2 * 3 + 1);
  EXPECT_EQ(grid->height, 2 * 3 + 1);
  auto at = [&](int x, int y) { return grid->pixels[(static_cast<size_t>(y) * grid->width + x) * 3]; };
  EXPECT_EQ(at(0, 0), 255);  // gap
  EXPECT_EQ(at(1, 1), 10);
  EXPECT_EQ(at(4, 2), 20);
  EXPECT_EQ(at(1, 4), 30);
  EXPECT_EQ(at(4, 4), 255);  // the short row's missing cell stays background
}

TEST(ImageGridTest, RejectsMixedSizesNonRgbAndEmptyGrids) {
  EXPECT_FALSE(ImageGrid::Tile({{Solid(2, 2, 0), Solid(3, 2, 0)}}).ok());
  Image8 gray = Solid(2, 2, 0);
  gray.channels = 1;
  gray.pixels.resize(4);
  EXPECT_FALSE(ImageGrid::Tile({{gray}}).ok());
  EXPECT_FALSE(ImageGrid::Tile({}).ok());
}

TEST(ImageGridTest, ResizeNearestReplicatesPixelsOnIntegerUpscales) {
  Image8 img;
  img.width = 2;
  img.height = 1;
  img.channels = 1;
  img.pixels = {7, 9};
  Image8 big = ImageGrid::ResizeNearest(img, 4, 2);
  EXPECT_EQ(big.channels, 1);
  EXPECT_EQ(big.pixels, (std::vector<uint8_t>{7, 7, 9, 9, 7, 7, 9, 9}));
  Image8 small = ImageGrid::ResizeNearest(big, 2, 1);
  EXPECT_EQ(small.pixels, img.pixels);
}

TEST(ImageGridTest, MapToImageDrawsLabelsInThePaletteOnWhite) {
  Image8 img = ImageGrid::MapToImage({0, 1}, 2, 1);
  EXPECT_EQ(img.pixels[0], 255);
  EXPECT_EQ(img.pixels[3], 230);  // red (230, 40, 40)
  EXPECT_EQ(img.pixels[4], 40);
}

}  // namespace image_grid_test
}  // namespace ldm::eval
