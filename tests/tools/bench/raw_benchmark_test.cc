#include "tools/bench/raw_benchmark.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "tests/testing/fixtures.h"
#include "tools/bench/random_model_writer.h"

namespace ldm::bench {
namespace raw_benchmark_test {

std::string TinyModel() {
  static const std::string path = [] {
    MakeModelOptions o;
    o.arch = "tiny";
    o.out = testing::TempDir("raw-bench") / "model";
    const absl::Status s = RandomModelWriter::Write(o);
    EXPECT_TRUE(s.ok()) << s;
    return o.out.string();
  }();
  return path;
}

TEST(RawBenchmarkTest, ReportsStepRatesGenerationsAndMemory) {
  RawOptions o;
  o.model = TinyModel();
  o.threads = 1;
  o.rows = {1, 2, 4};
  o.step_repeats = 2;
  o.steps = 3;
  o.guidance = 5;
  o.waves = 1;
  o.single_runs = 2;
  absl::StatusOr<nlohmann::json> r = RawBenchmark::Run(o);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ((*r)["mode"], "raw");
  EXPECT_EQ((*r)["size"], 64);
  EXPECT_EQ((*r)["torch_threads"], 1);
  EXPECT_EQ((*r)["rows_per_image"], 2);
  ASSERT_EQ((*r)["unet_steps"].size(), 3u);
  for (const auto& p : (*r)["unet_steps"]) {
    EXPECT_GT(p["steps_per_second"].get<double>(), 0);
    EXPECT_NEAR(p["rows_per_second"].get<double>(),
                p["rows"].get<int>() * p["steps_per_second"].get<double>(), 1e-6);
  }
  const int best = (*r)["best_rows"].get<int>();
  EXPECT_TRUE(best == 1 || best == 2 || best == 4);
  const auto& g = (*r)["generation"];
  EXPECT_EQ(g["batch_images"].get<int>(), std::max(1, best / 2));
  EXPECT_EQ(g["model_calls"], 3);
  EXPECT_GT(g["images_per_second"].get<double>(), 0);
  const auto& s = (*r)["single"];
  EXPECT_EQ(s["runs"], 2);
  EXPECT_EQ(s["seconds"]["count"], 2);
  EXPECT_GT(s["step_seconds"]["p50"].get<double>(), 0);
  EXPECT_GT((*r)["weight_bytes"].get<int64_t>(), 0);
  EXPECT_GT((*r)["weight_file_bytes"].get<int64_t>(), 0);
  EXPECT_GE((*r)["peak_rss_bytes"].get<int64_t>(), (*r)["weight_bytes"].get<int64_t>());
  // --malloc auto keeps glibc's defaults for a model whose weights are all small.
  EXPECT_EQ((*r)["malloc"], "auto");
  EXPECT_EQ((*r)["malloc_applied"], "system");
  EXPECT_LT((*r)["largest_weight_bytes"].get<int64_t>(), int64_t{32} << 20);
}

TEST(RawBenchmarkTest, MaxRowsCapsTheBestBatchAndFixedBatchSkipsTheSweep) {
  RawOptions o;
  o.model = TinyModel();
  o.threads = 1;
  o.rows = {1, 2, 4};
  o.max_rows = 1;
  o.step_repeats = 1;
  o.steps = 2;
  o.guidance = 1;
  o.waves = 1;
  o.single_runs = 0;
  absl::StatusOr<nlohmann::json> r = RawBenchmark::Run(o);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ((*r)["best_rows"], 1);
  EXPECT_EQ((*r)["generation"]["batch_images"], 1);
  EXPECT_FALSE(r->contains("single"));

  o.rows.clear();
  o.batch_images = 3;
  r = RawBenchmark::Run(o);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_TRUE((*r)["unet_steps"].empty());
  EXPECT_EQ((*r)["generation"]["images"], 3);
}

TEST(RawBenchmarkTest, ProfileDirGetsOneChromeTracePerBatchSize) {
  RawOptions o;
  o.model = TinyModel();
  o.threads = 1;
  o.rows = {1, 2};
  o.step_repeats = 1;
  o.waves = 0;
  o.single_runs = 0;
  o.profile_dir = (testing::TempDir("raw-profile") / "traces").string();
  absl::StatusOr<nlohmann::json> r = RawBenchmark::Run(o);
  ASSERT_TRUE(r.ok()) << r.status();
  for (const char* f : {"rows-1.json", "rows-2.json"}) {
    const std::filesystem::path trace = std::filesystem::path(o.profile_dir) / f;
    ASSERT_TRUE(std::filesystem::exists(trace)) << f;
    std::ifstream in(trace);
    const nlohmann::json events = nlohmann::json::parse(in, nullptr, false);
    ASSERT_TRUE(events.is_array()) << f;
    EXPECT_FALSE(events.empty()) << f;
  }
}

TEST(RawBenchmarkTest, BadOptionsAndMissingModelsAreErrors) {
  RawOptions o;
  o.model = TinyModel();
  o.rows = {0};
  EXPECT_EQ(RawBenchmark::Run(o).status().code(), absl::StatusCode::kInvalidArgument);
  o.rows = {};
  o.waves = 1;  // no sweep and no --batch-images: nothing to size the waves with
  EXPECT_EQ(RawBenchmark::Run(o).status().code(), absl::StatusCode::kInvalidArgument);
  o.waves = 0;
  o.dtype = "int8";
  EXPECT_EQ(RawBenchmark::Run(o).status().code(), absl::StatusCode::kInvalidArgument);
  o.dtype = "float32";
  o.model = testing::TempDir("raw-missing").string();
  EXPECT_FALSE(RawBenchmark::Run(o).ok());
}

}  // namespace raw_benchmark_test
}  // namespace ldm::bench
