// AutoencoderTrainer: full training and decoder-only fine-tuning of a tiny AutoencoderKL.
#include "tools/train/autoencoder_trainer.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

#include <fstream>

#include "core/io/model_config.h"
#include "core/io/state_dict_loader.h"
#include "tests/testing/fixtures.h"
#include "tools/train/stop_signal.h"
#include "tools/train/toy_model_configs.h"

namespace ldm::train {
namespace autoencoder_trainer_test {
namespace fs = std::filesystem;

AutoencoderTrainerOptions TinyOptions(int64_t steps) {
  AutoencoderTrainerOptions o;
  o.config = ToyModelConfigs::Tiny().vae;
  o.steps = steps;
  o.batch_size = 2;
  o.lr = {.peak_lr = 1e-3, .warmup_steps = 0, .total_steps = steps, .final_fraction = 1.0};
  o.scale_images = 4;
  o.log_every = 1;
  return o;
}

double ScalingFactorIn(const fs::path& vae_dir) {
  std::ifstream in(vae_dir / "config.json");
  return nlohmann::json::parse(in)["scaling_factor"].get<double>();
}

TEST(AutoencoderTrainerTest, DecoderOnlyKeepsEncoderAndScalingFactorAndChangesDecoder) {
  StopSignal::Set(false);
  const fs::path dir = ldm::testing::TempDir("autoencoder_trainer_decoder_only");
  AutoencoderTrainer base(TinyOptions(2), dir / "base");
  ASSERT_TRUE(base.Train(false).value());
  ASSERT_TRUE(base.Finish().ok());
  const fs::path base_vae = dir / "base" / "vae";
  const double base_factor = ScalingFactorIn(base_vae);
  auto before = StateDictOf(*base.model());

  AutoencoderTrainerOptions o = TinyOptions(3);
  o.config.scaling_factor = base_factor;
  o.init_from = base_vae;
  o.decoder_only = true;
  AutoencoderTrainer tuned(o, dir / "tuned");
  ASSERT_TRUE(tuned.Train(false).value());
  ASSERT_TRUE(tuned.Finish().ok());
  auto after = StateDictOf(*tuned.model());

  int encoder_tensors = 0, decoder_changed = 0;
  for (const auto& [name, tensor] : before) {
    const bool decoder_side = name.starts_with("decoder.") || name.starts_with("post_quant_conv.");
    if (decoder_side) {
      decoder_changed += torch::equal(tensor, after.at(name)) ? 0 : 1;
    } else {
      ++encoder_tensors;
      EXPECT_TRUE(torch::equal(tensor, after.at(name))) << name << " changed";
    }
  }
  EXPECT_GT(encoder_tensors, 0);
  EXPECT_GT(decoder_changed, 0);
  EXPECT_DOUBLE_EQ(ScalingFactorIn(dir / "tuned" / "vae"), base_factor);
}

TEST(AutoencoderTrainerTest, PixelWeightsRaiseObjectsAndTheBandAroundLabelEdges) {
  // 8x8 background with a 2x2 object (label 3) at rows/cols 3..4.
  torch::Tensor labels = torch::zeros({1, 8, 8}, torch::kUInt8);
  labels.index_put_({0, torch::indexing::Slice(3, 5), torch::indexing::Slice(3, 5)}, 3);
  const torch::Tensor w = AutoencoderTrainer::PixelWeights(labels, 4.0, 2.0);
  ASSERT_EQ(w.sizes(), (std::vector<int64_t>{1, 1, 8, 8}));
  auto at = [&](int y, int x) { return w[0][0][y][x].item<double>(); };
  EXPECT_DOUBLE_EQ(at(0, 0), 1.0) << "background far from the object";
  EXPECT_DOUBLE_EQ(at(3, 3), 1.0 + 4.0 + 2.0) << "object pixel next to the background";
  EXPECT_DOUBLE_EQ(at(2, 2), 1.0 + 2.0) << "background pixel touching the object diagonally";
  EXPECT_DOUBLE_EQ(at(2, 5), 1.0 + 2.0);
  EXPECT_DOUBLE_EQ(at(1, 3), 1.0) << "two rows away";
  EXPECT_DOUBLE_EQ(AutoencoderTrainer::PixelWeights(labels, 0.0, 0.0).sum().item<double>(), 64.0)
      << "no extra weights: all ones";
  // A uniform map has no edges, even at the image border.
  const torch::Tensor full = torch::full({1, 4, 4}, 2, torch::kUInt8);
  EXPECT_TRUE(AutoencoderTrainer::PixelWeights(full, 1.0, 5.0).eq(2.0).all().item<bool>());
}

TEST(AutoencoderTrainerTest, InitFromAMissingFolderThrows) {
  AutoencoderTrainerOptions o = TinyOptions(1);
  o.init_from = "/nonexistent/vae";
  o.decoder_only = true;
  EXPECT_THROW(AutoencoderTrainer(o, ldm::testing::TempDir("autoencoder_trainer_missing")),
               c10::Error);
}

}  // namespace autoencoder_trainer_test
}  // namespace ldm::train
