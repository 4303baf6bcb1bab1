#include "core/pipeline/semantic_map_channels.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

namespace ldm {
namespace {

using torch::indexing::Slice;

TEST(SemanticMapChannelsTest, AreaFractionsAtLatentResolution) {
  torch::Tensor labels = torch::zeros({1, 16, 16}, torch::kUInt8);
  labels.index_put_({0, Slice(0, 8), Slice(0, 4)}, 3);
  torch::Tensor ch = SemanticMapChannels::FromLabels(labels, 7, 2, 2);
  ASSERT_EQ(ch.sizes(), torch::IntArrayRef({1, 7, 2, 2}));
  EXPECT_EQ(ch.scalar_type(), torch::kFloat32);
  EXPECT_FLOAT_EQ(ch[0][3][0][0].item<float>(), 0.5f);
  EXPECT_FLOAT_EQ(ch[0][0][0][0].item<float>(), 0.5f);
  EXPECT_FLOAT_EQ(ch[0][0][1][1].item<float>(), 1.0f);
  EXPECT_FLOAT_EQ(ch.sum(1).min().item<float>(), 1.0f);
  EXPECT_FLOAT_EQ(ch.sum(1).max().item<float>(), 1.0f);
}

TEST(SemanticMapChannelsTest, LatentResolutionMapIsPlainOneHot) {
  torch::Tensor labels = torch::tensor({0, 1, 2, 6}, torch::kUInt8).reshape({1, 2, 2});
  torch::Tensor ch = SemanticMapChannels::FromLabels(labels, 7, 2, 2);
  EXPECT_FLOAT_EQ(ch[0][6][1][1].item<float>(), 1.0f);
  EXPECT_FLOAT_EQ(ch.sum().item<float>(), 4.0f);
}

TEST(SemanticMapChannelsTest, SubcellsKeepWhereABorderRunsInsideACell) {
  torch::Tensor labels = torch::zeros({1, 16, 16}, torch::kUInt8);
  // Label 3 on the left half of latent cell (0, 0): its sub-cells (0, 0) and (1, 0).
  labels.index_put_({0, Slice(0, 8), Slice(0, 4)}, 3);
  torch::Tensor ch = SemanticMapChannels::FromLabels(labels, 7, 2, 2, /*subcells=*/2);
  ASSERT_EQ(ch.sizes(), torch::IntArrayRef({1, 28, 2, 2}));
  // Channel = label * 4 + sub-cell row * 2 + sub-cell column.
  EXPECT_FLOAT_EQ(ch[0][12][0][0].item<float>(), 1.0f);
  EXPECT_FLOAT_EQ(ch[0][13][0][0].item<float>(), 0.0f);
  EXPECT_FLOAT_EQ(ch[0][14][0][0].item<float>(), 1.0f);
  EXPECT_FLOAT_EQ(ch[0][15][0][0].item<float>(), 0.0f);
  // The mean of a label's sub-cells is its one-fraction-per-cell channel.
  EXPECT_TRUE(torch::allclose(ch.view({1, 7, 4, 2, 2}).mean(2),
                              SemanticMapChannels::FromLabels(labels, 7, 2, 2)));
}

TEST(SemanticMapChannelsTest, LatentResolutionMapFillsEverySubcellWithItsCellsLabel) {
  torch::Tensor labels = torch::tensor({0, 1, 2, 6}, torch::kUInt8).reshape({1, 2, 2});
  torch::Tensor ch = SemanticMapChannels::FromLabels(labels, 7, 2, 2, /*subcells=*/2);
  ASSERT_EQ(ch.sizes(), torch::IntArrayRef({1, 28, 2, 2}));
  for (int sub = 0; sub < 4; ++sub) EXPECT_FLOAT_EQ(ch[0][24 + sub][1][1].item<float>(), 1.0f);
  EXPECT_FLOAT_EQ(ch.sum().item<float>(), 16.0f);
}

TEST(SemanticMapChannelsTest, FractionsOfAMapAtTheCellSizeAreItsOneHot) {
  torch::Tensor labels = torch::randint(0, 5, {2, 4, 6}, torch::kInt64);
  torch::Tensor f = SemanticMapChannels::Fractions(labels, 5, 4, 6);
  EXPECT_TRUE(torch::equal(f, torch::one_hot(labels, 5).permute({0, 3, 1, 2}).to(torch::kFloat32)));
}

TEST(SemanticMapChannelsTest, ToUNetInputIsTheIdentityWithoutSubcells) {
  torch::Tensor f = torch::rand({1, 7, 8, 8});
  EXPECT_TRUE(torch::equal(SemanticMapChannels::ToUNetInput(f, 1), f));
}

TEST(SemanticMapChannelsTest, RejectsGridsThatDoNotDivideTheMapAndBadArguments) {
  torch::Tensor labels = torch::zeros({1, 10, 10}, torch::kUInt8);
  EXPECT_THROW(SemanticMapChannels::Fractions(labels, 7, 4, 4), c10::Error);
  EXPECT_THROW(SemanticMapChannels::Fractions(labels.view({10, 10}), 7, 5, 5), c10::Error);
  EXPECT_THROW(SemanticMapChannels::Fractions(labels, 0, 5, 5), c10::Error);
  EXPECT_THROW(SemanticMapChannels::FromLabels(labels, 7, 5, 5, /*subcells=*/0), c10::Error);
  EXPECT_THROW(SemanticMapChannels::FromLabels(labels, 7, 5, 5, /*subcells=*/3), c10::Error);
  EXPECT_THROW(SemanticMapChannels::ToUNetInput(torch::rand({1, 7, 4, 4}), 0), c10::Error);
}

}  // namespace
}  // namespace ldm
