// The real build/ldm-server binary as a subprocess: --port 0 announcement, health SERVING after
// warm-up, a generation, and SIGTERM while jobs run: every accepted job completes, exit code 0.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <signal.h>

#include <atomic>
#include <thread>

#include "absl/synchronization/notification.h"
#include "tests/e2e/e2e_client.h"
#include "tests/e2e/server_process.h"
#include "tests/server/rpc/health_probe.h"
#include "tests/server/rpc/rpc_test_server.h"
#include "tests/testing/fixtures.h"

namespace ldm::testing {
namespace {

std::vector<std::string> ServerArgs(const std::filesystem::path& fixtures) {
  return {"--model",         "sd1=" + (fixtures / "models" / "sd1-tiny").string(),
          "--host",          "127.0.0.1",
          "--port",          "0",
          "--metrics-port",  "0",
          "--drain-timeout", "60",
          "--threads",       "1",
          "--log-level",     "info"};
}

absl::Status WaitServing(const std::shared_ptr<grpc::Channel>& channel, absl::Duration timeout) {
  const absl::Time give_up = absl::Now() + timeout;
  while (absl::Now() < give_up) {
    absl::StatusOr<Health> h = CheckHealth(channel);
    if (h.ok() && *h == Health::kServing) return absl::OkStatus();
    absl::SleepFor(absl::Milliseconds(50));
  }
  return absl::DeadlineExceededError("server never became SERVING");
}

TEST(LdmServerBinaryTest, ServesAfterWarmUpAndDrainsAcceptedJobsOnSigterm) {
  absl::StatusOr<std::filesystem::path> fixtures = FixturesDir();
  ASSERT_TRUE(fixtures.ok()) << fixtures.status();
  auto server = ServerProcess::Start(LDM_SERVER_BINARY, ServerArgs(*fixtures));
  ASSERT_TRUE(server.ok()) << server.status();
  auto channel = E2eChannel((*server)->address());

  // Health answers while the models load (NOT_SERVING), then SERVING after the warm-up.
  absl::StatusOr<Health> early = CheckHealth(channel);
  ASSERT_TRUE(early.ok()) << early.status();
  EXPECT_TRUE(*early == Health::kNotServing || *early == Health::kServing);
  ASSERT_TRUE(WaitServing(channel, absl::Seconds(120)).ok());
  EXPECT_TRUE((*server)->WaitForLine("serving", absl::Seconds(5)).ok());

  auto stub = v1::ImageGeneration::NewStub(channel);
  {
    v1::GenerateRequest r = FakeRequest(3);
    r.set_model("");  // the default model: sd1
    grpc::ClientContext context;
    v1::GenerateResponse response;
    const grpc::Status status = stub->Generate(&context, r, &response);
    ASSERT_TRUE(status.ok()) << status.error_message();
    EXPECT_EQ(response.model(), "sd1");
    ASSERT_EQ(response.images_size(), 1);
  }

  // Four jobs in flight, then SIGTERM: all of them must complete.
  constexpr int kJobs = 4;
  std::atomic<int> started{0}, completed{0};
  std::vector<std::thread> clients;
  for (int i = 0; i < kJobs; ++i) {
    clients.emplace_back([&, i] {
      v1::GenerateRequest r = FakeRequest(25);
      r.set_seed(10 + i);
      r.set_preview_every(5);
      StreamResult result = RunStream(*stub, r, nullptr, [&](const v1::GenerateEvent& e) {
        if (e.has_queued()) ++started;
      });
      if (result.status.ok() && result.kinds.back() == "done") {
        ++completed;
      } else {
        ADD_FAILURE() << "job " << i << ": " << result.status.error_message();
      }
    });
  }
  const absl::Time give_up = absl::Now() + absl::Seconds(30);
  while (started.load() < kJobs && absl::Now() < give_up) absl::SleepFor(absl::Milliseconds(5));
  ASSERT_EQ(started.load(), kJobs);
  (*server)->Signal(SIGTERM);
  for (auto& t : clients) t.join();
  EXPECT_EQ(completed.load(), kJobs);
  absl::StatusOr<int> exit_code = (*server)->Wait(absl::Seconds(90));
  ASSERT_TRUE(exit_code.ok()) << exit_code.status();
  EXPECT_EQ(*exit_code, 0);
}

TEST(LdmServerBinaryTest, BadFlagsExitNonZeroWithAMessage) {
  auto server = ServerProcess::Start(LDM_SERVER_BINARY, {"--port", "70000"}, absl::Seconds(20));
  EXPECT_FALSE(server.ok());
}

}  // namespace
}  // namespace ldm::testing
