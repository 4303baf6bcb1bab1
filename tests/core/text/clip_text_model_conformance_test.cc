// Conformance of ClipTextModel with transformers' CLIPTextModel: for every model variant whose
// references/<variant>/index.json lists a text_encoder reference, every tensor of that reference
// (float32 CPU, atol 1e-5 as the fixtures README suggests).
#include <gtest/gtest.h>

#include <iostream>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "core/io/safetensors_file.h"
#include "core/text/clip_text_model.h"
#include "tests/testing/fixtures.h"
#include "tests/testing/tensor_matchers.h"

namespace ldm {
namespace clip_text_model_conformance_test {

constexpr double kAtol = 1e-5;

void CheckVariant(const std::filesystem::path& root, const std::string& variant,
                  const std::string& reference_file) {
  LDM_ASSERT_OK_AND_ASSIGN(auto ref,
                           SafeTensorsFile::Open(root / "references" / variant / reference_file));
  LDM_ASSERT_OK_AND_ASSIGN(
      ClipTextModel model,
      LoadClipTextModel(root / "models" / variant / "text_encoder", torch::kCPU, torch::kFloat32));
  auto get = [&](const std::string& name) {
    auto t = ref->Get(name);
    EXPECT_TRUE(t.ok()) << t.status();
    return t.ok() ? *t : torch::Tensor();
  };
  const torch::Tensor ids = get("input_ids");
  const torch::Tensor mask = get("attention_mask");
  ASSERT_TRUE(ids.defined() && mask.defined());

  // SD-style call: no attention mask.
  LDM_ASSERT_OK_AND_ASSIGN(ClipTextOutput out, model->Forward(ids));
  EXPECT_TRUE(testing::AllClose(out.last_hidden_state, get("last_hidden_state"), kAtol))
      << "last_hidden_state";
  EXPECT_TRUE(testing::AllClose(out.pooler_output, get("pooler_output"), kAtol)) << "pooler_output";

  std::cout << "[ " << variant << " ] max|diff| last_hidden_state "
            << testing::MaxAbsDiff(out.last_hidden_state, get("last_hidden_state"))
            << ", pooler_output " << testing::MaxAbsDiff(out.pooler_output, get("pooler_output"))
            << "\n";

  // Every hidden_states.<i> in the file, and exactly as many as the model has.
  size_t hidden_checked = 0;
  for (const std::string& name : ref->Names()) {
    int64_t i = -1;
    if (!absl::StartsWith(name, "hidden_states.") ||
        !absl::SimpleAtoi(name.substr(sizeof("hidden_states.") - 1), &i)) {
      continue;
    }
    ASSERT_LT(i, static_cast<int64_t>(out.hidden_states.size())) << name;
    EXPECT_TRUE(testing::AllClose(out.hidden_states[i], get(name), kAtol)) << name;
    ++hidden_checked;
  }
  EXPECT_EQ(hidden_checked, out.hidden_states.size());
  EXPECT_EQ(out.hidden_states.size(), static_cast<size_t>(model->config().num_hidden_layers + 1));

  // Penultimate layer: raw, and with the final LayerNorm (diffusers' clip_skip=1).
  const size_t n = out.hidden_states.size();
  EXPECT_TRUE(
      testing::AllClose(out.hidden_states[n - 2], get("hidden_states_penultimate_raw"), kAtol))
      << "hidden_states_penultimate_raw";
  LDM_ASSERT_OK_AND_ASSIGN(torch::Tensor skip1, model->ClipSkip(out, 1));
  EXPECT_TRUE(testing::AllClose(skip1, get("hidden_states_penultimate_final_layer_norm"), kAtol))
      << "hidden_states_penultimate_final_layer_norm";
  LDM_ASSERT_OK_AND_ASSIGN(torch::Tensor skip0, model->ClipSkip(out, 0));
  EXPECT_TRUE(torch::equal(skip0, out.last_hidden_state));

  // With the padding mask in addition to the causal mask.
  LDM_ASSERT_OK_AND_ASSIGN(ClipTextOutput masked, model->Forward(ids, mask));
  EXPECT_TRUE(testing::AllClose(masked.last_hidden_state,
                                get("last_hidden_state_with_attention_mask"), kAtol))
      << "last_hidden_state_with_attention_mask";
}

TEST(ClipTextModelConformanceTest, EveryVariantMatchesItsReference) {
  LDM_ASSERT_OK_AND_ASSIGN(std::filesystem::path root, testing::FixturesDir());
  LDM_ASSERT_OK_AND_ASSIGN(std::vector<std::string> variants, testing::ModelVariants());
  size_t checked = 0;
  for (const std::string& variant : variants) {
    SCOPED_TRACE(variant);
    LDM_ASSERT_OK_AND_ASSIGN(
        nlohmann::json index,
        testing::ReadFixtureJson(std::filesystem::path("references") / variant / "index.json"));
    ASSERT_TRUE(index.contains("reference_files")) << variant << "/index.json";
    const nlohmann::json& files = index["reference_files"];
    if (!files.contains("text_encoder")) continue;
    const std::string file = files["text_encoder"].value("file", "text_encoder.safetensors");
    CheckVariant(root, variant, file);
    ++checked;
  }
  EXPECT_GT(checked, 0u) << "no variant has a text_encoder reference";
}

}  // namespace
}  // namespace ldm
