#include "tools/train/map_channels.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

#include "core/pipeline/denoise_job.h"
#include "core/pipeline/pipeline.h"
#include "tests/testing/fixtures.h"
#include "tests/tools/train/tiny_model.h"
#include "tools/shapes/shapes_dataset.h"

namespace ldm::train {
namespace {

TEST(MapChannelsTest, AreaFractionsAtLatentResolution) {
  torch::Tensor labels = torch::zeros({1, 16, 16}, torch::kUInt8);
  labels.index_put_({0, torch::indexing::Slice(0, 8), torch::indexing::Slice(0, 4)}, 3);
  torch::Tensor ch = MapChannels::FromLabels(labels, 7, 2, 2);
  ASSERT_EQ(ch.sizes(), torch::IntArrayRef({1, 7, 2, 2}));
  EXPECT_FLOAT_EQ(ch[0][3][0][0].item<float>(), 0.5f);
  EXPECT_FLOAT_EQ(ch[0][0][0][0].item<float>(), 0.5f);
  EXPECT_FLOAT_EQ(ch[0][0][1][1].item<float>(), 1.0f);
  EXPECT_FLOAT_EQ(ch.sum(1).min().item<float>(), 1.0f);
}

TEST(MapChannelsTest, LatentResolutionMapIsPlainOneHot) {
  torch::Tensor labels = torch::tensor({0, 1, 2, 6}, torch::kUInt8).reshape({1, 2, 2});
  torch::Tensor ch = MapChannels::FromLabels(labels, 7, 2, 2);
  EXPECT_FLOAT_EQ(ch[0][6][1][1].item<float>(), 1.0f);
  EXPECT_FLOAT_EQ(ch.sum().item<float>(), 4.0f);
}

TEST(MapChannelsTest, SubcellsKeepWhereABorderRunsInsideACell) {
  torch::Tensor labels = torch::zeros({1, 16, 16}, torch::kUInt8);
  // Label 3 on the left half of latent cell (0, 0): its sub-cells (0, 0) and (1, 0).
  labels.index_put_({0, torch::indexing::Slice(0, 8), torch::indexing::Slice(0, 4)}, 3);
  torch::Tensor ch = MapChannels::FromLabels(labels, 7, 2, 2, /*subcells=*/2);
  ASSERT_EQ(ch.sizes(), torch::IntArrayRef({1, 28, 2, 2}));
  // Channel = label * 4 + sub-cell row * 2 + sub-cell column.
  EXPECT_FLOAT_EQ(ch[0][12][0][0].item<float>(), 1.0f);
  EXPECT_FLOAT_EQ(ch[0][13][0][0].item<float>(), 0.0f);
  EXPECT_FLOAT_EQ(ch[0][14][0][0].item<float>(), 1.0f);
  EXPECT_FLOAT_EQ(ch[0][15][0][0].item<float>(), 0.0f);
  // The mean of a label's sub-cells is its one-fraction-per-cell channel.
  EXPECT_TRUE(
      torch::allclose(ch.view({1, 7, 4, 2, 2}).mean(2), MapChannels::FromLabels(labels, 7, 2, 2)));
}

TEST(MapChannelsTest, LatentResolutionMapFillsEverySubcellWithItsCellsLabel) {
  torch::Tensor labels = torch::tensor({0, 1, 2, 6}, torch::kUInt8).reshape({1, 2, 2});
  torch::Tensor ch = MapChannels::FromLabels(labels, 7, 2, 2, /*subcells=*/2);
  ASSERT_EQ(ch.sizes(), torch::IntArrayRef({1, 28, 2, 2}));
  for (int sub = 0; sub < 4; ++sub) EXPECT_FLOAT_EQ(ch[0][24 + sub][1][1].item<float>(), 1.0f);
  EXPECT_FLOAT_EQ(ch.sum().item<float>(), 16.0f);
}

TEST(MapChannelsTest, CellCountsSumTheSubcellsOfEachLatentCell) {
  torch::Tensor counts = torch::arange(2 * 4 * 4, torch::kInt64).reshape({1, 2, 4, 4});
  torch::Tensor cells = MapChannels::CellCounts(counts.to(torch::kUInt8), 2);
  ASSERT_EQ(cells.sizes(), torch::IntArrayRef({1, 2, 2, 2}));
  EXPECT_EQ(cells[0][0][0][0].item<int64_t>(), 0 + 1 + 4 + 5);
  EXPECT_EQ(cells[0][1][1][1].item<int64_t>(), 26 + 27 + 30 + 31);
  EXPECT_TRUE(torch::equal(MapChannels::CellCounts(counts, 1), counts));
}

// The trainer's map channels must equal, bit for bit, what the pipeline feeds the UNet.
void ExpectIdenticalToThePipeline(int subcells) {
  const auto dir = ldm::testing::TempDir("map_channels_pipeline") / std::to_string(subcells);
  absl::Status s = testing::ExportTinyModel(dir / "work", dir / "model", subcells);
  ASSERT_TRUE(s.ok()) << s;
  auto pipeline = Pipeline::Load(dir / "model");
  ASSERT_TRUE(pipeline.ok()) << pipeline.status();
  ASSERT_EQ((*pipeline)->info().semantic_map_subcells, subcells);
  shapes::ShapesDataset dataset;
  for (uint64_t i = 0; i < 3; ++i) {
    shapes::ShapesSample sample = i == 0 ? dataset.Sample(i) : dataset.MapSample(i);
    JobSpec spec;
    spec.width = spec.height = 64;
    spec.steps = 2;
    spec.semantic_map = LabelMap{sample.width, sample.height, sample.label_map};
    auto job = (*pipeline)->CreateJob(spec);
    ASSERT_TRUE(job.ok()) << job.status();
    auto* denoise = dynamic_cast<DenoiseJob*>(job->get());
    ASSERT_NE(denoise, nullptr);
    torch::Tensor labels =
        torch::from_blob(sample.label_map.data(), {1, 64, 64}, torch::kUInt8).clone();
    torch::Tensor mine = MapChannels::FromLabels(labels, 7, 8, 8, subcells);
    EXPECT_TRUE(torch::equal(mine, denoise->cond_map.to(torch::kFloat32))) << "sample " << i;
    EXPECT_TRUE(torch::equal(denoise->uncond_map, torch::zeros_like(denoise->uncond_map)));
    // What the latent cache stores (pixel counts per sub-cell) gives the same channels.
    const int64_t cell = 8 / subcells;
    torch::Tensor counts = MapChannels::Fractions(labels, 7, 8 * subcells, 8 * subcells)
                               .mul(static_cast<double>(cell * cell))
                               .round()
                               .to(torch::kUInt8);
    torch::Tensor cached = MapChannels::ToUNetInput(
        counts.to(torch::kFloat32) / static_cast<double>(cell * cell), subcells);
    EXPECT_TRUE(torch::equal(cached, mine)) << "sample " << i;
  }
}

TEST(MapChannelsTest, IdenticalToThePipelinesConditioning) { ExpectIdenticalToThePipeline(1); }

TEST(MapChannelsTest, IdenticalToThePipelinesConditioningWithSubcells) {
  ExpectIdenticalToThePipeline(2);
}

}  // namespace
}  // namespace ldm::train
