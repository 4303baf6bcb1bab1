#include "server/server_config.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdlib>
#include <utility>
#include <sstream>

namespace ldm::server {
namespace {

absl::StatusOr<std::optional<ServerConfig>> ParseArgs(std::vector<std::string> args) {
  args.insert(args.begin(), "ldm-server");
  std::vector<const char*> argv;
  for (const auto& a : args) argv.push_back(a.c_str());
  std::ostringstream out;
  return ServerConfig::Parse(static_cast<int>(argv.size()), argv.data(), out);
}

TEST(ServerConfigTest, FlagsSetEveryField) {
  auto c = ParseArgs(
      {"--model",         "a=/m/one", "--model",          "/m/two/", "--host",      "127.0.0.1",
       "--port",          "0",        "--metrics-port",   "-1",      "--devices",   "cuda:0,cuda:1",
       "--dtype",         "float16",  "--max-batch-rows", "8",       "--max-queue", "3",
       "--drain-timeout", "2.5",      "--log-level",      "debug",   "--threads",   "4",
       "--malloc",        "system",   "--step-threads",   "2"});
  ASSERT_TRUE(c.ok()) << c.status();
  const ServerConfig& config = **c;
  ASSERT_EQ(config.models.size(), 2u);
  EXPECT_EQ(config.models[0].name, "a");
  EXPECT_EQ(config.models[0].path, "/m/one");
  EXPECT_EQ(config.models[1].name, "two");
  EXPECT_EQ(config.host, "127.0.0.1");
  EXPECT_EQ(config.port, 0);
  EXPECT_EQ(config.metrics_port, -1);
  EXPECT_EQ(config.devices, (std::vector<std::string>{"cuda:0", "cuda:1"}));
  EXPECT_EQ(config.dtype, "float16");
  EXPECT_EQ(config.max_batch_rows, 8);
  EXPECT_EQ(config.max_queue, 3);
  EXPECT_DOUBLE_EQ(config.drain_timeout_seconds, 2.5);
  EXPECT_EQ(config.log_level, "debug");
  EXPECT_EQ(config.threads, 4);
  EXPECT_EQ(config.step_threads, 2);
  EXPECT_EQ(config.malloc_policy, "system");
}

TEST(ServerConfigTest, MallocPolicyAndThreadLayoutDefaultToAuto) {
  auto c = ParseArgs({"--model", "/m"});
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ((*c)->malloc_policy, "auto");
  const int cpus = ServerConfig::AvailableCpus();
  EXPECT_EQ((*c)->step_threads, std::min(2, cpus));
  EXPECT_EQ((*c)->threads, std::max(1, cpus / (*c)->step_threads));
}

TEST(ServerConfigTest, AutoThreadLayoutFillsTheCpusAndKeepsExplicitValues) {
  auto layout = [](int threads, int step_threads, int cpus) {
    ServerConfig c;
    c.threads = threads;
    c.step_threads = step_threads;
    c.ResolveThreadLayout(cpus);
    return std::make_pair(c.threads, c.step_threads);
  };
  EXPECT_EQ(layout(0, 0, 1), std::make_pair(1, 1));
  EXPECT_EQ(layout(0, 0, 2), std::make_pair(1, 2));
  EXPECT_EQ(layout(0, 0, 16), std::make_pair(8, 2));
  EXPECT_EQ(layout(0, 0, 0), std::make_pair(1, 1)) << "a nonsense CPU count counts as 1";
  EXPECT_EQ(layout(4, 0, 16), std::make_pair(4, 1)) << "--threads alone: one chunk, as before";
  EXPECT_EQ(layout(0, 4, 16), std::make_pair(4, 4));
  EXPECT_EQ(layout(0, 8, 4), std::make_pair(1, 8));
  EXPECT_EQ(layout(3, 5, 2), std::make_pair(3, 5)) << "explicit values are kept";
  EXPECT_GE(ServerConfig::AvailableCpus(), 1);
}

TEST(ServerConfigTest, StepThreadsComeFromTheEnvironmentToo) {
  ::setenv("LDM_STEP_THREADS", "3", 1);
  auto c = ParseArgs({"--model", "/m"});
  ::unsetenv("LDM_STEP_THREADS");
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ((*c)->step_threads, 3);
  EXPECT_EQ((*c)->threads, std::max(1, ServerConfig::AvailableCpus() / 3));
}

TEST(ServerConfigTest, EnvironmentVariablesAreReadAndFlagsWin) {
  ::setenv("LDM_PORT", "1234", 1);
  ::setenv("LDM_MAX_BATCH_ROWS", "5", 1);
  auto c = ParseArgs({"--model", "/m/x", "--max-batch-rows", "7"});
  ::unsetenv("LDM_PORT");
  ::unsetenv("LDM_MAX_BATCH_ROWS");
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ((*c)->port, 1234);
  EXPECT_EQ((*c)->max_batch_rows, 7);
}

TEST(ServerConfigTest, ModelListFromTheEnvironmentIsCommaSeparated) {
  ::setenv("LDM_MODEL", "a=/m/a,b=/m/b", 1);
  auto c = ParseArgs({});
  ::unsetenv("LDM_MODEL");
  ASSERT_TRUE(c.ok()) << c.status();
  ASSERT_EQ((*c)->models.size(), 2u);
  EXPECT_EQ((*c)->models[1].name, "b");
}

TEST(ServerConfigTest, BadValuesAreInvalidArgument) {
  EXPECT_EQ(ParseArgs({"--model", "/m", "--port", "70000"}).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(ParseArgs({"--model", "/m", "--dtype", "int8"}).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(ParseArgs({"--model", "/m", "--malloc", "jemalloc"}).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(ParseArgs({"--model", "/m", "--step-threads", "-1"}).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(ParseArgs({"--model", "/m", "--no-such-flag"}).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(ParseArgs({"--model", "x=/a", "--model", "x=/b"}).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(ParseArgs({"--model", "/m", "--devices", "cpu,cpu"}).status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST(ServerConfigTest, HelpIsHandled) {
  auto c = ParseArgs({"--help"});
  ASSERT_TRUE(c.ok());
  EXPECT_FALSE(c->has_value());
}

}  // namespace
}  // namespace ldm::server
