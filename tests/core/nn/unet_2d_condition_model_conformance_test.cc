// Conformance of UNet2DConditionModel with the diffusers references in the fixtures folder
// (README sections 2 and 3). Every variant under models/ with references is checked; nothing is
// hard-coded per variant: inputs, optional class labels and intermediate names come from the
// reference file.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <filesystem>
#include <map>
#include <string>

#include "absl/strings/match.h"
#include "core/common/status_macros.h"
#include "core/io/safetensors_file.h"
#include "core/nn/unet_2d_condition_model.h"
#include "tests/testing/fixtures.h"
#include "tests/testing/reference_variant_suite.h"
#include "tests/testing/tensor_matchers.h"

namespace ldm {
namespace unet_2d_condition_model_conformance_test {

constexpr double kAtol = 5e-5;
constexpr double kRtol = 1e-4;
constexpr char kInterPrefix[] = "a.inter.";

struct VariantData {
  std::string name;
  UNet2DConditionModel unet{nullptr};
  std::shared_ptr<const SafeTensorsFile> ref;
};

// Loads every variant's UNet and its reference file (named in references/<v>/index.json).
absl::StatusOr<std::vector<VariantData>> LoadVariants() {
  LDM_ASSIGN_OR_RETURN(std::vector<std::string> variants, testing::ModelVariants());
  LDM_ASSIGN_OR_RETURN(std::filesystem::path root, testing::FixturesDir());
  std::vector<VariantData> out;
  for (const auto& v : variants) {
    LDM_ASSIGN_OR_RETURN(
        nlohmann::json index,
        testing::ReadFixtureJson(std::filesystem::path("references") / v / "index.json"));
    const nlohmann::json* entry = nullptr;
    if (index.contains("reference_files") && index["reference_files"].contains("unet")) {
      entry = &index["reference_files"]["unet"];
    }
    if (entry == nullptr || !entry->contains("file")) {
      return absl::InvalidArgumentError(v + ": index.json has no reference_files.unet.file");
    }
    VariantData d;
    d.name = v;
    LDM_ASSIGN_OR_RETURN(d.unet,
                         LoadUNet(root / "models" / v / "unet", torch::kCPU, torch::kFloat32));
    LDM_ASSIGN_OR_RETURN(d.ref, SafeTensorsFile::Open(root / "references" / v /
                                                      (*entry)["file"].get<std::string>()));
    out.push_back(std::move(d));
  }
  return out;
}

class UNetConformanceTest : public testing::ReferenceVariantSuite<VariantData> {
 protected:
  static void SetUpTestSuite() {
    torch::manual_seed(0);
    Load(LoadVariants());
  }
  // class_labels for class-conditional variants (present in the reference file), else undefined.
  static torch::Tensor ClassLabels(const VariantData& d) {
    return d.ref->Contains("class_labels") ? Get(d, "class_labels") : torch::Tensor();
  }
};

TEST_F(UNetConformanceTest, CaseAPerSampleIntegerTimestepsWithIntermediates) {
  for (auto& d : variants()) {
    SCOPED_TRACE(d.name);
    torch::NoGradGuard no_grad;
    std::map<std::string, torch::Tensor> inter;
    LDM_ASSERT_OK_AND_ASSIGN(torch::Tensor out,
                             d.unet->Run(Get(d, "sample"), Get(d, "a.timesteps"),
                                         Get(d, "encoder_hidden_states"), ClassLabels(d), &inter));
    EXPECT_TRUE(testing::AllClose(out, Get(d, "a.out"), kAtol, kRtol));
    int checked = 0;
    for (const std::string& name : d.ref->Names()) {
      if (!absl::StartsWith(name, kInterPrefix)) continue;
      const std::string key = name.substr(sizeof(kInterPrefix) - 1);
      SCOPED_TRACE(key);
      ASSERT_TRUE(inter.count(key) == 1) << "intermediate not recorded: " << key;
      EXPECT_TRUE(testing::AllClose(inter.at(key), Get(d, name), kAtol, kRtol));
      ++checked;
    }
    EXPECT_GT(checked, 0) << "reference has no intermediates";
  }
}

TEST_F(UNetConformanceTest, CaseBFractionalFloatTimesteps) {
  for (auto& d : variants()) {
    SCOPED_TRACE(d.name);
    torch::NoGradGuard no_grad;
    torch::Tensor t = Get(d, "b.timesteps");
    ASSERT_EQ(t.scalar_type(), torch::kFloat32);
    LDM_ASSERT_OK_AND_ASSIGN(
        torch::Tensor out,
        d.unet->Run(Get(d, "sample"), t, Get(d, "encoder_hidden_states"), ClassLabels(d)));
    EXPECT_TRUE(testing::AllClose(out, Get(d, "b.out"), kAtol, kRtol));
  }
}

TEST_F(UNetConformanceTest, CaseCZeroDimTimestepBroadcastOverBatch) {
  for (auto& d : variants()) {
    SCOPED_TRACE(d.name);
    torch::NoGradGuard no_grad;
    torch::Tensor t = Get(d, "c.timesteps");
    ASSERT_EQ(t.dim(), 0);
    torch::Tensor expected = Get(d, "c.out");
    const int64_t b = expected.size(0);
    torch::Tensor labels = ClassLabels(d);
    if (labels.defined()) labels = labels.narrow(0, 0, b);
    LDM_ASSERT_OK_AND_ASSIGN(torch::Tensor out,
                             d.unet->Run(Get(d, "sample").narrow(0, 0, b), t,
                                         Get(d, "encoder_hidden_states").narrow(0, 0, b), labels));
    EXPECT_TRUE(testing::AllClose(out, expected, kAtol, kRtol));
  }
}

// The extra input channels of class/map-conditioned variants are the tail of `sample`.
TEST_F(UNetConformanceTest, SampleHoldsLatentsFollowedByConditioningChannels) {
  for (auto& d : variants()) {
    SCOPED_TRACE(d.name);
    torch::Tensor sample = Get(d, "sample");
    torch::Tensor latents = Get(d, "latents");
    EXPECT_EQ(sample.size(1), d.unet->config().in_channels);
    EXPECT_TRUE(torch::equal(sample.narrow(1, 0, latents.size(1)), latents));
    if (d.ref->Contains("onehot")) {
      EXPECT_TRUE(torch::equal(sample.narrow(1, latents.size(1), sample.size(1) - latents.size(1)),
                               Get(d, "onehot")));
    }
  }
}

}  // namespace unet_2d_condition_model_conformance_test
}  // namespace ldm
