// ldm-bench (the binary) end to end: make-model writes a tiny random model, the real ldm-server
// serves it, and serve / sequential / raw runs finish with zero errors and JSON with the
// documented fields; usage and setup errors give their exit codes.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <cstdio>
#include <filesystem>
#include <fstream>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "nlohmann/json.hpp"
#include "tests/e2e/server_process.h"
#include "tests/testing/fixtures.h"

namespace ldm::testing {
namespace {

namespace fs = std::filesystem;

struct BenchRun {
  int exit_code = -1;
  std::string out;  // stdout; stderr goes to the test log
};

// Runs ldm-bench with `args` (no shell quoting needed: the tests pass plain words).
BenchRun RunBench(const std::vector<std::string>& args) {
  const std::string command = absl::StrCat(LDM_BENCH_BINARY, " ", absl::StrJoin(args, " "));
  BenchRun run;
  FILE* pipe = popen(command.c_str(), "r");
  if (pipe == nullptr) return run;
  char buffer[4096];
  for (size_t n; (n = fread(buffer, 1, sizeof(buffer), pipe)) > 0;) run.out.append(buffer, n);
  const int status = pclose(pipe);
  run.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return run;
}

nlohmann::json ReadJson(const fs::path& path) {
  std::ifstream in(path);
  return nlohmann::json::parse(in, nullptr, /*allow_exceptions=*/false);
}

class LdmBenchBinaryTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new fs::path(TempDir("ldm_bench_binary_test"));
    const BenchRun made =
        RunBench({"make-model", "--arch", "tiny", "--out", (*dir_ / "tiny").string()});
    ASSERT_EQ(made.exit_code, 0) << made.out;
    auto server = ServerProcess::Start(
        LDM_SERVER_BINARY,
        {"--model", "tiny=" + (*dir_ / "tiny").string(), "--host", "127.0.0.1", "--port", "0",
         "--metrics-port", "-1", "--threads", "1", "--log-level", "warn"});
    ASSERT_TRUE(server.ok()) << server.status();
    server_ = server->release();
  }
  static void TearDownTestSuite() {
    delete server_;
    server_ = nullptr;
  }

  static std::vector<std::string> Target() { return {"--target", server_->address()}; }

  static fs::path* dir_;
  static ServerProcess* server_;
};

fs::path* LdmBenchBinaryTest::dir_ = nullptr;
ServerProcess* LdmBenchBinaryTest::server_ = nullptr;

TEST_F(LdmBenchBinaryTest, ServeSweepWritesEveryFieldWithZeroErrors) {
  ASSERT_NE(server_, nullptr);
  const fs::path json = *dir_ / "serve.json";
  std::vector<std::string> args = {"serve",
                                   "--concurrency",
                                   "1,2",
                                   "--rate",
                                   "20",
                                   "--requests",
                                   "2",
                                   "--steps",
                                   "3",
                                   "--guidance",
                                   "1,5",
                                   "--conditioning",
                                   "text,class+map",
                                   "--preview-every",
                                   "1",
                                   "--json",
                                   json.string()};
  for (const std::string& a : Target()) args.push_back(a);
  const BenchRun run = RunBench(args);
  ASSERT_EQ(run.exit_code, 0) << run.out;
  EXPECT_THAT(run.out, ::testing::HasSubstr("img/s"));
  const nlohmann::json doc = ReadJson(json);
  ASSERT_TRUE(doc.is_object());
  EXPECT_EQ(doc["mode"], "serve");
  EXPECT_EQ(doc["model"]["name"], "tiny");
  EXPECT_TRUE(doc["machine"].contains("cpu"));
  ASSERT_EQ(doc["points"].size(), 3u);
  const std::vector<std::string> kinds = {"closed", "closed", "open"};
  for (size_t i = 0; i < 3; ++i) {
    const nlohmann::json& p = doc["points"][i];
    EXPECT_EQ(p["kind"], kinds[i]);
    EXPECT_EQ(p["errors"], 0) << p["error_messages"].dump();
    EXPECT_EQ(p["requests"], 2);
    EXPECT_EQ(p["images"], 2);
    EXPECT_GT(p["images_per_second"].get<double>(), 0);
    for (const char* key :
         {"latency_seconds", "queue_wait_seconds", "client_queue_wait_seconds", "batch_rows_max"}) {
      EXPECT_EQ(p[key]["count"], 2) << key;
      EXPECT_TRUE(p[key]["p95"].is_number()) << key;
    }
    // Progress events may be coalesced while a write is in flight, so these may have fewer
    // samples; every request had previews, so at least one.
    for (const char* key : {"time_to_first_preview_seconds", "time_to_first_preview_steps",
                            "started_to_first_preview_seconds", "step_seconds"}) {
      ASSERT_TRUE(p.contains(key)) << key;
      EXPECT_TRUE(p[key].contains("p99")) << key;
    }
    EXPECT_EQ(p["time_to_first_preview_seconds"]["count"], 2);
  }
  EXPECT_EQ(doc["points"][1]["concurrency"], 2);
  EXPECT_DOUBLE_EQ(doc["points"][2]["rate"].get<double>(), 20.0);
}

TEST_F(LdmBenchBinaryTest, SequentialRunsOneStream) {
  ASSERT_NE(server_, nullptr);
  const fs::path json = *dir_ / "sequential.json";
  std::vector<std::string> args = {"sequential", "--requests", "2",          "--steps",
                                   "2",          "--json",     json.string()};
  for (const std::string& a : Target()) args.push_back(a);
  const BenchRun run = RunBench(args);
  ASSERT_EQ(run.exit_code, 0) << run.out;
  const nlohmann::json doc = ReadJson(json);
  EXPECT_EQ(doc["mode"], "sequential");
  ASSERT_EQ(doc["points"].size(), 1u);
  EXPECT_EQ(doc["points"][0]["kind"], "sequential");
  EXPECT_EQ(doc["points"][0]["concurrency"], 1);
  EXPECT_EQ(doc["points"][0]["errors"], 0);
  // One at a time: no request ever shares a batch.
  EXPECT_EQ(doc["points"][0]["batch_rows_max"]["max"], 2);
}

TEST_F(LdmBenchBinaryTest, RawMeasuresTheEngineInProcess) {
  const fs::path json = *dir_ / "raw.json";
  const BenchRun run = RunBench({"raw", "--model", (*dir_ / "tiny").string(), "--threads", "1",
                                 "--rows", "1,2", "--step-repeats", "1", "--steps", "2", "--waves",
                                 "1", "--single-runs", "1", "--json", json.string()});
  ASSERT_EQ(run.exit_code, 0) << run.out;
  EXPECT_THAT(run.out, ::testing::HasSubstr("single generation"));
  const nlohmann::json doc = ReadJson(json);
  EXPECT_EQ(doc["mode"], "raw");
  EXPECT_EQ(doc["unet_steps"].size(), 2u);
  EXPECT_TRUE(doc["best_rows"].is_number());
  EXPECT_GT(doc["generation"]["images_per_second"].get<double>(), 0);
  EXPECT_GT(doc["single"]["seconds"]["mean"].get<double>(), 0);
}

TEST_F(LdmBenchBinaryTest, UsageAndSetupErrorsHaveTheirExitCodes) {
  ASSERT_NE(server_, nullptr);
  EXPECT_EQ(RunBench({"serve", "--bogus"}).exit_code, 2);
  std::vector<std::string> bad_kind = {"serve", "--concurrency", "1", "--conditioning", "colour"};
  for (const std::string& a : Target()) bad_kind.push_back(a);
  EXPECT_EQ(RunBench(bad_kind).exit_code, 2);
  std::vector<std::string> no_model = {"serve", "--concurrency", "1", "--model", "nope"};
  for (const std::string& a : Target()) no_model.push_back(a);
  EXPECT_EQ(RunBench(no_model).exit_code, 1);
  EXPECT_EQ(RunBench({"raw", "--model", (*dir_ / "missing").string()}).exit_code, 1);
}

}  // namespace
}  // namespace ldm::testing
