// Super-resolution training: pairs, batches, exact resume, and a tiny end-to-end run whose
// export loads in ldm::Pipeline and upscales.
#include "tools/train/sr_trainer.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

#include "core/pipeline/low_res_conditioning.h"
#include "core/pipeline/pipeline.h"
#include "tests/testing/fixtures.h"
#include "tests/tools/train/tiny_model.h"
#include "tools/shapes/box_downsampler.h"
#include "tools/train/sr_pair_builder.h"
#include "tools/train/sr_training_run.h"
#include "tools/train/stop_signal.h"
#include "tools/train/toy_model_configs.h"

namespace ldm::train {
namespace sr_trainer_test {
namespace fs = std::filesystem;

TEST(SrPairBuilderTest, LowResIsTheBoxDownsampledHighResAndPairsAreDeterministic) {
  SrPairBuilder builder({.seed = 3, .resolution = 64, .upscale_factor = 4});
  const std::vector<uint64_t> keys = {0, 1, 2, 3, 4, 5, 6, 7};
  SrPairBatch a = builder.Build(keys), b = builder.Build(keys);
  ASSERT_EQ(a.images.sizes(), torch::IntArrayRef({8, 3, 64, 64}));
  ASSERT_EQ(a.low_res.sizes(), torch::IntArrayRef({8, 3, 16, 16}));
  EXPECT_TRUE(torch::equal(a.images, b.images));
  EXPECT_TRUE(torch::equal(a.low_res, b.low_res));
  for (uint64_t k : keys) {
    const std::vector<uint8_t> high = builder.HighRes(k);
    const std::vector<uint8_t> low = shapes::BoxDownsampler::Downsample(high, 64, 64, 4);
    EXPECT_TRUE(
        torch::equal(a.low_res[static_cast<int64_t>(k)], SrPairBuilder::ToChw(low, 16, 16)));
    // The float image is the same render in [-1, 1].
    torch::Tensor back =
        a.images[static_cast<int64_t>(k)].add(1).mul(127.5).round().to(torch::kUInt8);
    EXPECT_TRUE(torch::equal(back, SrPairBuilder::ToChw(high, 64, 64)));
  }
}

TEST(SrPairBuilderTest, HalfThePairsAreCutFromADoubleResolutionRender) {
  SrPairBuilder zoomed({.seed = 1, .resolution = 32, .zoom_fraction = 1.0});
  SrPairBuilder direct({.seed = 1, .resolution = 32, .zoom_fraction = 0.0});
  BatchBuilderOptions data;
  data.dataset.seed = 1;
  data.dataset.resolution = 32;
  BatchBuilder plain(data);
  int differ = 0;
  for (uint64_t k = 0; k < 8; ++k) {
    EXPECT_EQ(direct.HighRes(k), plain.Example(k).rgb);
    if (zoomed.HighRes(k) != plain.Example(k).rgb) ++differ;
  }
  EXPECT_EQ(differ, 8);
}

SrLatentCache FakeSrCache() {
  torch::manual_seed(5);
  SrLatentCache c;
  const int64_t n = 12;
  c.mean = torch::randn({n, 4, 8, 8});
  c.std = torch::rand({n, 4, 8, 8}) * 0.1;
  c.low_res = torch::randint(0, 256, {n, 3, 16, 16}, torch::kInt64).to(torch::kUInt8);
  return c;
}

SrTrainerOptions TinySr(uint64_t seed) {
  ToyModelConfigs m = ToyModelConfigs::Tiny();
  SrTrainerOptions o;
  o.unet = m.sr_unet;
  o.scheduler = m.scheduler;
  o.scaling_factor = 0.6;
  o.seed = seed;
  o.steps = 4;
  o.batch_size = 3;
  o.lr = {.peak_lr = 1e-3, .warmup_steps = 1, .total_steps = 4};
  o.log_every = 100;
  return o;
}

TEST(SrTrainerTest, BatchesConcatenateTheUnshuffledLowResImageAfterTheNoisyLatents) {
  SrLatentCache cache = FakeSrCache();
  SrTrainer trainer(TinySr(2), &cache, ldm::testing::TempDir("sr_batch"));
  SrBatch b = trainer.MakeBatch(7);
  ASSERT_EQ(b.sample.sizes(), torch::IntArrayRef({3, 16, 8, 8}));
  EXPECT_EQ(b.target.sizes(), torch::IntArrayRef({3, 4, 8, 8}));
  // The condition channels are exactly what the pipeline builds from the same uint8 image.
  torch::Tensor cond = b.sample.narrow(1, 4, 12);
  bool found = false;
  for (int64_t i = 0; i < cache.size() && !found; ++i) {
    torch::Tensor lr = cache.low_res[i].unsqueeze(0).to(torch::kFloat32).div(127.5).sub(1.0);
    found = torch::equal(cond[0].unsqueeze(0), LowResConditioning::ToLatentChannels(lr, 2));
  }
  EXPECT_TRUE(found);
  EXPECT_TRUE(torch::equal(b.sample, trainer.MakeBatch(7).sample));
  EXPECT_FALSE(torch::equal(b.sample, trainer.MakeBatch(8).sample));
  EXPECT_EQ(trainer.NullContext(3).sizes(), torch::IntArrayRef({3, 1, 8}));
}

TEST(SrTrainerTest, SameSeedSameLossAndResumeIsExact) {
  StopSignal::Set(false);
  const fs::path dir = ldm::testing::TempDir("sr_resume");
  SrLatentCache cache = FakeSrCache();
  SrTrainer a(TinySr(1), &cache, dir / "a");
  ASSERT_TRUE(*a.Train(false));
  SrTrainer first(TinySr(1), &cache, dir / "b");
  EXPECT_FALSE(*first.Train(false, 2));
  SrTrainer resumed(TinySr(1), &cache, dir / "b");
  EXPECT_EQ(resumed.Train(false).status().code(), absl::StatusCode::kFailedPrecondition);
  ASSERT_TRUE(*resumed.Train(true));
  EXPECT_EQ(resumed.last_loss(), a.last_loss());
  EXPECT_EQ(resumed.step(), 4);
  const auto resumed_params = resumed.unet()->named_parameters();
  for (const auto& p : a.unet()->named_parameters()) {
    EXPECT_TRUE(torch::equal(p.value(), resumed_params[p.key()])) << p.key();
  }
  ASSERT_TRUE(resumed.WriteFinal().ok());
  EXPECT_TRUE(fs::exists(dir / "b" / "final" / "unet.safetensors"));
}

TEST(SrTrainingRunTest, TinyRunExportsAnUpscalerThePipelineRuns) {
  StopSignal::Set(false);
  const fs::path work = ldm::testing::TempDir("sr_run");
  ASSERT_TRUE(testing::ExportTinyModel(work / "base-work", work / "base").ok());
  ToyModelConfigs m = ToyModelConfigs::Tiny();
  SrTrainingRunOptions o;
  o.work_dir = work / "state";
  o.vae_dir = work / "base" / "vae";
  o.out_dir = work / "toy-shapes-sr";
  o.unet = m.sr_unet;
  o.scheduler = m.scheduler;
  o.resolution = 64;
  o.steps = 3;
  o.batch = 2;
  o.cache_size = 6;
  o.holdout_images = 8;
  o.max_steps_this_call = 2;
  // Stops after 2 steps at a checkpoint (CANCELLED), then resumes and exports.
  EXPECT_TRUE(absl::IsCancelled(SrTrainingRun(o).Run("sr-all")));
  o.resume = true;
  o.max_steps_this_call = -1;
  absl::Status done = SrTrainingRun(o).Run("sr-all");
  ASSERT_TRUE(done.ok()) << done;
  EXPECT_EQ(SrTrainingRun(o).Run("nope").code(), absl::StatusCode::kInvalidArgument);

  absl::StatusOr<std::unique_ptr<Pipeline>> p = Pipeline::Load(o.out_dir);
  ASSERT_TRUE(p.ok()) << p.status();
  const ModelInfo& info = (*p)->info();
  EXPECT_TRUE(info.supports_low_res_image);
  EXPECT_EQ(info.upscale_factor, 4);
  EXPECT_FALSE(info.supports_text);
  EXPECT_DOUBLE_EQ(info.default_guidance, 1.0);
  JobSpec spec;
  spec.request_id = "sr-run";
  spec.steps = 2;
  spec.guidance_scale = 1.0;
  spec.low_res_image = Image8{16, 16, 3, std::vector<uint8_t>(16 * 16 * 3, 128)};
  GenerateOptions g;
  g.spec = spec;
  absl::StatusOr<std::vector<Image8>> images = (*p)->Generate(g);
  ASSERT_TRUE(images.ok()) << images.status();
  EXPECT_EQ(images->at(0).width, 64);
  EXPECT_EQ(images->at(0).height, 64);
}

}  // namespace sr_trainer_test
}  // namespace ldm::train
