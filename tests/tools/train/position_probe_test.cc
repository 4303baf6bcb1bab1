// PositionProbe: its target, the features it reads, that only position-aware features satisfy
// it, and how DiffusionTrainer trains with it without exporting it.
#include "tools/train/position_probe.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

#include "core/io/safetensors_file.h"
#include "tests/testing/fixtures.h"
#include "tests/tools/train/tiny_model.h"
#include "tools/train/diffusion_trainer.h"
#include "tools/train/stop_signal.h"
#include "tools/train/toy_model_configs.h"

namespace ldm::train {
namespace {
namespace fs = std::filesystem;

TEST(PositionProbeTest, CoordinatesAreCellCentresInMinusOneToOne) {
  torch::Tensor c = PositionProbeImpl::Coordinates(4, 2, torch::TensorOptions(torch::kFloat32));
  ASSERT_EQ(c.sizes(), (std::vector<int64_t>{1, 2, 4, 2}));
  EXPECT_TRUE(torch::allclose(c[0][0].select(1, 0), torch::tensor({-0.75, -0.25, 0.25, 0.75})));
  EXPECT_TRUE(torch::allclose(c[0][1][3], torch::tensor({-0.5, 0.5})));
  EXPECT_NEAR(c.mean().item<double>(), 0.0, 1e-7);
}

TEST(PositionProbeTest, DefaultFeaturesAreTheInputsOfEachAttentionLevel) {
  auto f = PositionProbeImpl::DefaultFeatures(ToyModelConfigs::Default().unet);
  const std::vector<std::pair<std::string, int64_t>> want = {
      {"down_blocks.0", 64}, {"mid_block", 128}, {"up_blocks.0", 128}};
  EXPECT_EQ(f, want);
  UNet2DConditionConfig sd;  // SD 1.x channels
  auto g = PositionProbeImpl::DefaultFeatures(sd);
  ASSERT_EQ(g.size(), 7u);
  EXPECT_EQ(g[2], (std::pair<std::string, int64_t>{"down_blocks.2", 1280}));
  EXPECT_EQ(g[3], (std::pair<std::string, int64_t>{"mid_block", 1280}));
  EXPECT_EQ(g[6], (std::pair<std::string, int64_t>{"up_blocks.2", 640}));
}

// Trains the probe's heads alone on fixed features and returns the final loss.
double FitProbe(const torch::Tensor& features) {
  torch::manual_seed(0);
  PositionProbe probe(std::vector<std::pair<std::string, int64_t>>{{"f", features.size(1)}});
  torch::optim::Adam opt(probe->parameters(), torch::optim::AdamOptions(0.05));
  double loss = 0;
  for (int i = 0; i < 300; ++i) {
    opt.zero_grad();
    torch::Tensor l = probe->Loss({{"f", features}});
    l.backward();
    opt.step();
    loss = l.item<double>();
  }
  return loss;
}

TEST(PositionProbeTest, OnlyFeaturesThatEncodePositionSatisfyIt) {
  torch::manual_seed(3);
  // Features that do not depend on the location (any per-image content): the best a 1x1 head can
  // do is predict 0, the variance of the centres (0.3125 for 4 cells).
  torch::Tensor blind = torch::randn({8, 6, 1, 1}).expand({8, 6, 4, 4}).contiguous();
  EXPECT_NEAR(FitProbe(blind), 0.3125, 0.01);
  // Features that carry the coordinates among noise channels: solved.
  torch::Tensor coords =
      PositionProbeImpl::Coordinates(4, 4, torch::TensorOptions()).expand({8, 2, 4, 4});
  torch::Tensor aware = torch::cat({torch::randn({8, 4, 4, 4}), coords * 3.0 + 1.0}, 1);
  EXPECT_LT(FitProbe(aware), 1e-3);
}

TEST(PositionProbeTest, MissingOrMisshapenFeatureIsAnError) {
  PositionProbe probe(std::vector<std::pair<std::string, int64_t>>{{"mid_block", 8}});
  EXPECT_THROW(probe->Loss({{"down_blocks.0", torch::zeros({1, 8, 4, 4})}}), c10::Error);
  EXPECT_THROW(probe->Loss({{"mid_block", torch::zeros({1, 4, 4, 4})}}), c10::Error);
  EXPECT_THROW(PositionProbe(std::vector<std::pair<std::string, int64_t>>{}), c10::Error);
}

DiffusionTrainerOptions ProbedDiffusion(double probe_weight) {
  DiffusionTrainerOptions o = testing::TinyDiffusion(2);
  o.position_probe_weight = probe_weight;
  return o;
}

using testing::EmptyIds;
using testing::FakeCache;

TEST(DiffusionTrainerPositionProbeTest, ProbeTrainsWithTheUNetAndIsNeverExported) {
  StopSignal::Set(false);
  const fs::path dir = ldm::testing::TempDir("diffusion_probe");
  LatentCache cache = FakeCache();
  DiffusionTrainer plain(ProbedDiffusion(0.0), &cache, EmptyIds(), dir / "plain");
  EXPECT_FALSE(plain.model()->position_probe);
  ASSERT_TRUE(*plain.Train(false));
  EXPECT_EQ(plain.last_probe_loss(), 0.0);

  DiffusionTrainer probed(ProbedDiffusion(0.5), &cache, EmptyIds(), dir / "probed");
  ASSERT_TRUE(probed.model()->position_probe);
  ASSERT_TRUE(*probed.Train(false));
  EXPECT_GT(probed.last_probe_loss(), 0.0);
  // Same seed and data: the probe's gradient changes the UNet, not only the heads.
  EXPECT_FALSE(
      torch::equal(plain.model()->unet->parameters()[0], probed.model()->unet->parameters()[0]));
  ASSERT_TRUE(probed.WriteFinal().ok());
  auto unet = SafeTensorsFile::Open(dir / "probed" / "final" / "unet.safetensors");
  ASSERT_TRUE(unet.ok()) << unet.status();
  EXPECT_EQ((*unet)->tensors().size(), plain.model()->unet->named_parameters().size());
  for (const auto& [name, info] : (*unet)->tensors()) {
    EXPECT_EQ(name.find("position_probe"), std::string::npos) << name;
  }

  // A probed run resumes exactly; resuming it without the probe is refused.
  DiffusionTrainer first(ProbedDiffusion(0.5), &cache, EmptyIds(), dir / "resume");
  EXPECT_FALSE(*first.Train(false, 2));
  DiffusionTrainer resumed(ProbedDiffusion(0.5), &cache, EmptyIds(), dir / "resume");
  ASSERT_TRUE(*resumed.Train(true));
  EXPECT_EQ(resumed.last_loss(), probed.last_loss());
  DiffusionTrainer unprobed(ProbedDiffusion(0.0), &cache, EmptyIds(), dir / "resume");
  EXPECT_FALSE(unprobed.Train(true).ok());
}

TEST(DiffusionTrainerPositionProbeTest, NegativeWeightIsRejected) {
  LatentCache cache = FakeCache();
  EXPECT_THROW(DiffusionTrainer(ProbedDiffusion(-1.0), &cache, EmptyIds(), "/nonexistent"),
               c10::Error);
}

}  // namespace
}  // namespace ldm::train
