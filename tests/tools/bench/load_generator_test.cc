#include "tools/bench/load_generator.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>

#include "tests/server/rpc/rpc_test_server.h"
#include "tools/bench/poisson_arrivals.h"

namespace ldm::bench {
namespace load_generator_test {

using testing::RpcTestOptions;
using testing::RpcTestServer;

class LoadGeneratorTest : public ::testing::Test {
 protected:
  LoadGeneratorTest() : server_(Options()) {
    client::ClientOptions co;
    co.max_attempts = 1;
    client_ = std::make_unique<client::ImageGenerationClient>(server_.channel(), co);
  }

  static RpcTestOptions Options() {
    RpcTestOptions o;
    o.step_delay = absl::Milliseconds(2);
    return o;
  }

  RequestMix Mix(const std::string& model = "") {
    absl::StatusOr<v1::ListModelsResponse> models = client_->ListModels();
    EXPECT_TRUE(models.ok()) << models.status();
    MixOptions o;
    o.model = model;
    o.steps = {3};
    o.guidance = {1, 5};
    o.preview_every = 1;
    absl::StatusOr<RequestMix> mix = RequestMix::Create(o, models->models(0));
    EXPECT_TRUE(mix.ok()) << mix.status();
    return *mix;
  }

  RpcTestServer server_;
  std::unique_ptr<client::ImageGenerationClient> client_;
};

TEST_F(LoadGeneratorTest, ClosedLoopRecordsEveryEventOfTheMeasuredRequests) {
  const RequestMix mix = Mix();
  LoadGenerator generator(client_.get(), &mix, {});
  absl::StatusOr<LoadRun> run = generator.RunClosedLoop(2, 2, 4);
  ASSERT_TRUE(run.ok()) << run.status();
  EXPECT_EQ(run->kind, "closed");
  EXPECT_EQ(run->concurrency, 2);
  ASSERT_EQ(run->counted.size(), 4u);
  int ended = 0;
  for (const RequestRecord& r : run->records) {
    if (r.abandoned) continue;
    ++ended;
    EXPECT_TRUE(r.ok()) << r.request_id << ": " << r.message;
  }
  EXPECT_GE(ended, 6);  // a request that succeeded as the run ended also counts
  EXPECT_GT(run->window_end, run->window_start);
  for (int i : run->counted) {
    const RequestRecord& r = run->records[i];
    EXPECT_GE(r.queued, r.sent);
    EXPECT_GE(r.started, r.queued);
    EXPECT_GE(r.first_preview, r.started);
    EXPECT_GE(r.done, r.last_progress);
    EXPECT_EQ(r.images, 1);
    EXPECT_EQ(r.total_steps, 3);
    EXPECT_GE(r.server_queue_seconds, 0);
    EXPECT_GE(r.batch_rows_max, 1);
    EXPECT_GE(r.done, run->window_start);
    EXPECT_LE(r.done, run->window_end);
  }
}

TEST_F(LoadGeneratorTest, ConcurrencyOneNeverOverlapsRequests) {
  const RequestMix mix = Mix();
  LoadGenerator generator(client_.get(), &mix, {});
  absl::StatusOr<LoadRun> run = generator.RunClosedLoop(1, 1, 3);
  ASSERT_TRUE(run.ok()) << run.status();
  std::vector<RequestRecord> records = run->records;
  std::sort(records.begin(), records.end(),
            [](const RequestRecord& a, const RequestRecord& b) { return a.sent < b.sent; });
  ASSERT_EQ(records.size(), 4u);
  for (size_t i = 1; i < records.size(); ++i) EXPECT_GE(records[i].sent, records[i - 1].done);
}

TEST_F(LoadGeneratorTest, FailingRequestsAreRecordedWithTheirCodeAndEndTheRun) {
  const RequestMix mix = Mix("no-such-model");
  LoadGenerator generator(client_.get(), &mix, {});
  absl::StatusOr<LoadRun> run = generator.RunClosedLoop(2, 1, 3);
  ASSERT_TRUE(run.ok()) << run.status();
  int errors = 0;
  for (const RequestRecord& r : run->records) {
    if (r.abandoned) continue;
    EXPECT_EQ(r.code, absl::StatusCode::kNotFound) << r.message;
    ++errors;
  }
  EXPECT_EQ(errors, 4);
}

TEST_F(LoadGeneratorTest, OpenLoopSendsAtPoissonTimesAndAwaitsEveryRequest) {
  const RequestMix mix = Mix();
  LoadGenerator generator(client_.get(), &mix, {});
  absl::StatusOr<LoadRun> run = generator.RunOpenLoop(50.0, 1, 3, 5);
  ASSERT_TRUE(run.ok()) << run.status();
  EXPECT_EQ(run->kind, "open");
  EXPECT_DOUBLE_EQ(run->rate, 50.0);
  ASSERT_EQ(run->records.size(), 4u);
  ASSERT_EQ(run->counted.size(), 3u);
  for (int i : run->counted) EXPECT_GE(run->records[i].index, 1);
  for (const RequestRecord& r : run->records) EXPECT_TRUE(r.ok()) << r.message;
  // Arrivals follow the seeded schedule: request i is sent no earlier than its arrival time.
  std::vector<double> times = PoissonArrivals::Create(50.0, 5)->Times(4);
  for (const RequestRecord& r : run->records) EXPECT_GE(r.sent + 1e-3, times[r.index]);
}

TEST_F(LoadGeneratorTest, RejectsBadCounts) {
  const RequestMix mix = Mix();
  LoadGenerator generator(client_.get(), &mix, {});
  EXPECT_EQ(generator.RunClosedLoop(0, 1, 1).status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(generator.RunClosedLoop(1, -1, 1).status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(generator.RunClosedLoop(1, 0, 0).status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(generator.RunOpenLoop(0, 0, 1, 1).status().code(), absl::StatusCode::kInvalidArgument);
}

}  // namespace load_generator_test
}  // namespace ldm::bench
