#include "core/io/json_reader.h"

#include <cmath>

#include <gtest/gtest.h>

#include "tests/testing/fixtures.h"
#include "tests/testing/tensor_matchers.h"

namespace ldm {
namespace json_reader_test {

TEST(JsonReaderTest, AcceptsPythonNonFiniteTokens) {
  LDM_ASSERT_OK_AND_ASSIGN(auto j, ParseJsonLenient(
      R"({"a": -Infinity, "b": Infinity, "c": NaN, "d": [1, -Infinity], "e": 2.5})", "t"));
  EXPECT_TRUE(std::isinf(j["a"].get<double>()) && j["a"].get<double>() < 0);
  EXPECT_TRUE(std::isinf(j["b"].get<double>()) && j["b"].get<double>() > 0);
  EXPECT_TRUE(std::isnan(j["c"].get<double>()));
  EXPECT_TRUE(std::isinf(j["d"][1].get<double>()));
  EXPECT_EQ(j["e"].get<double>(), 2.5);
}

TEST(JsonReaderTest, LeavesTokensInsideStringsAlone) {
  LDM_ASSERT_OK_AND_ASSIGN(auto j, ParseJsonLenient(R"({"s": "NaN and -Infinity \" Infinity"})", "t"));
  EXPECT_EQ(j["s"].get<std::string>(), "NaN and -Infinity \" Infinity");
}

TEST(JsonReaderTest, MalformedJsonNamesTheSource) {
  auto r = ParseJsonLenient("{\"a\": 1,", "unet/config.json");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(r.status().message().find("unet/config.json"), std::string::npos);
}

TEST(JsonReaderTest, MissingFileIsNotFound) {
  EXPECT_EQ(ReadJsonFile("/nonexistent/config.json").status().code(), absl::StatusCode::kNotFound);
}

TEST(JsonReaderTest, ReadsTheSchedulerIndexWithMinusInfinity) {
  LDM_ASSERT_OK_AND_ASSIGN(auto j, testing::ReadFixtureJson("references/schedulers/index.json"));
  EXPECT_TRUE(j.contains("entries"));
}

}  // namespace
}  // namespace ldm
