#include "core/io/model_config.h"

#include <gtest/gtest.h>

#include "tests/testing/tensor_matchers.h"

namespace ldm {
namespace model_config_test {

ModelConfig Make(const char* text) {
  return ModelConfig(nlohmann::json::parse(text), "unet/config.json");
}

TEST(ModelConfigTest, TypedGettersWithDefaults) {
  auto c = Make(R"({"a": 3, "b": 1.5, "c": true, "d": "x", "e": [1, 2], "n": null})");
  EXPECT_EQ(*c.GetInt("a"), 3);
  EXPECT_EQ(*c.GetDouble("b"), 1.5);
  EXPECT_EQ(*c.GetDouble("a"), 3.0);
  EXPECT_EQ(*c.GetBool("c", false), true);
  EXPECT_EQ(*c.GetString("d"), "x");
  EXPECT_EQ(*c.GetInt("n", 7), 7);
  EXPECT_EQ(*c.GetInt("missing", 9), 9);
  EXPECT_EQ(*c.GetIntList("e"), (std::vector<int64_t>{1, 2}));
  EXPECT_FALSE(c.Has("n"));
}

TEST(ModelConfigTest, WrongTypesNameTheFileAndField) {
  auto c = Make(R"({"a": "three"})");
  auto r = c.GetInt("a");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("unet/config.json"), std::string::npos);
  EXPECT_NE(r.status().message().find("'a'"), std::string::npos);
  EXPECT_FALSE(c.GetInt("missing").ok());
}

TEST(ModelConfigTest, IntOrListBroadcastsOrChecksLength) {
  auto c = Make(R"({"i": 8, "l": [2, 4], "bad": [1, 2, 3]})");
  EXPECT_EQ(*c.GetIntOrList("i", 3, 0), (std::vector<int64_t>{8, 8, 8}));
  EXPECT_EQ(*c.GetIntOrList("l", 2, 0), (std::vector<int64_t>{2, 4}));
  EXPECT_FALSE(c.GetIntOrList("bad", 2, 0).ok());
  EXPECT_EQ(*c.GetIntOrList("absent", 2, 5), (std::vector<int64_t>{5, 5}));
}

TEST(ModelConfigTest, RequireOneOfRejectsUnimplementedSettings) {
  auto c = Make(R"({"class_embed_type": "timestep", "x": null, "y": 1.0})");
  auto s = c.RequireOneOf("class_embed_type", {});
  EXPECT_EQ(s.code(), absl::StatusCode::kUnimplemented);
  EXPECT_NE(s.message().find("class_embed_type"), std::string::npos);
  EXPECT_NE(s.message().find("timestep"), std::string::npos);
  LDM_EXPECT_OK(c.RequireOneOf("x", {}));
  LDM_EXPECT_OK(c.RequireOneOf("absent", {}));
  LDM_EXPECT_OK(c.RequireOneOf("y", {1}));
}

}  // namespace
}  // namespace ldm
