// Unit tests of NoisyLatentClassifier: config parsing/rejection, JSON round trip, shapes, time
// conditioning, per-row independence, strict loading and trainability.
#include "core/nn/noisy_latent_classifier.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

#include <fstream>

#include "core/io/safetensors_writer.h"
#include "core/io/state_dict_loader.h"
#include "tests/testing/fixtures.h"
#include "tests/testing/tensor_matchers.h"

namespace ldm {
namespace noisy_latent_classifier_test {

using nlohmann::json;

NoisyLatentClassifierConfig Tiny() {
  NoisyLatentClassifierConfig c;
  c.in_channels = 4;
  c.num_classes = 5;
  c.block_out_channels = {8, 16};
  c.norm_num_groups = 4;
  return c;
}

absl::StatusOr<NoisyLatentClassifierConfig> Parse(const json& j) {
  return NoisyLatentClassifierConfig::FromModelConfig(ModelConfig(j, "classifier/config.json"));
}

TEST(NoisyLatentClassifierTest, ConfigRoundTripsThroughItsJson) {
  LDM_ASSERT_OK_AND_ASSIGN(NoisyLatentClassifierConfig parsed, Parse(Tiny().ToJson()));
  EXPECT_EQ(parsed.num_classes, 5);
  EXPECT_EQ(parsed.block_out_channels, (std::vector<int64_t>{8, 16}));
  EXPECT_EQ(parsed.norm_num_groups, 4);
  EXPECT_EQ(parsed.TimeEmbedDim(), 32);
  EXPECT_EQ(Tiny().ToJson()["_class_name"], "NoisyLatentClassifier");
}

TEST(NoisyLatentClassifierTest, BadConfigsNameTheFileAndField) {
  json unknown = Tiny().ToJson();
  unknown["attention_pooling_heads"] = 4;
  auto r = Parse(unknown);
  ASSERT_EQ(r.status().code(), absl::StatusCode::kUnimplemented);
  EXPECT_NE(r.status().message().find("attention_pooling_heads"), std::string::npos);

  json pooling = Tiny().ToJson();
  pooling["pooling"] = "attention";
  EXPECT_EQ(Parse(pooling).status().code(), absl::StatusCode::kUnimplemented);

  json groups = Tiny().ToJson();
  groups["block_out_channels"] = {8, 18};
  r = Parse(groups);
  ASSERT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(r.status().message().find("classifier/config.json"), std::string::npos);
  EXPECT_NE(r.status().message().find("block_out_channels"), std::string::npos);

  json no_classes = Tiny().ToJson();
  no_classes.erase("num_classes");
  EXPECT_FALSE(Parse(no_classes).ok());

  json wrong_class = Tiny().ToJson();
  wrong_class["_class_name"] = "UNet2DConditionModel";
  EXPECT_EQ(Parse(wrong_class).status().code(), absl::StatusCode::kUnimplemented);
}

TEST(NoisyLatentClassifierTest, LogitsPerRowDependOnTheTimestepAndNotOnOtherRows) {
  torch::manual_seed(1);
  NoisyLatentClassifier model(Tiny());
  model->eval();
  torch::NoGradGuard no_grad;
  torch::Tensor x = torch::randn({3, 4, 8, 8});
  torch::Tensor t = torch::tensor({10.0, 500.5, 990.0});
  torch::Tensor logits = model->forward(x, t);
  ASSERT_EQ(logits.sizes(), torch::IntArrayRef({3, 5}));
  // Row 1 alone gives the same logits as inside the batch.
  EXPECT_TRUE(testing::AllClose(model->forward(x.narrow(0, 1, 1), t.narrow(0, 1, 1)),
                                logits.narrow(0, 1, 1), 1e-5, 1e-5));
  // The timestep enters: another t changes the logits.
  torch::Tensor other = model->forward(x.narrow(0, 0, 1), torch::tensor({900.0}));
  EXPECT_GT((other - logits.narrow(0, 0, 1)).abs().max().item<double>(), 1e-4);
  // Any latent size works (mean pooling); a 0-dim timestep broadcasts.
  EXPECT_EQ(model->forward(torch::randn({2, 4, 6, 10}), torch::tensor(3.0)).sizes(),
            torch::IntArrayRef({2, 5}));
}

TEST(NoisyLatentClassifierTest, RunRejectsBadInputsWithoutThrowing) {
  NoisyLatentClassifier model(Tiny());
  EXPECT_EQ(model->Run(torch::randn({1, 3, 8, 8}), torch::tensor({1.0})).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(model->Run(torch::randn({2, 4, 8, 8}), torch::tensor({1.0, 2.0, 3.0})).status().code(),
            absl::StatusCode::kInvalidArgument);
  LDM_EXPECT_OK(model->Run(torch::randn({2, 4, 8, 8}), torch::tensor({1.0, 2.0})));
}

TEST(NoisyLatentClassifierTest, LoadsItsOwnWeightsStrictly) {
  const auto dir = ldm::testing::TempDir("noisy_latent_classifier_load");
  torch::manual_seed(2);
  NoisyLatentClassifier model(Tiny());
  std::ofstream(dir / "config.json") << Tiny().ToJson().dump(2);
  auto state = StateDictOf(*model);
  LDM_ASSERT_OK(WriteSafeTensors(dir / "diffusion_pytorch_model.safetensors", state));
  EXPECT_TRUE(state.count("down_blocks.0.resnets.0.conv1.weight"));
  EXPECT_TRUE(state.count("down_blocks.0.downsamplers.0.conv.weight"));
  EXPECT_TRUE(state.count("mid_block.time_emb_proj.weight"));
  EXPECT_TRUE(state.count("classifier.weight"));
  LDM_ASSERT_OK_AND_ASSIGN(NoisyLatentClassifier loaded,
                           LoadNoisyLatentClassifier(dir, torch::kCPU, torch::kFloat32));
  torch::NoGradGuard no_grad;
  model->eval();
  torch::Tensor x = torch::randn({2, 4, 8, 8});
  torch::Tensor t = torch::tensor({5.0, 700.0});
  EXPECT_TRUE(testing::AllClose(loaded->forward(x, t), model->forward(x, t), 0, 0));

  // A weights file of another architecture is refused, naming a key.
  NoisyLatentClassifierConfig wider = Tiny();
  wider.block_out_channels = {8, 32};
  std::ofstream(dir / "config.json") << wider.ToJson().dump(2);
  auto mismatch = LoadNoisyLatentClassifier(dir, torch::kCPU, torch::kFloat32);
  EXPECT_EQ(mismatch.status().code(), absl::StatusCode::kInvalidArgument) << mismatch.status();
  EXPECT_EQ(
      LoadNoisyLatentClassifier(dir / "missing", torch::kCPU, torch::kFloat32).status().code(),
      absl::StatusCode::kNotFound);
}

TEST(NoisyLatentClassifierTest, LearnsToSeparateTwoClassesOfNoisyInputs) {
  torch::manual_seed(3);
  NoisyLatentClassifierConfig c = Tiny();
  c.num_classes = 2;
  NoisyLatentClassifier model(c);
  torch::optim::Adam opt(model->parameters(), torch::optim::AdamOptions(3e-3));
  // Class 0: mean -1, class 1: mean +1, both with unit noise.
  double last = 0;
  for (int step = 0; step < 60; ++step) {
    torch::Tensor y = torch::randint(0, 2, {32}, torch::kLong);
    torch::Tensor x =
        (y.to(torch::kFloat32) * 2 - 1).view({32, 1, 1, 1}) + torch::randn({32, 4, 8, 8});
    torch::Tensor loss = torch::cross_entropy_loss(model->forward(x, torch::full({32}, 100.0)), y);
    opt.zero_grad();
    loss.backward();
    opt.step();
    last = loss.item<double>();
  }
  EXPECT_LT(last, 0.3);
}

}  // namespace noisy_latent_classifier_test
}  // namespace ldm
