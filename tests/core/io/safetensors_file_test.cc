#include "core/io/safetensors_file.h"

#include <fstream>

#include <gtest/gtest.h>

#include "core/io/safetensors_writer.h"
#include "tests/testing/fixtures.h"
#include "tests/testing/tensor_matchers.h"

namespace ldm {
namespace safetensors_file_test {

std::string ReadAll(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

void WriteAll(const std::filesystem::path& p, const std::string& bytes) {
  std::ofstream out(p, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

std::string WithHeader(const std::string& header, const std::string& data = "") {
  std::string out(8, '\0');
  uint64_t n = header.size();
  for (int i = 0; i < 8; ++i) out[i] = static_cast<char>((n >> (8 * i)) & 0xff);
  return out + header + data;
}

TEST(SafeTensorsFileTest, RoundTripsEveryDtypeBitExactly) {
  auto dir = testing::TempDir("st-roundtrip");
  std::map<std::string, torch::Tensor> tensors = {
      {"f32", torch::randn({3, 5})},
      {"f16", torch::randn({7}).to(torch::kFloat16)},
      {"bf16", torch::randn({2, 2, 3}).to(torch::kBFloat16)},
      {"f64", torch::randn({4}, torch::kFloat64)},
      {"i64", torch::arange(10, torch::kInt64)},
      {"i32", torch::arange(3, torch::kInt32)},
      {"u8", torch::arange(5, torch::kUInt8)},
      {"scalar", torch::tensor(3.5f)},
      {"empty", torch::zeros({0, 4})},
      {"noncontig", torch::randn({4, 6}).t()},
  };
  LDM_ASSERT_OK(WriteSafeTensors(dir / "a.safetensors", tensors, {{"format", "pt"}}));
  LDM_ASSERT_OK_AND_ASSIGN(auto file, SafeTensorsFile::Open(dir / "a.safetensors"));
  EXPECT_EQ(file->metadata().at("format"), "pt");
  ASSERT_EQ(file->tensors().size(), tensors.size());
  for (const auto& [name, t] : tensors) {
    LDM_ASSERT_OK_AND_ASSIGN(torch::Tensor got, file->Get(name));
    EXPECT_EQ(got.scalar_type(), t.scalar_type()) << name;
    EXPECT_TRUE(torch::equal(got, t.contiguous())) << name;
  }
  // Every tensor is aligned to its element size and the header keeps the data 8-aligned.
  const std::string bytes = ReadAll(dir / "a.safetensors");
  uint64_t header_len = 0;
  for (int i = 7; i >= 0; --i) header_len = (header_len << 8) | static_cast<uint8_t>(bytes[i]);
  EXPECT_EQ((8 + header_len) % 8, 0u);
  for (const auto& [name, info] : file->tensors()) {
    LDM_ASSERT_OK_AND_ASSIGN(auto type, SafeTensorsFile::ScalarTypeFor(info.dtype));
    EXPECT_EQ(info.begin % torch::elementSize(type), 0u) << name;
  }
}

TEST(SafeTensorsFileTest, ReadsTheFixtureModelsWithTheirMetadata) {
  LDM_ASSERT_OK_AND_ASSIGN(auto root, testing::FixturesDir());
  LDM_ASSERT_OK_AND_ASSIGN(
      auto file, SafeTensorsFile::Open(root / "models/sd1-tiny/unet/diffusion_pytorch_model.safetensors"));
  EXPECT_EQ(file->metadata().at("format"), "pt");
  LDM_ASSERT_OK_AND_ASSIGN(torch::Tensor w, file->Get("conv_in.weight"));
  EXPECT_EQ(w.sizes(), torch::IntArrayRef({32, 4, 3, 3}));
  EXPECT_EQ(w.scalar_type(), torch::kFloat32);
}

TEST(SafeTensorsFileTest, MissingFileIsNotFound) {
  auto r = SafeTensorsFile::Open("/nonexistent/x.safetensors");
  EXPECT_EQ(r.status().code(), absl::StatusCode::kNotFound);
}

TEST(SafeTensorsFileTest, UnknownTensorNameIsNotFound) {
  auto dir = testing::TempDir("st-unknown");
  LDM_ASSERT_OK(WriteSafeTensors(dir / "a.safetensors", {{"x", torch::ones({2})}}));
  LDM_ASSERT_OK_AND_ASSIGN(auto file, SafeTensorsFile::Open(dir / "a.safetensors"));
  auto r = file->Get("y");
  EXPECT_EQ(r.status().code(), absl::StatusCode::kNotFound);
  EXPECT_NE(r.status().message().find("'y'"), std::string::npos);
}

struct MalformedCase {
  std::string name;
  std::string bytes;
  std::string expected_substring;
};

class MalformedSafeTensorsTest : public ::testing::TestWithParam<MalformedCase> {};

TEST_P(MalformedSafeTensorsTest, GivesInvalidArgumentNamingTheProblem) {
  auto dir = testing::TempDir("st-malformed");
  auto path = dir / (GetParam().name + ".safetensors");
  WriteAll(path, GetParam().bytes);
  auto r = SafeTensorsFile::Open(path);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument) << r.status();
  EXPECT_NE(r.status().message().find(GetParam().expected_substring), std::string::npos)
      << r.status();
}

INSTANTIATE_TEST_SUITE_P(
    Cases, MalformedSafeTensorsTest,
    ::testing::Values(
        MalformedCase{"tiny", "abc", "truncated"},
        MalformedCase{"header_too_long", WithHeader("{}").substr(0, 8) + "x", "exceeds"},
        MalformedCase{"not_json", WithHeader("{not json"), "not a valid JSON"},
        MalformedCase{"bad_dtype",
                      WithHeader(R"({"t":{"dtype":"Q7","shape":[1],"data_offsets":[0,1]}})", "x"),
                      "unsupported dtype"},
        MalformedCase{"truncated_data",
                      WithHeader(R"({"t":{"dtype":"F32","shape":[4],"data_offsets":[0,16]}})",
                                 std::string(8, '\0')),
                      "truncated"},
        MalformedCase{"size_mismatch",
                      WithHeader(R"({"t":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}})",
                                 std::string(8, '\0')),
                      "does not match"},
        MalformedCase{"negative_dim",
                      WithHeader(R"({"t":{"dtype":"F32","shape":[-1],"data_offsets":[0,0]}})"),
                      "negative"},
        MalformedCase{"missing_fields", WithHeader(R"({"t":{"dtype":"F32"}})"), "needs"},
        MalformedCase{"overlap",
                      WithHeader(R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},)"
                                 R"("b":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}})",
                                 std::string(12, '\0')),
                      "overlap"}),
    [](const auto& info) { return info.param.name; });

}  // namespace
}  // namespace ldm

namespace ldm {
namespace safetensors_file_release_test {

TEST(SafeTensorsFileTest, ReleasedPagesReadBackTheSameData) {
  auto dir = testing::TempDir("st-release");
  torch::Tensor big = torch::randn({1024, 1024});  // 4 MiB: spans many pages
  LDM_ASSERT_OK(WriteSafeTensors(dir / "a.safetensors", {{"big", big}, {"small", torch::ones({3})}}));
  LDM_ASSERT_OK_AND_ASSIGN(auto file, SafeTensorsFile::Open(dir / "a.safetensors"));
  LDM_ASSERT_OK_AND_ASSIGN(torch::Tensor alias, file->Get("big"));
  EXPECT_TRUE(torch::equal(alias, big));
  file->ReleasePages("big");
  file->ReleasePages("unknown");
  EXPECT_TRUE(torch::equal(alias, big));
  LDM_ASSERT_OK_AND_ASSIGN(torch::Tensor again, file->Get("big"));
  EXPECT_TRUE(torch::equal(again, big));
  LDM_ASSERT_OK_AND_ASSIGN(torch::Tensor small, file->Get("small"));
  EXPECT_TRUE(torch::equal(small, torch::ones({3})));
}

}  // namespace safetensors_file_release_test
}  // namespace ldm
