#include "server/metrics/metrics_http_server.h"

// Same defines as the library (CMake passes cpp-httplib's pkg-config flags); used for the client.
#include <httplib.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "gtest/gtest.h"
#include "server/metrics/builder.h"

namespace ldm::metrics {
namespace {

// The metrics DESIGN.md names, with representative values: what a real scrape looks like.
void RegisterServerMetrics(Registry& registry) {
  auto requests = *BuildCounter()
                       .Name("ldm_requests_total")
                       .Help("Finished requests by model and status code.")
                       .Register(registry);
  requests->Add({{"model", "sd-tiny"}, {"code", "OK"}}).Increment(3);
  requests->Add({{"model", "sd-tiny"}, {"code", "RESOURCE_EXHAUSTED"}}).Increment();
  auto duration = *BuildHistogram()
                       .Name("ldm_request_duration_seconds")
                       .Help("Request latency from admission to final image.")
                       .Buckets(ExponentialBuckets(0.05, 2, 10))
                       .Register(registry);
  duration->Add({}).Observe(0.8);
  duration->Add({}).Observe(12.0);
  auto rows = *BuildHistogram()
                   .Name("ldm_batch_rows")
                   .Help("Rows per UNet forward.")
                   .Buckets(LinearBuckets(1, 1, 8))
                   .Register(registry);
  rows->Add({}).Observe(4);
  (*BuildGauge().Name("ldm_queue_depth").Help("Jobs waiting.").Register(registry))->Add({}).Set(2);
  auto cancelled = *BuildCounter()
                        .Name("ldm_cancelled_total")
                        .Help("Cancelled jobs by reason.")
                        .Register(registry);
  cancelled->Add({{"reason", "client \"gone\"\nfor\\good"}}).Increment();  // Escaping on the wire.
  auto memory = *BuildGauge()
                     .Name("ldm_device_memory_bytes")
                     .Help("Device memory in use.")
                     .Register(registry);
  memory->Add({{"device", "cuda:0"}}).Set(1.5e9);
  (*BuildGauge()
        .Name("ldm_build_info")
        .Help("Build information.")
        .ConstantLabels({{"version", "0.1.0"}})
        .Register(registry))
      ->Add({})
      .Set(1);
}

struct PromtoolResult {
  int exit_code = -1;
  std::string output;
};

// Feeds `text` to `promtool check metrics` on stdin. Fails the test if promtool is missing: the
// whole point is an independent check of the exposition format.
PromtoolResult RunPromtool(const std::string& text) {
  PromtoolResult result;
  if (std::system("command -v promtool >/dev/null 2>&1") != 0) {
    ADD_FAILURE()
        << "promtool not found in PATH (Debian package 'prometheus'; .ci/run installs it)";
    return result;
  }
  const std::string out_path =
      testing::TempDir() + "/promtool_" + std::to_string(::getpid()) + ".out";
  const std::string command = "promtool check metrics >'" + out_path + "' 2>&1";
  FILE* pipe = ::popen(command.c_str(), "w");
  if (pipe == nullptr) {
    ADD_FAILURE() << "popen failed";
    return result;
  }
  std::fwrite(text.data(), 1, text.size(), pipe);
  const int status = ::pclose(pipe);
  result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  std::ifstream in(out_path);
  std::stringstream buffer;
  buffer << in.rdbuf();
  result.output = buffer.str();
  std::remove(out_path.c_str());
  return result;
}

TEST(MetricsHttpServerTest, ScrapeOverHttpPassesPromtoolCheck) {
  Registry registry;
  RegisterServerMetrics(registry);
  MetricsHttpServer server(&registry);
  ASSERT_TRUE(server.Start("127.0.0.1", 0).ok());
  ASSERT_GT(server.port(), 0);

  httplib::Client client("127.0.0.1", server.port());
  httplib::Result res = client.Get("/metrics");
  ASSERT_TRUE(res) << httplib::to_string(res.error());
  EXPECT_EQ(res->status, 200);
  EXPECT_EQ(res->get_header_value("Content-Type"), "text/plain; version=0.0.4; charset=utf-8");
  EXPECT_EQ(res->body, registry.Serialize());
  EXPECT_NE(res->body.find("ldm_requests_total{code=\"OK\",model=\"sd-tiny\"} 3\n"),
            std::string::npos);

  const PromtoolResult promtool = RunPromtool(res->body);
  EXPECT_EQ(promtool.exit_code, 0) << promtool.output << "\n--- scraped text ---\n" << res->body;
}

TEST(MetricsHttpServerTest, PromtoolRejectsMalformedExposition) {
  // Guards the check above: a harness that passes everything would prove nothing.
  const PromtoolResult promtool = RunPromtool("# TYPE x counter\nx{a=\"unterminated} 1\n");
  EXPECT_NE(promtool.exit_code, 0) << promtool.output;
}

TEST(MetricsHttpServerTest, HealthzAnswersOk) {
  Registry registry;
  MetricsHttpServer server(&registry);
  ASSERT_TRUE(server.Start("127.0.0.1", 0).ok());
  httplib::Client client("127.0.0.1", server.port());
  httplib::Result res = client.Get("/healthz");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 200);
  EXPECT_EQ(res->body, "ok\n");
}

TEST(MetricsHttpServerTest, UnknownPathIs404) {
  Registry registry;
  MetricsHttpServer server(&registry);
  ASSERT_TRUE(server.Start("127.0.0.1", 0).ok());
  httplib::Client client("127.0.0.1", server.port());
  httplib::Result res = client.Get("/nope");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 404);
}

TEST(MetricsHttpServerTest, CollectHookRunsBeforeEachScrape) {
  Registry registry;
  Gauge& scrapes = (*BuildGauge().Name("scrapes").Register(registry))->Add({});
  MetricsHttpServer server(&registry, [&scrapes] { scrapes.Increment(); });
  ASSERT_TRUE(server.Start("127.0.0.1", 0).ok());
  httplib::Client client("127.0.0.1", server.port());
  for (int i = 1; i <= 3; ++i) {
    httplib::Result res = client.Get("/metrics");
    ASSERT_TRUE(res);
    EXPECT_NE(res->body.find("scrapes " + std::to_string(i) + "\n"), std::string::npos)
        << res->body;
  }
  ASSERT_TRUE(client.Get("/healthz"));
  EXPECT_EQ(scrapes.Value(), 3.0);  // Only /metrics runs the hook.
}

TEST(MetricsHttpServerTest, BindFailureIsUnavailable) {
  Registry registry;
  MetricsHttpServer first(&registry);
  ASSERT_TRUE(first.Start("127.0.0.1", 0).ok());
  MetricsHttpServer second(&registry);
  absl::Status status = second.Start("127.0.0.1", first.port());
  EXPECT_EQ(status.code(), absl::StatusCode::kUnavailable) << status;
  EXPECT_FALSE(second.running());
  EXPECT_EQ(second.port(), 0);
}

TEST(MetricsHttpServerTest, InvalidPortIsInvalidArgument) {
  Registry registry;
  MetricsHttpServer server(&registry);
  EXPECT_EQ(server.Start("127.0.0.1", -1).code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(server.Start("127.0.0.1", 65536).code(), absl::StatusCode::kInvalidArgument);
}

TEST(MetricsHttpServerTest, SecondStartWhileRunningIsFailedPrecondition) {
  Registry registry;
  MetricsHttpServer server(&registry);
  ASSERT_TRUE(server.Start("127.0.0.1", 0).ok());
  EXPECT_EQ(server.Start("127.0.0.1", 0).code(), absl::StatusCode::kFailedPrecondition);
}

TEST(MetricsHttpServerTest, StopIsIdempotentAndServerCanRestart) {
  Registry registry;
  MetricsHttpServer server(&registry);
  server.Stop();  // Never started: no-op.
  ASSERT_TRUE(server.Start("127.0.0.1", 0).ok());
  EXPECT_TRUE(server.running());
  const int port = server.port();
  server.Stop();
  server.Stop();
  EXPECT_FALSE(server.running());
  EXPECT_EQ(server.port(), 0);
  httplib::Client stopped("127.0.0.1", port);
  stopped.set_connection_timeout(1);
  EXPECT_FALSE(stopped.Get("/healthz"));

  ASSERT_TRUE(server.Start("127.0.0.1", 0).ok());
  httplib::Client client("127.0.0.1", server.port());
  EXPECT_TRUE(client.Get("/healthz"));
}

TEST(MetricsHttpServerTest, StopRightAfterStartDoesNotHang) {
  Registry registry;
  for (int i = 0; i < 20; ++i) {
    MetricsHttpServer server(&registry);
    ASSERT_TRUE(server.Start("127.0.0.1", 0).ok());
    server.Stop();
  }
}

TEST(MetricsHttpServerTest, DestructorStopsServer) {
  Registry registry;
  int port = 0;
  {
    MetricsHttpServer server(&registry);
    ASSERT_TRUE(server.Start("127.0.0.1", 0).ok());
    port = server.port();
  }
  httplib::Client client("127.0.0.1", port);
  client.set_connection_timeout(1);
  EXPECT_FALSE(client.Get("/healthz"));
}

TEST(MetricsHttpServerTest, ConcurrentScrapesAllSucceed) {
  Registry registry;
  RegisterServerMetrics(registry);
  MetricsHttpServer server(&registry);
  ASSERT_TRUE(server.Start("127.0.0.1", 0).ok());
  std::atomic<int> ok{0};
  std::vector<std::thread> scrapers;
  for (int t = 0; t < 4; ++t) {
    scrapers.emplace_back([&] {
      httplib::Client client("127.0.0.1", server.port());
      for (int i = 0; i < 10; ++i) {
        httplib::Result res = client.Get("/metrics");
        if (res && res->status == 200) ok.fetch_add(1);
      }
    });
  }
  for (auto& scraper : scrapers) scraper.join();
  EXPECT_EQ(ok.load(), 40);
}

}  // namespace
}  // namespace ldm::metrics
