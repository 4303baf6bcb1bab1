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

TEST(MapChannelsTest, SubcellCountsArePixelsPerLabelAndSubcell) {
  torch::Tensor labels = torch::zeros({1, 16, 16}, torch::kUInt8);
  // Label 3 on 8 x 4 pixels: two whole 4 x 4 sub-cells (f = 8, r = 2) of latent cell (0, 0).
  labels.index_put_({0, torch::indexing::Slice(0, 8), torch::indexing::Slice(0, 4)}, 3);
  torch::Tensor counts = MapChannels::SubcellCounts(labels, 7, 8, 2);
  ASSERT_EQ(counts.sizes(), torch::IntArrayRef({1, 7, 4, 4}));
  EXPECT_EQ(counts[0][3][0][0].item<int>(), 16);
  EXPECT_EQ(counts[0][3][1][0].item<int>(), 16);
  EXPECT_EQ(counts[0][3][0][1].item<int>(), 0);
  EXPECT_EQ(counts.sum(1).min().item<int>(), 16);
  EXPECT_THROW(MapChannels::SubcellCounts(labels, 7, 8, 3), c10::Error);
  EXPECT_THROW(MapChannels::FromCounts(counts, 0, 2), c10::Error);
}

TEST(MapChannelsTest, CellCountsSumTheSubcellsOfEachLatentCell) {
  torch::Tensor counts = torch::arange(2 * 4 * 4, torch::kInt64).reshape({1, 2, 4, 4});
  torch::Tensor cells = MapChannels::CellCounts(counts.to(torch::kUInt8), 2);
  ASSERT_EQ(cells.sizes(), torch::IntArrayRef({1, 2, 2, 2}));
  EXPECT_EQ(cells[0][0][0][0].item<int64_t>(), 0 + 1 + 4 + 5);
  EXPECT_EQ(cells[0][1][1][1].item<int64_t>(), 26 + 27 + 30 + 31);
  EXPECT_TRUE(torch::equal(MapChannels::CellCounts(counts, 1), counts));
}

// What the latent cache stores (pixel counts per sub-cell, uint8) and a batch rebuilds from them
// must equal, bit for bit, what the pipeline feeds the UNet.
void ExpectCachedChannelsIdenticalToThePipeline(int subcells) {
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
    ASSERT_EQ(denoise->cond_map.size(1), 7 * subcells * subcells);
    EXPECT_TRUE(torch::equal(denoise->uncond_map, torch::zeros_like(denoise->uncond_map)));
    // The cache's route: LatentCache stores SubcellCounts, DiffusionTrainer's batches FromCounts.
    torch::Tensor labels =
        torch::from_blob(sample.label_map.data(), {1, 64, 64}, torch::kUInt8).clone();
    torch::Tensor counts = MapChannels::SubcellCounts(labels, 7, 8, subcells);
    ASSERT_EQ(counts.scalar_type(), torch::kUInt8);
    const int64_t cell = 8 / subcells;
    torch::Tensor cached = MapChannels::FromCounts(counts, cell * cell, subcells);
    EXPECT_TRUE(torch::equal(cached, denoise->cond_map.to(torch::kFloat32))) << "sample " << i;
    // The grounding masks' per-cell counts add up to each latent cell's area.
    EXPECT_TRUE(torch::equal(MapChannels::CellCounts(counts, subcells).sum(1),
                             torch::full({1, 8, 8}, 64, torch::kInt64)));
  }
}

TEST(MapChannelsTest, CachedCountsGiveThePipelinesConditioning) {
  ExpectCachedChannelsIdenticalToThePipeline(1);
}

TEST(MapChannelsTest, CachedCountsGiveThePipelinesConditioningWithSubcells) {
  ExpectCachedChannelsIdenticalToThePipeline(2);
}

}  // namespace
}  // namespace ldm::train
