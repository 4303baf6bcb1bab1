#include "tools/train/map_channels.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

#include "core/pipeline/denoise_job.h"
#include "core/pipeline/pipeline.h"
#include "core/pipeline/semantic_map_channels.h"
#include "tests/testing/fixtures.h"
#include "tests/tools/train/tiny_model.h"
#include "tools/shapes/shapes_dataset.h"

namespace ldm::train {
namespace {

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
    // The cache's route (tools/train/latent_cache.cc and DiffusionTrainer's batches).
    torch::Tensor labels =
        torch::from_blob(sample.label_map.data(), {1, 64, 64}, torch::kUInt8).clone();
    const int64_t cell = 8 / subcells;
    torch::Tensor counts = SemanticMapChannels::Fractions(labels, 7, 8 * subcells, 8 * subcells)
                               .mul(static_cast<double>(cell * cell))
                               .round()
                               .to(torch::kUInt8);
    torch::Tensor cached = SemanticMapChannels::ToUNetInput(
        counts.to(torch::kFloat32) / static_cast<double>(cell * cell), subcells);
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
