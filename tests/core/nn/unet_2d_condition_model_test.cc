// Unit tests of UNet2DConditionModel: config parsing/rejection, strict loading, shapes, dtypes,
// input validation and trainability. Uses a tiny self-contained config (no fixtures needed).
#include "core/nn/unet_2d_condition_model.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

#include <filesystem>
#include <fstream>
#include <string>

#include "core/common/autocast_scope.h"
#include "core/io/safetensors_writer.h"
#include "core/io/state_dict_loader.h"
#include "tests/testing/fixtures.h"
#include "tests/testing/tensor_matchers.h"

namespace ldm {
namespace unet_2d_condition_model_test {

using nlohmann::json;

// A two-level SD-shaped UNet small enough for fast tests (8 groups, 2 heads).
json TinyConfigJson() {
  return json::parse(R"({
    "_class_name": "UNet2DConditionModel", "_diffusers_version": "0.27.2",
    "act_fn": "silu", "attention_head_dim": [2, 4], "block_out_channels": [16, 32],
    "cross_attention_dim": 12, "down_block_types": ["CrossAttnDownBlock2D", "DownBlock2D"],
    "up_block_types": ["UpBlock2D", "CrossAttnUpBlock2D"], "in_channels": 4, "out_channels": 4,
    "layers_per_block": 1, "norm_num_groups": 8, "sample_size": 8, "center_input_sample": false,
    "class_embed_type": null, "num_class_embeds": null, "use_linear_projection": false,
    "upcast_attention": false, "transformer_layers_per_block": 1
  })");
}

absl::StatusOr<UNet2DConditionConfig> Parse(const json& j) {
  return UNet2DConditionConfig::FromModelConfig(ModelConfig(j, "unet/config.json"));
}

UNet2DConditionModel TinyModel(json j = TinyConfigJson()) {
  auto config = Parse(j);
  EXPECT_TRUE(config.ok()) << config.status();
  torch::manual_seed(7);
  return UNet2DConditionModel(*config);
}

TEST(UNet2DConditionConfigTest, ParsesHeadsFromAttentionHeadDim) {
  LDM_ASSERT_OK_AND_ASSIGN(auto c, Parse(TinyConfigJson()));
  EXPECT_EQ(c.num_attention_heads, (std::vector<int64_t>{2, 4}));
  EXPECT_EQ(c.cross_attention_dim, (std::vector<int64_t>{12, 12}));
  EXPECT_EQ(c.layers_per_block, (std::vector<int64_t>{1, 1}));
  EXPECT_EQ(c.TimeEmbedDim(), 64);
  json j = TinyConfigJson();
  j["num_attention_heads"] = 1;
  LDM_ASSERT_OK_AND_ASSIGN(auto c2, Parse(j));
  EXPECT_EQ(c2.num_attention_heads, (std::vector<int64_t>{1, 1}));
}

TEST(UNet2DConditionConfigTest, RejectsEveryUnsupportedSettingNamingTheField) {
  const std::vector<std::pair<std::string, json>> cases = {
      {"class_embed_type", "timestep"},
      {"addition_embed_type", "text_time"},
      {"addition_time_embed_dim", 256},
      {"only_cross_attention", true},
      {"only_cross_attention", json::array({false, true})},
      {"dual_cross_attention", true},
      {"time_embedding_type", "fourier"},
      {"resnet_time_scale_shift", "scale_shift"},
      {"resnet_skip_time_act", true},
      {"resnet_out_scale_factor", 2.0},
      {"encoder_hid_dim", 32},
      {"encoder_hid_dim_type", "text_proj"},
      {"time_cond_proj_dim", 8},
      {"time_embedding_act_fn", "silu"},
      {"timestep_post_act", "silu"},
      {"conv_in_kernel", 1},
      {"conv_out_kernel", 5},
      {"attention_type", "gated"},
      {"center_input_sample", true},
      {"class_embeddings_concat", true},
      {"projection_class_embeddings_input_dim", 8},
      {"cross_attention_norm", "group_norm"},
      {"mid_block_type", "UNetMidBlock2DSimpleCrossAttn"},
      {"mid_block_type", nullptr},
      {"mid_block_only_cross_attention", true},
      {"reverse_transformer_layers_per_block", json::array({1, 1})},
      {"norm_num_groups", nullptr},
      {"act_fn", "gelu"},
      {"_class_name", "UNet2DModel"},
      {"some_future_field", 1},
      {"down_block_types", json::array({"CrossAttnDownBlock2D", "AttnDownBlock2D"})},
      {"up_block_types", json::array({"UpBlock2D", "SimpleCrossAttnUpBlock2D"})},
  };
  for (const auto& [field, value] : cases) {
    SCOPED_TRACE(field + " = " + value.dump());
    json j = TinyConfigJson();
    j[field] = value;
    auto c = Parse(j);
    ASSERT_FALSE(c.ok());
    EXPECT_EQ(c.status().code(), absl::StatusCode::kUnimplemented) << c.status();
    EXPECT_NE(c.status().message().find(field), std::string::npos) << c.status();
  }
}

TEST(UNet2DConditionConfigTest, RejectsInconsistentValuesAsInvalidArgument) {
  const std::vector<std::pair<std::string, json>> cases = {
      {"block_out_channels", json::array({16, 30})},  // not a multiple of 8 groups
      {"up_block_types", json::array({"UpBlock2D"})},
      {"attention_head_dim", json::array({2, 4, 8})},
      {"attention_head_dim", 0},
      {"layers_per_block", 0},
      {"in_channels", "four"},
      {"block_out_channels", json::array()},
  };
  for (const auto& [field, value] : cases) {
    SCOPED_TRACE(field + " = " + value.dump());
    json j = TinyConfigJson();
    j[field] = value;
    auto c = Parse(j);
    ASSERT_FALSE(c.ok());
    EXPECT_EQ(c.status().code(), absl::StatusCode::kInvalidArgument) << c.status();
    EXPECT_NE(c.status().message().find(field), std::string::npos) << c.status();
  }
}

TEST(UNet2DConditionModelTest, ParameterNamesAreDiffusersKeys) {
  UNet2DConditionModel m = TinyModel();
  auto sd = StateDictOf(*m);
  for (const char* key :
       {"conv_in.weight", "time_embedding.linear_1.weight",
        "down_blocks.0.attentions.0.proj_in.weight",
        "down_blocks.0.attentions.0.transformer_blocks.0.attn1.to_q.weight",
        "down_blocks.0.attentions.0.transformer_blocks.0.attn2.to_out.0.bias",
        "down_blocks.0.attentions.0.transformer_blocks.0.ff.net.0.proj.weight",
        "down_blocks.0.attentions.0.transformer_blocks.0.ff.net.2.weight",
        "down_blocks.0.downsamplers.0.conv.weight", "down_blocks.1.resnets.0.conv_shortcut.weight",
        "mid_block.resnets.1.time_emb_proj.weight", "up_blocks.0.upsamplers.0.conv.bias",
        "up_blocks.1.resnets.1.norm1.weight", "conv_norm_out.weight", "conv_out.bias"}) {
    EXPECT_EQ(sd.count(key), 1u) << key;
  }
  EXPECT_EQ(sd.count("down_blocks.0.attentions.0.transformer_blocks.0.attn1.to_q.bias"), 0u);
  EXPECT_EQ(sd.at("up_blocks.1.resnets.1.norm1.weight").size(0), 32);  // 16 + 16 skip channels
}

TEST(UNet2DConditionModelTest, OutputShapesForOddSizesAndBatches) {
  UNet2DConditionModel m = TinyModel();
  torch::NoGradGuard no_grad;
  for (auto [b, h, w] :
       {std::tuple{3, 8, 8}, std::tuple{1, 16, 16}, std::tuple{2, 9, 7}, std::tuple{1, 5, 12}}) {
    SCOPED_TRACE(::testing::Message() << b << "x" << h << "x" << w);
    LDM_ASSERT_OK_AND_ASSIGN(
        torch::Tensor out,
        m->Run(torch::randn({b, 4, h, w}), torch::full({b}, 10), torch::randn({b, 5, 12})));
    EXPECT_EQ(out.sizes(), (std::vector<int64_t>{b, 4, h, w}));
    EXPECT_TRUE(torch::isfinite(out).all().item<bool>());
  }
}

TEST(UNet2DConditionModelTest, ZeroDimTimestepEqualsRepeatedTimesteps) {
  UNet2DConditionModel m = TinyModel();
  torch::NoGradGuard no_grad;
  auto x = torch::randn({2, 4, 8, 8});
  auto ctx = torch::randn({2, 3, 12});
  LDM_ASSERT_OK_AND_ASSIGN(auto a, m->Run(x, torch::tensor(250), ctx));
  LDM_ASSERT_OK_AND_ASSIGN(auto b, m->Run(x, torch::tensor({250.0f, 250.0f}), ctx));
  EXPECT_TRUE(testing::AllClose(a, b, 1e-6));
}

TEST(UNet2DConditionModelTest, BatchRowsAreIndependent) {
  UNet2DConditionModel m = TinyModel();
  torch::NoGradGuard no_grad;
  auto x = torch::randn({3, 4, 8, 8});
  auto t = torch::tensor({1, 500, 999});
  auto ctx = torch::randn({3, 6, 12});
  LDM_ASSERT_OK_AND_ASSIGN(auto all, m->Run(x, t, ctx));
  LDM_ASSERT_OK_AND_ASSIGN(auto one,
                           m->Run(x.narrow(0, 1, 1), t.narrow(0, 1, 1), ctx.narrow(0, 1, 1)));
  EXPECT_TRUE(testing::AllClose(all.narrow(0, 1, 1), one, 1e-5, 1e-5));
}

TEST(UNet2DConditionModelTest, Float64AndBFloat16AgreeWithFloat32) {
  UNet2DConditionModel m = TinyModel();
  torch::NoGradGuard no_grad;
  auto x = torch::randn({2, 4, 8, 8});
  auto t = torch::tensor({3.5f, 900.0f});
  auto ctx = torch::randn({2, 5, 12});
  LDM_ASSERT_OK_AND_ASSIGN(auto ref, m->Run(x, t, ctx));
  m->to(torch::kFloat64);
  LDM_ASSERT_OK_AND_ASSIGN(auto f64, m->Run(x.to(torch::kFloat64), t, ctx.to(torch::kFloat64)));
  EXPECT_EQ(f64.scalar_type(), torch::kFloat64);
  EXPECT_TRUE(testing::AllClose(f64, ref, 1e-4, 1e-4));
  m->to(torch::kBFloat16);
  LDM_ASSERT_OK_AND_ASSIGN(auto bf16, m->Run(x, t, ctx));  // inputs converted by Run
  EXPECT_EQ(bf16.scalar_type(), torch::kBFloat16);
  EXPECT_TRUE(testing::CloseRelativeToMax(bf16.to(torch::kFloat32), ref, 0.1));
}

TEST(UNet2DConditionModelTest, Float32WeightsRunUnderBFloat16AutocastAndTrain) {
  // Autocast hands bfloat16 activations to norm layers whose weights are float32 (libtorch
  // 1.13's CPU group_norm / layer_norm refuse the mix unless the model casts them).
  UNet2DConditionModel m = TinyModel();
  auto x = torch::randn({2, 4, 8, 8});
  auto t = torch::tensor({3.5f, 900.0f});
  auto ctx = torch::randn({2, 5, 12});
  torch::Tensor ref;
  {
    torch::NoGradGuard no_grad;
    ref = m->forward(x, t, ctx);
  }
  torch::Tensor mixed;
  {
    AutocastScope autocast(torch::kCPU, MixedPrecision::kBFloat16);
    mixed = m->forward(x, t, ctx);
  }
  EXPECT_EQ(mixed.scalar_type(), torch::kBFloat16);
  EXPECT_TRUE(testing::CloseRelativeToMax(mixed.to(torch::kFloat32), ref, 0.1));
  mixed.to(torch::kFloat32).square().mean().backward();
  for (const auto& p : m->named_parameters()) {
    EXPECT_EQ(p.value().scalar_type(), torch::kFloat32) << p.key();
  }
  EXPECT_EQ(m->named_parameters()["conv_in.weight"].grad().scalar_type(), torch::kFloat32);
  EXPECT_GT(m->named_parameters()["conv_in.weight"].grad().abs().sum().item<double>(), 0.0);
}

TEST(UNet2DConditionModelTest, UpcastAttentionKeepsHalfPrecisionClose) {
  json j = TinyConfigJson();
  j["upcast_attention"] = true;
  j["use_linear_projection"] = true;
  UNet2DConditionModel m = TinyModel(j);
  torch::NoGradGuard no_grad;
  auto x = torch::randn({1, 4, 8, 8});
  auto ctx = torch::randn({1, 5, 12});
  LDM_ASSERT_OK_AND_ASSIGN(auto ref, m->Run(x, torch::tensor(10), ctx));
  m->to(torch::kBFloat16);
  LDM_ASSERT_OK_AND_ASSIGN(auto bf16, m->Run(x, torch::tensor(10), ctx));
  EXPECT_TRUE(testing::CloseRelativeToMax(bf16.to(torch::kFloat32), ref, 0.1));
}

TEST(UNet2DConditionModelTest, ClassEmbeddingIsAddedToTheTimeEmbedding) {
  json j = TinyConfigJson();
  j["num_class_embeds"] = 5;
  UNet2DConditionModel m = TinyModel(j);
  torch::NoGradGuard no_grad;
  auto x = torch::randn({2, 4, 8, 8});
  auto ctx = torch::randn({2, 5, 12});
  std::map<std::string, torch::Tensor> inter;
  LDM_ASSERT_OK_AND_ASSIGN(auto out,
                           m->Run(x, torch::tensor(3), ctx, torch::tensor({0, 4}), &inter));
  EXPECT_TRUE(testing::AllClose(inter.at("emb_total"),
                                inter.at("time_embedding") + inter.at("class_embedding"), 1e-6));
  // Missing, out-of-range or superfluous labels are argument errors.
  EXPECT_EQ(m->Run(x, torch::tensor(3), ctx).status().code(), absl::StatusCode::kInvalidArgument);
  auto bad = m->Run(x, torch::tensor(3), ctx, torch::tensor({0, 5}));
  EXPECT_EQ(bad.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(bad.status().message().find("class_labels"), std::string::npos);
  UNet2DConditionModel plain = TinyModel();
  EXPECT_EQ(plain->Run(x, torch::tensor(3), ctx, torch::tensor({0, 1})).status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST(UNet2DConditionModelTest, RunRejectsBadInputsNamingTheArgument) {
  UNet2DConditionModel m = TinyModel();
  auto ctx = torch::randn({2, 5, 12});
  auto r = m->Run(torch::randn({2, 3, 8, 8}), torch::tensor(1), ctx);
  EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(r.status().message().find("sample"), std::string::npos);
  r = m->Run(torch::randn({2, 4, 8, 8}), torch::tensor({1, 2, 3}), ctx);
  EXPECT_NE(r.status().message().find("timesteps"), std::string::npos);
  r = m->Run(torch::randn({2, 4, 8, 8}), torch::tensor(1), torch::randn({2, 5, 7}));
  EXPECT_NE(r.status().message().find("encoder_hidden_states"), std::string::npos);
}

TEST(UNet2DConditionModelTest, IsTrainable) {
  UNet2DConditionModel m = TinyModel();
  m->train();
  auto out =
      m->forward(torch::randn({2, 4, 8, 8}), torch::tensor({1, 2}), torch::randn({2, 3, 12}));
  out.pow(2).mean().backward();
  for (const auto& p : m->named_parameters()) {
    ASSERT_TRUE(p.value().grad().defined()) << p.key();
  }
  EXPECT_GT(m->named_parameters()["conv_in.weight"].grad().abs().sum().item<double>(), 0.0);
}

// Writes config.json + weights for `model` into a fresh directory.
std::filesystem::path WriteModelDir(const std::string& name, const json& config,
                                    std::map<std::string, torch::Tensor> weights) {
  auto dir = testing::TempDir(name);
  std::ofstream(dir / "config.json") << config.dump(2);
  EXPECT_TRUE(WriteSafeTensors(dir / "diffusion_pytorch_model.safetensors", weights).ok());
  return dir;
}

TEST(LoadUNetTest, LoadsStrictlyAndReportsMissingExtraAndMismatchedWeights) {
  UNet2DConditionModel m = TinyModel();
  auto sd = StateDictOf(*m);
  auto dir = WriteModelDir("unet-ok", TinyConfigJson(), sd);
  LDM_ASSERT_OK_AND_ASSIGN(UNet2DConditionModel loaded,
                           LoadUNet(dir, torch::kCPU, torch::kFloat32));
  EXPECT_TRUE(torch::equal(loaded->named_parameters()["conv_out.weight"],
                           m->named_parameters()["conv_out.weight"]));
  EXPECT_FALSE(loaded->is_training());

  auto missing = sd;
  missing.erase("mid_block.resnets.0.conv1.bias");
  auto r = LoadUNet(WriteModelDir("unet-missing", TinyConfigJson(), missing), torch::kCPU,
                    torch::kFloat32);
  EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(r.status().message().find("missing key(s): mid_block.resnets.0.conv1.bias"),
            std::string::npos)
      << r.status();

  auto extra = sd;
  extra["class_embedding.weight"] = torch::zeros({3, 64});
  r = LoadUNet(WriteModelDir("unet-extra", TinyConfigJson(), extra), torch::kCPU, torch::kFloat32);
  EXPECT_NE(r.status().message().find("unexpected key(s): class_embedding.weight"),
            std::string::npos)
      << r.status();

  json other = TinyConfigJson();
  other["cross_attention_dim"] = 10;  // valid config, but not the one the weights were made for
  r = LoadUNet(WriteModelDir("unet-shape", other, sd), torch::kCPU, torch::kFloat32);
  EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(r.status().message().find("shape mismatch"), std::string::npos) << r.status();

  json unsupported = TinyConfigJson();
  unsupported["class_embed_type"] = "projection";
  r = LoadUNet(WriteModelDir("unet-unsupported", unsupported, sd), torch::kCPU, torch::kFloat32);
  EXPECT_EQ(r.status().code(), absl::StatusCode::kUnimplemented);

  EXPECT_EQ(LoadUNet(dir / "nope", torch::kCPU, torch::kFloat32).status().code(),
            absl::StatusCode::kNotFound);
  EXPECT_EQ(LoadUNet(dir, torch::kCPU, torch::kInt64).status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST(LoadUNetTest, ConvertsToTheRequestedDtype) {
  UNet2DConditionModel m = TinyModel();
  auto dir = WriteModelDir("unet-dtype", TinyConfigJson(), StateDictOf(*m));
  LDM_ASSERT_OK_AND_ASSIGN(UNet2DConditionModel loaded,
                           LoadUNet(dir, torch::kCPU, torch::kFloat64));
  for (const auto& p : loaded->parameters()) EXPECT_EQ(p.scalar_type(), torch::kFloat64);
}

}  // namespace unet_2d_condition_model_test
}  // namespace ldm
