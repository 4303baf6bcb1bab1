// Conformance of AutoencoderKL with the diffusers references (fixtures README section 3,
// vae.safetensors): decode, encode (moments, mean/logvar/std, seeded sample) and intermediates
// (batch element 0). Variants and intermediate names are discovered from the fixtures folder.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <filesystem>
#include <map>
#include <string>

#include "absl/strings/match.h"
#include "core/common/status_macros.h"
#include "core/io/safetensors_file.h"
#include "core/nn/autoencoder_kl.h"
#include "tests/testing/fixtures.h"
#include "tests/testing/reference_variant_suite.h"
#include "tests/testing/tensor_matchers.h"

namespace ldm {
namespace autoencoder_kl_conformance_test {

constexpr double kAtol = 5e-5;
constexpr double kRtol = 1e-4;

struct VariantData {
  std::string name;
  AutoencoderKL vae{nullptr};
  std::shared_ptr<const SafeTensorsFile> ref;
};

absl::StatusOr<std::vector<VariantData>> LoadVariants() {
  LDM_ASSIGN_OR_RETURN(std::vector<std::string> variants, testing::ModelVariants());
  LDM_ASSIGN_OR_RETURN(std::filesystem::path root, testing::FixturesDir());
  std::vector<VariantData> out;
  for (const auto& v : variants) {
    LDM_ASSIGN_OR_RETURN(
        nlohmann::json index,
        testing::ReadFixtureJson(std::filesystem::path("references") / v / "index.json"));
    if (!index.contains("reference_files") || !index["reference_files"].contains("vae") ||
        !index["reference_files"]["vae"].contains("file")) {
      return absl::InvalidArgumentError(v + ": index.json has no reference_files.vae.file");
    }
    VariantData d;
    d.name = v;
    LDM_ASSIGN_OR_RETURN(
        d.vae, LoadAutoencoderKL(root / "models" / v / "vae", torch::kCPU, torch::kFloat32));
    LDM_ASSIGN_OR_RETURN(
        d.ref, SafeTensorsFile::Open(root / "references" / v /
                                     index["reference_files"]["vae"]["file"].get<std::string>()));
    out.push_back(std::move(d));
  }
  return out;
}

class AutoencoderKLConformanceTest : public testing::ReferenceVariantSuite<VariantData> {
 protected:
  static void SetUpTestSuite() { Load(LoadVariants()); }

  // Compares every "<prefix>X" tensor of the reference with our intermediate X, batch element 0.
  static void CheckIntermediates(const VariantData& d, const std::string& prefix,
                                 const std::map<std::string, torch::Tensor>& inter) {
    int checked = 0;
    for (const std::string& name : d.ref->Names()) {
      if (!absl::StartsWith(name, prefix)) continue;
      const std::string key = name.substr(prefix.size());
      SCOPED_TRACE(name);
      ASSERT_EQ(inter.count(key), 1u) << "intermediate not recorded: " << key;
      torch::Tensor expected = Get(d, name);
      EXPECT_TRUE(
          testing::AllClose(inter.at(key).narrow(0, 0, expected.size(0)), expected, kAtol, kRtol));
      ++checked;
    }
    EXPECT_GT(checked, 0) << "reference has no " << prefix << " tensors";
  }
};

TEST_F(AutoencoderKLConformanceTest, DecodeMatchesReferenceWithIntermediates) {
  for (auto& d : variants()) {
    SCOPED_TRACE(d.name);
    torch::NoGradGuard no_grad;
    // decode.input is latents / scaling_factor: the config's factor must reproduce it.
    EXPECT_TRUE(testing::AllClose(Get(d, "latents") / d.vae->config().scaling_factor,
                                  Get(d, "decode.input"), 1e-6, 1e-6));
    std::map<std::string, torch::Tensor> inter;
    LDM_ASSERT_OK_AND_ASSIGN(torch::Tensor image, d.vae->RunDecode(Get(d, "decode.input"), &inter));
    EXPECT_TRUE(testing::AllClose(image, Get(d, "decode.out"), kAtol, kRtol));
    CheckIntermediates(d, "decode.inter.", inter);
  }
}

TEST_F(AutoencoderKLConformanceTest, EncodeMatchesReferenceWithIntermediates) {
  for (auto& d : variants()) {
    SCOPED_TRACE(d.name);
    torch::NoGradGuard no_grad;
    std::map<std::string, torch::Tensor> inter;
    LDM_ASSERT_OK_AND_ASSIGN(DiagonalGaussian dist, d.vae->RunEncode(Get(d, "image"), &inter));
    EXPECT_TRUE(testing::AllClose(inter.at("quant_conv"), Get(d, "encode.moments"), kAtol, kRtol));
    EXPECT_TRUE(testing::AllClose(dist.mean, Get(d, "encode.mean"), kAtol, kRtol));
    EXPECT_TRUE(testing::AllClose(dist.logvar, Get(d, "encode.logvar"), kAtol, kRtol));
    EXPECT_TRUE(testing::AllClose(dist.std, Get(d, "encode.std"), kAtol, kRtol));
    EXPECT_TRUE(testing::AllClose(dist.Sample(Get(d, "encode.sample_noise")),
                                  Get(d, "encode.sample_seeded"), kAtol, kRtol));
    EXPECT_TRUE(testing::AllClose(dist.mean * d.vae->config().scaling_factor,
                                  Get(d, "encode.mean_scaled"), kAtol, kRtol));
    CheckIntermediates(d, "encode.inter.", inter);
  }
}

}  // namespace autoencoder_kl_conformance_test
}  // namespace ldm
