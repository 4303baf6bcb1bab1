// Unit tests of ClipTextModel on tiny random models: config parsing, loading, masks, pooling,
// input validation and dtypes.
#include "core/text/clip_text_model.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

#include <fstream>

#include "core/io/safetensors_writer.h"
#include "core/io/state_dict_loader.h"
#include "tests/testing/fixtures.h"
#include "tests/testing/tensor_matchers.h"

namespace ldm {
namespace clip_text_model_test {

nlohmann::json TinyConfigJson() {
  return {{"architectures", {"CLIPTextModel"}},
          {"hidden_act", "quick_gelu"},
          {"hidden_size", 16},
          {"intermediate_size", 24},
          {"num_hidden_layers", 2},
          {"num_attention_heads", 2},
          {"max_position_embeddings", 12},
          {"vocab_size", 50},
          {"layer_norm_eps", 1e-5},
          {"eos_token_id", 2}};
}

ClipTextConfig ParseOrDie(const nlohmann::json& j) {
  auto c = ClipTextConfig::FromModelConfig(ModelConfig(j, "test/config.json"));
  EXPECT_TRUE(c.ok()) << c.status();
  return c.ok() ? *c : ClipTextConfig{};
}

// A model with every parameter random (LayerNorms and biases included).
ClipTextModel RandomModel(const ClipTextConfig& c, uint64_t seed) {
  torch::manual_seed(seed);
  ClipTextModel m(c);
  torch::NoGradGuard no_grad;
  for (auto& p : m->parameters()) p.normal_(0.0, 0.5);
  m->eval();
  return m;
}

// Writes config.json + model.safetensors for `m` into a fresh directory.
std::filesystem::path SaveModel(const ClipTextModel& m, const nlohmann::json& config,
                                const std::string& name) {
  auto dir = testing::TempDir(name);
  std::ofstream(dir / "config.json") << config.dump();
  EXPECT_TRUE(WriteSafeTensors(dir / "model.safetensors", StateDictOf(*m)).ok());
  return dir;
}

torch::Tensor Ids(std::vector<std::vector<int64_t>> rows) {
  std::vector<torch::Tensor> t;
  for (auto& r : rows) t.push_back(torch::tensor(r, torch::kLong));
  return torch::stack(t);
}

TEST(ClipTextConfigTest, ParsesFieldsAndDefaults) {
  ClipTextConfig c = ParseOrDie(TinyConfigJson());
  EXPECT_EQ(c.hidden_size, 16);
  EXPECT_EQ(c.num_hidden_layers, 2);
  EXPECT_EQ(c.eos_token_id, 2);
  EXPECT_EQ(c.hidden_act, ClipActivation::kQuickGelu);
  ClipTextConfig d = ParseOrDie({{"hidden_act", "gelu"}});
  EXPECT_EQ(d.hidden_act, ClipActivation::kGelu);
  EXPECT_EQ(d.hidden_size, 512);
  EXPECT_EQ(d.vocab_size, 49408);
  EXPECT_EQ(d.eos_token_id, 49407);
}

TEST(ClipTextConfigTest, UnsupportedActivationIsUnimplementedNamingTheField) {
  nlohmann::json j = TinyConfigJson();
  j["hidden_act"] = "swish";
  auto c = ClipTextConfig::FromModelConfig(ModelConfig(j, "te/config.json"));
  ASSERT_EQ(c.status().code(), absl::StatusCode::kUnimplemented) << c.status();
  const std::string msg(c.status().message());
  EXPECT_NE(msg.find("te/config.json"), std::string::npos) << msg;
  EXPECT_NE(msg.find("hidden_act"), std::string::npos) << msg;
  EXPECT_NE(msg.find("swish"), std::string::npos) << msg;
}

TEST(ClipTextConfigTest, InvalidSizesAreInvalidArgument) {
  nlohmann::json j = TinyConfigJson();
  j["num_attention_heads"] = 3;
  auto c = ClipTextConfig::FromModelConfig(ModelConfig(j, "te/config.json"));
  ASSERT_EQ(c.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(c.status().message().find("hidden_size"), absl::string_view::npos) << c.status();
  j = TinyConfigJson();
  j["num_hidden_layers"] = 0;
  c = ClipTextConfig::FromModelConfig(ModelConfig(j, "te/config.json"));
  ASSERT_EQ(c.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(c.status().message().find("num_hidden_layers"), absl::string_view::npos);
  j = TinyConfigJson();
  j["hidden_size"] = "big";
  c = ClipTextConfig::FromModelConfig(ModelConfig(j, "te/config.json"));
  ASSERT_EQ(c.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(c.status().message().find("hidden_size"), absl::string_view::npos);
}

TEST(ClipTextModelTest, ParameterNamesAreCheckpointKeys) {
  ClipTextModel m(ParseOrDie(TinyConfigJson()));
  auto sd = StateDictOf(*m);
  EXPECT_EQ(sd.size(), 2u + 2u * 16u + 2u);
  for (const char* key :
       {"text_model.embeddings.token_embedding.weight",
        "text_model.embeddings.position_embedding.weight",
        "text_model.encoder.layers.1.self_attn.q_proj.bias",
        "text_model.encoder.layers.0.mlp.fc2.weight",
        "text_model.encoder.layers.0.layer_norm2.bias", "text_model.final_layer_norm.weight"}) {
    EXPECT_EQ(sd.count(key), 1u) << key;
  }
  EXPECT_EQ(sd.at("text_model.embeddings.token_embedding.weight").sizes(),
            torch::IntArrayRef({50, 16}));
}

TEST(ClipTextModelTest, LoadRoundTripsAndIgnoresPositionIds) {
  const nlohmann::json cj = TinyConfigJson();
  ClipTextModel m = RandomModel(ParseOrDie(cj), 1);
  auto dir = testing::TempDir("clip-load");
  std::ofstream(dir / "config.json") << cj.dump();
  auto sd = StateDictOf(*m);
  sd["text_model.embeddings.position_ids"] = torch::arange(12).view({1, 12});
  LDM_ASSERT_OK(WriteSafeTensors(dir / "model.safetensors", sd));
  LDM_ASSERT_OK_AND_ASSIGN(ClipTextModel loaded, LoadClipTextModel(dir, torch::kCPU));
  const torch::Tensor ids = Ids({{49, 5, 7, 49, 49}, {49, 3, 49, 1, 1}});
  LDM_ASSERT_OK_AND_ASSIGN(ClipTextOutput a, m->Forward(ids));
  LDM_ASSERT_OK_AND_ASSIGN(ClipTextOutput b, loaded->Forward(ids));
  EXPECT_TRUE(torch::equal(a.last_hidden_state, b.last_hidden_state));
  EXPECT_TRUE(torch::equal(a.pooler_output, b.pooler_output));
}

TEST(ClipTextModelTest, LoadErrorsNameTheProblem) {
  const nlohmann::json cj = TinyConfigJson();
  ClipTextModel m = RandomModel(ParseOrDie(cj), 2);
  auto dir = SaveModel(m, cj, "clip-load-errors");
  // Missing key.
  auto sd = StateDictOf(*m);
  sd.erase("text_model.final_layer_norm.bias");
  LDM_ASSERT_OK(WriteSafeTensors(dir / "model.safetensors", sd));
  auto r = LoadClipTextModel(dir, torch::kCPU);
  ASSERT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument) << r.status();
  EXPECT_NE(r.status().message().find("text_model.final_layer_norm.bias"), absl::string_view::npos)
      << r.status();
  // Unsupported activation.
  nlohmann::json bad = cj;
  bad["hidden_act"] = "relu";
  std::ofstream(dir / "config.json") << bad.dump();
  r = LoadClipTextModel(dir, torch::kCPU);
  EXPECT_EQ(r.status().code(), absl::StatusCode::kUnimplemented) << r.status();
  // Missing folder.
  r = LoadClipTextModel(dir / "nope", torch::kCPU);
  EXPECT_EQ(r.status().code(), absl::StatusCode::kNotFound) << r.status();
  // Integer dtype.
  r = LoadClipTextModel(dir, torch::kCPU, torch::kInt64);
  EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument) << r.status();
}

TEST(ClipTextModelTest, CausalMaskMakesEarlyPositionsIgnoreLaterTokens) {
  ClipTextModel m = RandomModel(ParseOrDie(TinyConfigJson()), 3);
  LDM_ASSERT_OK_AND_ASSIGN(ClipTextOutput a, m->Forward(Ids({{48, 5, 7, 9, 11, 13}})));
  LDM_ASSERT_OK_AND_ASSIGN(ClipTextOutput b, m->Forward(Ids({{48, 5, 7, 20, 30, 40}})));
  EXPECT_TRUE(testing::AllClose(a.last_hidden_state.slice(1, 0, 3),
                                b.last_hidden_state.slice(1, 0, 3), 1e-6));
  EXPECT_FALSE(
      testing::AllClose(a.last_hidden_state.slice(1, 3), b.last_hidden_state.slice(1, 3), 1e-3));
  EXPECT_EQ(a.hidden_states.size(), 3u);
}

TEST(ClipTextModelTest, PaddingMaskOnlyAffectsPositionsAfterPadding) {
  ClipTextModel m = RandomModel(ParseOrDie(TinyConfigJson()), 4);
  const torch::Tensor ids = Ids({{48, 5, 49, 49, 49}});
  LDM_ASSERT_OK_AND_ASSIGN(ClipTextOutput plain, m->Forward(ids));
  LDM_ASSERT_OK_AND_ASSIGN(ClipTextOutput ones, m->Forward(ids, torch::ones({1, 5}, torch::kLong)));
  EXPECT_TRUE(testing::AllClose(ones.last_hidden_state, plain.last_hidden_state, 1e-6));
  LDM_ASSERT_OK_AND_ASSIGN(ClipTextOutput masked, m->Forward(ids, Ids({{1, 1, 1, 0, 0}})));
  // Real tokens only attend to earlier real tokens: unchanged. Padding rows change.
  EXPECT_TRUE(testing::AllClose(masked.last_hidden_state.slice(1, 0, 3),
                                plain.last_hidden_state.slice(1, 0, 3), 1e-6));
  EXPECT_FALSE(testing::AllClose(masked.last_hidden_state.slice(1, 3),
                                 plain.last_hidden_state.slice(1, 3), 1e-4));
  EXPECT_TRUE(torch::isfinite(masked.last_hidden_state).all().item<bool>());
}

TEST(ClipTextModelTest, PoolerTakesArgmaxForLegacyEosElseFirstEos) {
  const torch::Tensor ids = Ids({{10, 40, 7, 30, 7}, {10, 7, 7, 7, 40}});
  {
    ClipTextModel m = RandomModel(ParseOrDie(TinyConfigJson()), 5);  // eos_token_id 2: argmax
    LDM_ASSERT_OK_AND_ASSIGN(ClipTextOutput o, m->Forward(ids));
    EXPECT_TRUE(torch::equal(o.pooler_output[0], o.last_hidden_state[0][1]));
    EXPECT_TRUE(torch::equal(o.pooler_output[1], o.last_hidden_state[1][4]));
  }
  {
    nlohmann::json j = TinyConfigJson();
    j["eos_token_id"] = 7;
    ClipTextModel m = RandomModel(ParseOrDie(j), 5);
    LDM_ASSERT_OK_AND_ASSIGN(ClipTextOutput o, m->Forward(ids));
    EXPECT_TRUE(torch::equal(o.pooler_output[0], o.last_hidden_state[0][2]));
    EXPECT_TRUE(torch::equal(o.pooler_output[1], o.last_hidden_state[1][1]));
  }
}

TEST(ClipTextModelTest, ClipSkipSelectsLayerAndValidates) {
  ClipTextModel m = RandomModel(ParseOrDie(TinyConfigJson()), 6);
  LDM_ASSERT_OK_AND_ASSIGN(ClipTextOutput o, m->Forward(Ids({{48, 5, 49}})));
  LDM_ASSERT_OK_AND_ASSIGN(torch::Tensor s2, m->ClipSkip(o, 2));
  // clip_skip 2 of a 2-layer model is the final LayerNorm of the embeddings.
  EXPECT_EQ(s2.sizes(), o.last_hidden_state.sizes());
  EXPECT_FALSE(torch::equal(s2, o.last_hidden_state));
  EXPECT_EQ(m->ClipSkip(o, 3).status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(m->ClipSkip(o, -1).status().code(), absl::StatusCode::kInvalidArgument);
  ClipTextOutput truncated = o;
  truncated.hidden_states.pop_back();
  EXPECT_EQ(m->ClipSkip(truncated, 1).status().code(), absl::StatusCode::kInvalidArgument);
}

TEST(ClipTextModelTest, ForwardRejectsBadInputs) {
  ClipTextModel m = RandomModel(ParseOrDie(TinyConfigJson()), 7);
  EXPECT_EQ(m->Forward(torch::tensor({1, 2}, torch::kLong)).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(m->Forward(Ids({{1, 50}})).status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(m->Forward(Ids({{-1, 2}})).status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(m->Forward(torch::zeros({1, 13}, torch::kLong)).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(m->Forward(torch::zeros({1, 3}, torch::kFloat)).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(m->Forward(Ids({{1, 2}}), torch::ones({1, 3})).status().code(),
            absl::StatusCode::kInvalidArgument);
  // int32 ids are accepted.
  LDM_EXPECT_OK(m->Forward(Ids({{1, 2}}).to(torch::kInt)));
}

TEST(ClipTextModelTest, RunsInOtherDtypes) {
  const nlohmann::json cj = TinyConfigJson();
  ClipTextModel m = RandomModel(ParseOrDie(cj), 8);
  auto dir = SaveModel(m, cj, "clip-dtypes");
  const torch::Tensor ids = Ids({{48, 5, 7, 49, 49}, {48, 49, 49, 49, 49}});
  const torch::Tensor mask = Ids({{1, 1, 1, 1, 0}, {1, 1, 0, 0, 0}});
  LDM_ASSERT_OK_AND_ASSIGN(ClipTextOutput ref, m->Forward(ids, mask));
  for (torch::ScalarType dtype : {torch::kFloat64, torch::kBFloat16}) {
    SCOPED_TRACE(c10::toString(dtype));
    LDM_ASSERT_OK_AND_ASSIGN(ClipTextModel other, LoadClipTextModel(dir, torch::kCPU, dtype));
    LDM_ASSERT_OK_AND_ASSIGN(ClipTextOutput o, other->Forward(ids, mask));
    EXPECT_EQ(o.last_hidden_state.scalar_type(), dtype);
    const double tol = dtype == torch::kBFloat16 ? 0.25 : 1e-5;
    EXPECT_TRUE(testing::AllClose(o.last_hidden_state, ref.last_hidden_state, tol));
    EXPECT_TRUE(testing::AllClose(o.pooler_output, ref.pooler_output, tol));
  }
}

}  // namespace
}  // namespace ldm
