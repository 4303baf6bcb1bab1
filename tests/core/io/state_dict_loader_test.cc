#include "core/io/state_dict_loader.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

#include "core/io/safetensors_writer.h"
#include "tests/testing/fixtures.h"
#include "tests/testing/tensor_matchers.h"

namespace ldm {
namespace state_dict_loader_test {

struct TinyImpl : torch::nn::Module {
  TinyImpl() {
    proj = register_module("proj", torch::nn::Linear(3, 2));
    register_buffer("scale", torch::ones({2}));
  }
  torch::nn::Linear proj{nullptr};
};
TORCH_MODULE(Tiny);

TEST(StateDictLoaderTest, RoundTripsThroughSafetensorsWithPrefix) {
  Tiny a, b;
  auto dir = testing::TempDir("sd-roundtrip");
  LDM_ASSERT_OK(WriteSafeTensors(dir / "w.safetensors", StateDictOf(*a, "model.")));
  LDM_ASSERT_OK_AND_ASSIGN(auto file, SafeTensorsFile::Open(dir / "w.safetensors"));
  LDM_ASSERT_OK(LoadStateDict(*b, *file, {.prefix = "model."}));
  EXPECT_TRUE(torch::equal(a->proj->weight, b->proj->weight));
  EXPECT_TRUE(torch::equal(a->proj->bias, b->proj->bias));
}

TEST(StateDictLoaderTest, ErrorListsEveryMissingUnexpectedAndMismatchedKey) {
  Tiny m;
  auto dir = testing::TempDir("sd-errors");
  LDM_ASSERT_OK(WriteSafeTensors(dir / "w.safetensors",
                                 {{"proj.weight", torch::zeros({2, 4})},
                                  {"extra.weight", torch::zeros({1})},
                                  {"ignored.position_ids", torch::zeros({1})}}));
  LDM_ASSERT_OK_AND_ASSIGN(auto file, SafeTensorsFile::Open(dir / "w.safetensors"));
  const torch::Tensor before = m->proj->weight.clone();
  auto s = LoadStateDict(*m, *file, {.ignore_unexpected = {"*.position_ids"}});
  ASSERT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  const std::string msg(s.message());
  EXPECT_NE(msg.find("missing key(s): proj.bias, scale"), std::string::npos) << msg;
  EXPECT_NE(msg.find("unexpected key(s): extra.weight"), std::string::npos) << msg;
  EXPECT_EQ(msg.find("position_ids"), std::string::npos) << msg;
  EXPECT_NE(msg.find("proj.weight (file [2, 4], model [2, 3])"), std::string::npos) << msg;
  EXPECT_TRUE(torch::equal(before, m->proj->weight));
}

TEST(StateDictLoaderTest, ConvertsDtypeWhileCopying) {
  Tiny src, dst;
  auto dir = testing::TempDir("sd-dtype");
  auto sd = StateDictOf(*src);
  for (auto& [k, v] : sd) v = v.to(torch::kFloat16);
  LDM_ASSERT_OK(WriteSafeTensors(dir / "w.safetensors", sd));
  LDM_ASSERT_OK_AND_ASSIGN(auto file, SafeTensorsFile::Open(dir / "w.safetensors"));
  LDM_ASSERT_OK(LoadStateDict(*dst, *file));
  EXPECT_EQ(dst->proj->weight.scalar_type(), torch::kFloat32);
  EXPECT_TRUE(testing::AllClose(dst->proj->weight, src->proj->weight, 1e-3));
}

}  // namespace
}  // namespace ldm
