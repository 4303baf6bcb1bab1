// Unit tests of AutoencoderKL: config rejection, strict loading, shapes, dtypes, trainability.
#include "core/nn/autoencoder_kl.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

#include <filesystem>
#include <fstream>
#include <string>

#include "core/io/safetensors_writer.h"
#include "core/io/state_dict_loader.h"
#include "tests/testing/fixtures.h"
#include "tests/testing/tensor_matchers.h"

namespace ldm {
namespace autoencoder_kl_test {

using nlohmann::json;

json TinyConfigJson() {
  return json::parse(R"({
    "_class_name": "AutoencoderKL", "_diffusers_version": "0.27.2", "act_fn": "silu",
    "block_out_channels": [8, 16], "down_block_types": ["DownEncoderBlock2D", "DownEncoderBlock2D"],
    "up_block_types": ["UpDecoderBlock2D", "UpDecoderBlock2D"], "force_upcast": true,
    "in_channels": 3, "latent_channels": 4, "latents_mean": null, "latents_std": null,
    "layers_per_block": 1, "norm_num_groups": 4, "out_channels": 3, "sample_size": 16,
    "scaling_factor": 0.18215
  })");
}

absl::StatusOr<AutoencoderKLConfig> Parse(const json& j) {
  return AutoencoderKLConfig::FromModelConfig(ModelConfig(j, "vae/config.json"));
}

AutoencoderKL TinyModel() {
  auto c = Parse(TinyConfigJson());
  EXPECT_TRUE(c.ok()) << c.status();
  torch::manual_seed(3);
  return AutoencoderKL(*c);
}

TEST(AutoencoderKLConfigTest, ParsesFields) {
  LDM_ASSERT_OK_AND_ASSIGN(auto c, Parse(TinyConfigJson()));
  EXPECT_EQ(c.block_out_channels, (std::vector<int64_t>{8, 16}));
  EXPECT_EQ(c.norm_num_groups, 4);
  EXPECT_DOUBLE_EQ(c.scaling_factor, 0.18215);
  EXPECT_EQ(c.DownsampleFactor(), 2);
  json j = TinyConfigJson();
  j.erase("scaling_factor");
  LDM_ASSERT_OK_AND_ASSIGN(auto d, Parse(j));
  EXPECT_DOUBLE_EQ(d.scaling_factor, 0.18215);
}

TEST(AutoencoderKLConfigTest, RejectsUnsupportedSettingsNamingTheField) {
  const std::vector<std::pair<std::string, json>> cases = {
      {"latents_mean", json::array({0.1, 0.2, 0.3, 0.4})},
      {"latents_std", json::array({1, 1, 1, 1})},
      {"shift_factor", 0.1159},
      {"use_quant_conv", false},
      {"use_post_quant_conv", false},
      {"mid_block_add_attention", false},
      {"act_fn", "relu"},
      {"down_block_types", json::array({"DownEncoderBlock2D", "AttnDownEncoderBlock2D"})},
      {"up_block_types", json::array({"UpDecoderBlock2D", "AttnUpDecoderBlock2D"})},
      {"_class_name", "AsymmetricAutoencoderKL"},
      {"unknown_future_field", true},
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
  for (const auto& [field, value] : std::vector<std::pair<std::string, json>>{
           {"block_out_channels", json::array({8, 10})},
           {"up_block_types", json::array({"UpDecoderBlock2D"})},
           {"layers_per_block", 0},
           {"scaling_factor", -1.0}}) {
    SCOPED_TRACE(field + " = " + value.dump());
    json j = TinyConfigJson();
    j[field] = value;
    auto c = Parse(j);
    ASSERT_FALSE(c.ok());
    EXPECT_EQ(c.status().code(), absl::StatusCode::kInvalidArgument) << c.status();
    EXPECT_NE(c.status().message().find(field), std::string::npos) << c.status();
  }
}

TEST(AutoencoderKLTest, ShapesRoundTrip) {
  AutoencoderKL m = TinyModel();
  torch::NoGradGuard no_grad;
  for (auto [b, h, w] : {std::tuple{1, 16, 16}, std::tuple{3, 8, 24}}) {
    LDM_ASSERT_OK_AND_ASSIGN(DiagonalGaussian d, m->RunEncode(torch::rand({b, 3, h, w}) * 2 - 1));
    EXPECT_EQ(d.mean.sizes(), (std::vector<int64_t>{b, 4, h / 2, w / 2}));
    EXPECT_TRUE(torch::equal(d.std, torch::exp(0.5 * d.logvar)));
    LDM_ASSERT_OK_AND_ASSIGN(torch::Tensor img, m->RunDecode(d.mean));
    EXPECT_EQ(img.sizes(), (std::vector<int64_t>{b, 3, h, w}));
  }
  // Odd latent sizes decode too.
  LDM_ASSERT_OK_AND_ASSIGN(torch::Tensor img, m->RunDecode(torch::randn({2, 4, 5, 7})));
  EXPECT_EQ(img.sizes(), (std::vector<int64_t>{2, 3, 10, 14}));
}

TEST(AutoencoderKLTest, LogvarIsClamped) {
  AutoencoderKL m = TinyModel();
  torch::NoGradGuard no_grad;
  // Make the logvar half of quant_conv huge.
  torch::Tensor bias = m->named_parameters()["quant_conv.bias"];
  bias.narrow(0, 4, 4).fill_(1000.0);
  LDM_ASSERT_OK_AND_ASSIGN(DiagonalGaussian d, m->RunEncode(torch::zeros({1, 3, 8, 8})));
  EXPECT_LE(d.logvar.max().item<double>(), 20.0);
  bias.narrow(0, 4, 4).fill_(-1000.0);
  LDM_ASSERT_OK_AND_ASSIGN(d, m->RunEncode(torch::zeros({1, 3, 8, 8})));
  EXPECT_GE(d.logvar.min().item<double>(), -30.0);
}

TEST(AutoencoderKLTest, Float64AndBFloat16AgreeWithFloat32) {
  AutoencoderKL m = TinyModel();
  torch::NoGradGuard no_grad;
  auto z = torch::randn({2, 4, 8, 8});
  LDM_ASSERT_OK_AND_ASSIGN(auto ref, m->RunDecode(z));
  m->to(torch::kFloat64);
  LDM_ASSERT_OK_AND_ASSIGN(auto f64, m->RunDecode(z));
  EXPECT_EQ(f64.scalar_type(), torch::kFloat64);
  EXPECT_TRUE(testing::AllClose(f64, ref, 1e-4, 1e-4));
  m->to(torch::kBFloat16);
  LDM_ASSERT_OK_AND_ASSIGN(auto bf16, m->RunDecode(z));
  EXPECT_EQ(bf16.scalar_type(), torch::kBFloat16);
  EXPECT_TRUE(testing::CloseRelativeToMax(bf16.to(torch::kFloat32), ref, 0.1));
}

TEST(AutoencoderKLTest, RunRejectsBadShapes) {
  AutoencoderKL m = TinyModel();
  EXPECT_EQ(m->RunDecode(torch::randn({1, 3, 8, 8})).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(m->RunEncode(torch::randn({1, 4, 8, 8})).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(m->RunDecode(torch::ones({1, 4, 8, 8}, torch::kLong)).status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST(AutoencoderKLTest, DecodeWithMarginDecodesEdgeReplicatedLatentsAndCropsTheMargin) {
  AutoencoderKL m = TinyModel();  // f = 2
  torch::NoGradGuard no_grad;
  const torch::Tensor z = torch::randn({2, 4, 5, 6});
  EXPECT_TRUE(torch::equal(m->DecodeWithMargin(z, 0), m->Decode(z)));  // margin 0: Decode
  const torch::Tensor with_margin = m->DecodeWithMargin(z, 2);
  EXPECT_EQ(with_margin.sizes(), (std::vector<int64_t>{2, 3, 10, 12}));
  // Row/column 0 repeated twice before, the last ones twice after; 4 pixels cropped per side.
  const torch::Tensor rows = torch::tensor({0, 0, 0, 1, 2, 3, 4, 4, 4});
  const torch::Tensor cols = torch::tensor({0, 0, 0, 1, 2, 3, 4, 5, 5, 5});
  const torch::Tensor extended = z.index_select(2, rows).index_select(3, cols);
  const torch::Tensor full = m->Decode(extended);
  EXPECT_TRUE(torch::equal(with_margin, full.slice(2, 4, 14).slice(3, 4, 16)));
  EXPECT_FALSE(torch::allclose(with_margin, m->Decode(z)));
  LDM_ASSERT_OK_AND_ASSIGN(torch::Tensor run, m->RunDecodeWithMargin(z, 2));
  EXPECT_TRUE(torch::equal(run, with_margin));
  EXPECT_EQ(m->RunDecodeWithMargin(z, -1).status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(m->RunDecodeWithMargin(torch::randn({1, 3, 4, 4}), 1).status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST(AutoencoderKLTest, IsTrainable) {
  AutoencoderKL m = TinyModel();
  m->train();
  auto image = torch::rand({2, 3, 8, 8}) * 2 - 1;
  DiagonalGaussian d = m->Encode(image);
  auto recon = m->Decode(d.Sample(torch::randn_like(d.mean)));
  ((recon - image).pow(2).mean() + d.mean.pow(2).mean()).backward();
  for (const auto& p : m->named_parameters()) {
    ASSERT_TRUE(p.value().grad().defined()) << p.key();
  }
}

TEST(LoadAutoencoderKLTest, LoadsStrictly) {
  AutoencoderKL m = TinyModel();
  auto sd = StateDictOf(*m);
  auto write = [&](const std::string& name, const json& config,
                   const std::map<std::string, torch::Tensor>& weights) {
    auto dir = testing::TempDir(name);
    std::ofstream(dir / "config.json") << config.dump();
    EXPECT_TRUE(WriteSafeTensors(dir / "diffusion_pytorch_model.safetensors", weights).ok());
    return dir;
  };
  LDM_ASSERT_OK_AND_ASSIGN(
      AutoencoderKL loaded,
      LoadAutoencoderKL(write("vae-ok", TinyConfigJson(), sd), torch::kCPU, torch::kFloat32));
  EXPECT_TRUE(torch::equal(loaded->named_parameters()["decoder.conv_out.weight"],
                           m->named_parameters()["decoder.conv_out.weight"]));
  auto missing = sd;
  missing.erase("encoder.mid_block.attentions.0.to_q.weight");
  auto r = LoadAutoencoderKL(write("vae-missing", TinyConfigJson(), missing), torch::kCPU,
                             torch::kFloat32);
  EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(r.status().message().find("encoder.mid_block.attentions.0.to_q.weight"),
            std::string::npos)
      << r.status();
  auto legacy = sd;  // legacy attention names are not accepted silently
  legacy["encoder.mid_block.attentions.0.query.weight"] = torch::zeros({16, 16});
  r = LoadAutoencoderKL(write("vae-extra", TinyConfigJson(), legacy), torch::kCPU, torch::kFloat32);
  EXPECT_NE(r.status().message().find("unexpected key(s)"), std::string::npos) << r.status();
  json other = TinyConfigJson();
  other["latent_channels"] = 8;
  r = LoadAutoencoderKL(write("vae-shape", other, sd), torch::kCPU, torch::kFloat32);
  EXPECT_NE(r.status().message().find("shape mismatch"), std::string::npos) << r.status();
}

}  // namespace autoencoder_kl_test
}  // namespace ldm
