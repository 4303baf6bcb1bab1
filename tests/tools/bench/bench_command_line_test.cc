#include "tools/bench/bench_command_line.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace ldm::bench {
namespace bench_command_line_test {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

TEST(BenchCommandLineTest, ServeParsesTheSweepAndTheMix) {
  auto cmd = BenchCommandLine::Parse({"serve",
                                      "--target",
                                      "127.0.0.1:5000",
                                      "--concurrency",
                                      "1,4,16",
                                      "--rate",
                                      "0.5,2",
                                      "--requests",
                                      "12",
                                      "--warmup",
                                      "3",
                                      "--samplers",
                                      "ddim,euler",
                                      "--steps",
                                      "25",
                                      "--guidance",
                                      "1,5",
                                      "--conditioning",
                                      "text,class+map",
                                      "--sizes",
                                      "64,64x128",
                                      "--preview-every",
                                      "1",
                                      "--seed",
                                      "9",
                                      "--json",
                                      "out.json"});
  ASSERT_TRUE(cmd.ok()) << cmd.status();
  EXPECT_EQ(cmd->mode, "serve");
  EXPECT_EQ(cmd->serve.target, "127.0.0.1:5000");
  EXPECT_THAT(cmd->serve.concurrency, ElementsAre(1, 4, 16));
  EXPECT_THAT(cmd->serve.rates, ElementsAre(0.5, 2.0));
  EXPECT_EQ(cmd->serve.MeasuredFor("closed", 16), 12);
  EXPECT_EQ(cmd->serve.WarmupFor("closed", 16), 3);
  EXPECT_THAT(cmd->serve.mix.samplers, ElementsAre("ddim", "euler"));
  EXPECT_THAT(cmd->serve.mix.steps, ElementsAre(25));
  EXPECT_THAT(cmd->serve.mix.guidance, ElementsAre(1.0, 5.0));
  EXPECT_THAT(cmd->serve.mix.conditioning, ElementsAre("text", "class+map"));
  EXPECT_THAT(cmd->serve.mix.sizes, ElementsAre("64", "64x128"));
  EXPECT_EQ(cmd->serve.mix.preview_every, 1);
  EXPECT_EQ(cmd->serve.mix.seed, 9u);
  EXPECT_EQ(cmd->json_path, "out.json");
}

TEST(BenchCommandLineTest, ServeDefaultsSweepOneToThirtyTwoWithWarmupPerStream) {
  auto cmd = BenchCommandLine::Parse({"serve"});
  ASSERT_TRUE(cmd.ok()) << cmd.status();
  EXPECT_THAT(cmd->serve.concurrency, ElementsAre(1, 2, 4, 8, 16, 32));
  EXPECT_TRUE(cmd->serve.rates.empty());
  EXPECT_EQ(cmd->serve.WarmupFor("closed", 16), 16);
  EXPECT_EQ(cmd->serve.MeasuredFor("closed", 16), 64);
  EXPECT_EQ(cmd->serve.MeasuredFor("closed", 1), 8);
  EXPECT_EQ(cmd->serve.target, "localhost:50051");
}

TEST(BenchCommandLineTest, RateAloneRunsOnlyTheOpenLoop) {
  auto cmd = BenchCommandLine::Parse({"serve", "--rate", "3"});
  ASSERT_TRUE(cmd.ok()) << cmd.status();
  EXPECT_TRUE(cmd->serve.concurrency.empty());
  EXPECT_THAT(cmd->serve.rates, ElementsAre(3.0));
  EXPECT_EQ(cmd->serve.WarmupFor("open", 0), 2);
}

TEST(BenchCommandLineTest, SequentialIsOneStreamWithoutOpenLoop) {
  auto cmd = BenchCommandLine::Parse({"sequential", "--requests", "5", "--guidance", "1"});
  ASSERT_TRUE(cmd.ok()) << cmd.status();
  EXPECT_EQ(cmd->mode, "sequential");
  EXPECT_THAT(cmd->serve.concurrency, ElementsAre(1));
  EXPECT_TRUE(cmd->serve.rates.empty());
  EXPECT_EQ(cmd->serve.MeasuredFor("sequential", 1), 5);
  EXPECT_EQ(cmd->serve.WarmupFor("sequential", 1), 1);
}

TEST(BenchCommandLineTest, RawParsesEngineOptions) {
  auto cmd = BenchCommandLine::Parse(
      {"raw",    "--model",    "m",       "--rows",  "1,2,4",     "--threads", "2",
       "--size", "128",        "--steps", "20",      "--sampler", "euler",     "--guidance",
       "7.5",    "--max-rows", "16",      "--dtype", "float16",   "--device",  "cuda"});
  ASSERT_TRUE(cmd.ok()) << cmd.status();
  EXPECT_EQ(cmd->mode, "raw");
  EXPECT_EQ(cmd->raw.model, "m");
  EXPECT_THAT(cmd->raw.rows, ElementsAre(1, 2, 4));
  EXPECT_EQ(cmd->raw.threads, 2);
  EXPECT_EQ(cmd->raw.size, 128);
  EXPECT_EQ(cmd->raw.steps, 20);
  EXPECT_EQ(cmd->raw.sampler, "euler");
  EXPECT_DOUBLE_EQ(cmd->raw.guidance, 7.5);
  EXPECT_EQ(cmd->raw.max_rows, 16);
  EXPECT_EQ(cmd->raw.dtype, "float16");
  EXPECT_EQ(cmd->raw.device, "cuda");
}

TEST(BenchCommandLineTest, RawMallocPolicyDefaultsToAutoAndAcceptsHeapAndSystem) {
  auto automatic = BenchCommandLine::Parse({"raw", "--model", "m"});
  ASSERT_TRUE(automatic.ok()) << automatic.status();
  EXPECT_EQ(automatic->raw.malloc, "auto");
  auto heap = BenchCommandLine::Parse({"raw", "--model", "m", "--malloc", "heap"});
  ASSERT_TRUE(heap.ok()) << heap.status();
  EXPECT_EQ(heap->raw.malloc, "heap");
  auto system = BenchCommandLine::Parse({"raw", "--model", "m", "--malloc", "system"});
  ASSERT_TRUE(system.ok()) << system.status();
  EXPECT_EQ(system->raw.malloc, "system");
  EXPECT_FALSE(BenchCommandLine::Parse({"raw", "--model", "m", "--malloc", "tcmalloc"}).ok());
}

TEST(BenchCommandLineTest, RawNoSweepClearsTheRows) {
  auto cmd = BenchCommandLine::Parse({"raw", "--model", "m", "--no-sweep"});
  ASSERT_TRUE(cmd.ok()) << cmd.status();
  EXPECT_TRUE(cmd->raw.rows.empty());
}

TEST(BenchCommandLineTest, MakeModelParsesArchOutAndDtype) {
  auto cmd = BenchCommandLine::Parse(
      {"make-model", "--arch", "sd15", "--out", "/tmp/x", "--dtype", "fp16", "--seed", "3"});
  ASSERT_TRUE(cmd.ok()) << cmd.status();
  EXPECT_EQ(cmd->mode, "make-model");
  EXPECT_EQ(cmd->make_model.arch, "sd15");
  EXPECT_EQ(cmd->make_model.out, "/tmp/x");
  EXPECT_EQ(cmd->make_model.dtype, "fp16");
  EXPECT_EQ(cmd->make_model.seed, 3u);
}

TEST(BenchCommandLineTest, UsageErrorsAreInvalidArgument) {
  const std::vector<std::vector<std::string>> bad = {
      {},                                          // no subcommand
      {"warp"},                                    // unknown subcommand
      {"serve", "--concurrency", "0"},             // concurrency < 1
      {"serve", "--concurrency", "x"},             // not a number
      {"serve", "--bogus"},                        // unknown flag
      {"raw"},                                     // --model is required
      {"raw", "--model", "m", "--dtype", "int8"},  // not a float type
      {"make-model", "--arch", "sd15"},            // --out is required
      {"make-model", "--out", "x", "--dtype", "fp8"},
  };
  for (const auto& args : bad) {
    auto cmd = BenchCommandLine::Parse(args);
    ASSERT_FALSE(cmd.ok()) << ::testing::PrintToString(args);
    EXPECT_EQ(cmd.status().code(), absl::StatusCode::kInvalidArgument);
  }
}

TEST(BenchCommandLineTest, HelpReturnsTheUsageText) {
  auto cmd = BenchCommandLine::Parse({"--help"});
  ASSERT_TRUE(cmd.ok()) << cmd.status();
  EXPECT_EQ(cmd->mode, "help");
  EXPECT_THAT(cmd->help, HasSubstr("serve"));
  EXPECT_THAT(cmd->help, HasSubstr("make-model"));
  auto sub = BenchCommandLine::Parse({"serve", "--help"});
  ASSERT_TRUE(sub.ok()) << sub.status();
  EXPECT_THAT(sub->help, HasSubstr("--concurrency"));
}

}  // namespace bench_command_line_test
}  // namespace ldm::bench
