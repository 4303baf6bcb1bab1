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

// The trainer's map channels must equal, bit for bit, what the pipeline feeds the UNet.
TEST(MapChannelsTest, IdenticalToThePipelinesConditioning) {
  const auto dir = ldm::testing::TempDir("map_channels_pipeline");
  absl::Status s = testing::ExportTinyModel(dir / "work", dir / "model");
  ASSERT_TRUE(s.ok()) << s;
  auto pipeline = Pipeline::Load(dir / "model");
  ASSERT_TRUE(pipeline.ok()) << pipeline.status();
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
    torch::Tensor mine = MapChannels::FromLabels(labels, 7, 8, 8);
    EXPECT_TRUE(torch::equal(mine, denoise->cond_map.to(torch::kFloat32))) << "sample " << i;
    EXPECT_TRUE(torch::equal(denoise->uncond_map, torch::zeros_like(denoise->uncond_map)));
  }
}

}  // namespace
}  // namespace ldm::train
