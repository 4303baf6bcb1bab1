#include "server/scheduling/worker.h"

#include <gtest/gtest.h>

#include <atomic>
#include <memory>
#include <string>
#include <utility>

#include "tests/testing/fake_clock.h"
#include "tests/testing/fake_engine.h"
#include "tests/testing/recording_sink.h"

namespace ldm::server {
namespace {

using testing::FakeEngine;
using testing::RecordingSink;

// Keeps the last ldm_active_jobs value the worker reported.
class ActiveJobsGauge : public SchedulerMetrics {
 public:
  void ActiveJobs(int worker, int jobs) override { jobs_ = jobs; }
  int value() const { return jobs_.load(); }

 private:
  std::atomic<int> jobs_{-1};
};

// A RecordingSink that notes the gauge's value at the moment it hears the outcome.
class GaugeAtDoneSink : public RecordingSink {
 public:
  explicit GaugeAtDoneSink(const ActiveJobsGauge* gauge) : gauge_(gauge) {}
  void OnDone(const absl::Status& status, const server::RequestTimings& t) override {
    at_done_ = gauge_->value();
    RecordingSink::OnDone(status, t);
  }
  int at_done() const { return at_done_.load(); }

 private:
  const ActiveJobsGauge* gauge_;
  std::atomic<int> at_done_{-1};
};

class WorkerTest : public ::testing::Test {
 protected:
  void MakeWorker(int max_rows) {
    auto engine = std::make_unique<FakeEngine>(FakeEngine::DefaultInfo("m"));
    engine_ = engine.get();
    std::map<std::string, std::unique_ptr<Engine>> engines;
    engines["m"] = std::move(engine);
    auto sr = std::make_unique<FakeEngine>(FakeEngine::SuperResolutionInfo("sr"));
    sr_engine_ = sr.get();
    engines["sr"] = std::move(sr);
    WorkerOptions o;
    o.max_batch_rows = max_rows;
    worker_ = std::make_unique<Worker>(o, std::move(engines), &queue_, &pool_, &clock_, &metrics_);
  }

  std::pair<std::shared_ptr<RequestState>, std::shared_ptr<RecordingSink>> Push(
      const std::string& id, int steps, double guidance, int images = 1, int size = 64,
      const std::string& prompt = "p", int preview_every = 0,
      std::optional<absl::Time> deadline = std::nullopt) {
    auto sink = std::make_shared<RecordingSink>();
    GenerationRequest r;
    r.request_id = id;
    r.model = "m";
    r.sink = sink;
    r.preview_every = preview_every;
    r.deadline = deadline;
    for (int i = 0; i < images; ++i) {
      JobSpec s;
      s.request_id = id;
      s.prompt = prompt;
      s.steps = steps;
      s.guidance_scale = guidance;
      s.width = s.height = size;
      s.seed = 100 + i;
      r.images.push_back(s);
    }
    auto state = std::make_shared<RequestState>(std::move(r), clock_.Now(), seq_++);
    EXPECT_TRUE(queue_.Push(state).ok());
    return {state, sink};
  }

  // Queues a prepared request and returns its sink.
  std::shared_ptr<RecordingSink> PushRequest(GenerationRequest r) {
    auto sink = std::make_shared<RecordingSink>();
    r.sink = sink;
    EXPECT_TRUE(
        queue_.Push(std::make_shared<RequestState>(std::move(r), clock_.Now(), seq_++)).ok());
    return sink;
  }
  static GenerationRequest Chained(const std::string& id, const std::string& upscaler, int images,
                                   int steps, double guidance) {
    GenerationRequest r;
    r.request_id = id;
    r.model = "m";
    r.upscale = UpscaleStage{.model = upscaler, .steps = 3, .sampler = "", .guidance_scale = 1.0};
    for (int i = 0; i < images; ++i) {
      JobSpec s;
      s.request_id = id;
      s.prompt = "p";
      s.steps = steps;
      s.guidance_scale = guidance;
      s.width = s.height = 64;
      s.seed = 100 + i;
      r.images.push_back(s);
    }
    return r;
  }

  void RunUntilIdle() {
    for (int i = 0; i < 10000 && worker_->RunOnce(); ++i) {
    }
    pool_.Wait();
  }

  testing::FakeClock clock_;
  ActiveJobsGauge metrics_;
  RequestQueue queue_{64};
  TaskPool pool_{2};
  FakeEngine* engine_ = nullptr;
  FakeEngine* sr_engine_ = nullptr;
  std::unique_ptr<Worker> worker_;
  uint64_t seq_ = 0;
};

TEST_F(WorkerTest, StreamsStartedProgressImagesDoneInOrderWithPreviewsEveryK) {
  MakeWorker(8);
  auto [state, sink] = Push("a", 4, 5.0, 2, 64, "p", /*preview_every=*/2);
  RunUntilIdle();
  ASSERT_TRUE(sink->done());
  EXPECT_TRUE(sink->status().ok()) << sink->status();
  EXPECT_EQ(sink->events(), (std::vector<std::string>{"started", "progress", "progress", "progress",
                                                      "progress", "image", "image", "done"}));
  EXPECT_EQ(sink->steps(), (std::vector<int>{1, 2, 3, 4}));
  // A preview for each image at step 2; none at the final step (the image follows).
  EXPECT_EQ(sink->preview_counts(), (std::vector<int>{0, 2, 0, 0}));
  auto images = sink->images();
  ASSERT_EQ(images.size(), 2u);
  std::set<uint64_t> seeds = {images[0].seed, images[1].seed};
  EXPECT_EQ(seeds, (std::set<uint64_t>{100, 101}));
  EXPECT_EQ(sink->timings().steps, 4);
}

TEST_F(WorkerTest, AdmitsNewRequestsAtTheNextStepBoundary) {
  MakeWorker(8);
  auto [a, sa] = Push("a", 5, 1.0);
  worker_->RunOnce();
  worker_->RunOnce();
  auto [b, sb] = Push("b", 3, 5.0);
  RunUntilIdle();
  ASSERT_TRUE(sa->done() && sb->done());
  EXPECT_EQ(engine_->batch_rows(), (std::vector<int>{1, 1, 3, 3, 3}));
  EXPECT_EQ(sb->timings().batch_rows_max, 3);
}

TEST_F(WorkerTest, WaitsForFreeRowsBeforeAdmitting) {
  MakeWorker(2);
  auto [a, sa] = Push("a", 3, 5.0);  // 2 rows
  auto [b, sb] = Push("b", 2, 1.0);  // 1 row: must wait for a
  RunUntilIdle();
  EXPECT_EQ(engine_->batch_rows(), (std::vector<int>{2, 2, 2, 1, 1}));
  EXPECT_TRUE(sa->status().ok());
  EXPECT_TRUE(sb->status().ok());
}

TEST_F(WorkerTest, ARequestLargerThanTheBatchStillRunsAlone) {
  MakeWorker(2);
  auto [a, sa] = Push("a", 2, 5.0, /*images=*/3);  // 6 rows
  RunUntilIdle();
  EXPECT_TRUE(sa->status().ok());
  EXPECT_EQ(engine_->batch_rows(), (std::vector<int>{6, 6}));
}

TEST_F(WorkerTest, AClientHearsItsOutcomeOnlyAfterTheActiveJobsGaugeDropsItsRequest) {
  // A client that scrapes /metrics on hearing "done" (or an error) must not still be counted in
  // ldm_active_jobs: finished, failed and cancelled requests, each running alone.
  MakeWorker(8);
  auto run = [&](const std::string& id, const std::string& prompt, bool cancel) {
    auto sink = std::make_shared<GaugeAtDoneSink>(&metrics_);
    GenerationRequest r;
    r.request_id = id;
    r.model = "m";
    r.sink = sink;
    JobSpec spec;
    spec.request_id = id;
    spec.prompt = prompt;
    spec.steps = 3;
    spec.width = spec.height = 64;
    r.images = {spec, spec};
    auto state = std::make_shared<RequestState>(std::move(r), clock_.Now(), seq_++);
    EXPECT_TRUE(queue_.Push(state).ok());
    worker_->RunOnce();
    EXPECT_EQ(metrics_.value(), 2) << id;  // both jobs counted while it runs
    if (cancel) state->RequestCancel(absl::CancelledError("request " + id + ": cancelled"));
    RunUntilIdle();
    EXPECT_TRUE(sink->WaitDone()) << id;
    return std::make_pair(sink->status().code(), sink->at_done());
  };
  EXPECT_EQ(run("ok", "p", false), std::make_pair(absl::StatusCode::kOk, 0));
  EXPECT_EQ(run("failed", "fail-step", false), std::make_pair(absl::StatusCode::kInternal, 0));
  EXPECT_EQ(run("cancelled", "p", true), std::make_pair(absl::StatusCode::kCancelled, 0));
  EXPECT_EQ(run("undecodable", "fail-decode", false),
            std::make_pair(absl::StatusCode::kInternal, 0));
}

TEST_F(WorkerTest, StopFailsRunningRequestsWithUnavailableAfterTheGaugeDropsThem) {
  MakeWorker(8);
  auto sink = std::make_shared<GaugeAtDoneSink>(&metrics_);
  GenerationRequest r;
  r.request_id = "long";
  r.model = "m";
  r.sink = sink;
  JobSpec spec;
  spec.request_id = "long";
  spec.prompt = "p";
  spec.steps = 100;
  spec.width = spec.height = 64;
  r.images = {spec};
  ASSERT_TRUE(queue_.Push(std::make_shared<RequestState>(std::move(r), clock_.Now(), seq_++)).ok());
  worker_->RunOnce();
  EXPECT_EQ(metrics_.value(), 1);
  worker_->Stop();
  ASSERT_TRUE(sink->done());
  EXPECT_EQ(sink->status().code(), absl::StatusCode::kUnavailable);
  EXPECT_NE(sink->status().message().find("request long"), std::string::npos) << sink->status();
  EXPECT_EQ(sink->at_done(), 0);
  EXPECT_EQ(worker_->active_jobs(), 0);
}

TEST_F(WorkerTest, AFailingJobFailsAloneAndTheOthersFinish) {
  MakeWorker(8);
  auto [a, sa] = Push("bad", 4, 1.0, 1, 64, "fail-step");
  auto [b, sb] = Push("good", 4, 1.0);
  RunUntilIdle();
  EXPECT_EQ(sa->status().code(), absl::StatusCode::kInternal);
  EXPECT_NE(sa->status().message().find("request bad"), std::string::npos) << sa->status();
  EXPECT_TRUE(sb->status().ok());
  EXPECT_EQ(sb->images().size(), 1u);
}

TEST_F(WorkerTest, CreateAndDecodeErrorsFailOnlyThatRequest) {
  MakeWorker(8);
  auto [a, sa] = Push("a", 2, 1.0, 1, 64, "fail-create");
  auto [b, sb] = Push("b", 2, 1.0, 1, 64, "fail-decode");
  auto [c, sc] = Push("c", 2, 1.0);
  RunUntilIdle();
  EXPECT_EQ(sa->status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(sa->events(), (std::vector<std::string>{"done"}));
  EXPECT_EQ(sb->status().code(), absl::StatusCode::kInternal);
  EXPECT_TRUE(sc->status().ok());
}

TEST_F(WorkerTest, CancellationFreesRowsForAQueuedJobAtTheNextStep) {
  MakeWorker(2);
  auto [a, sa] = Push("a", 100, 5.0);
  worker_->RunOnce();
  auto [b, sb] = Push("b", 2, 5.0);
  worker_->RunOnce();
  EXPECT_EQ(engine_->batch_rows(), (std::vector<int>{2, 2}));  // b still waits
  a->RequestCancel(absl::CancelledError("request a: cancelled by the client"));
  worker_->RunOnce();  // a leaves, b is admitted and stepped in the same iteration
  EXPECT_EQ(sa->status().code(), absl::StatusCode::kCancelled);
  EXPECT_EQ(b->started_at().has_value(), true);
  RunUntilIdle();
  EXPECT_TRUE(sb->status().ok());
  EXPECT_EQ(engine_->batch_rows(), (std::vector<int>{2, 2, 2, 2}));
}

TEST_F(WorkerTest, ADeadlineThatCannotBeMetFailsWithoutStarting) {
  MakeWorker(8);
  engine_->set_on_step([this] { clock_.Advance(absl::Seconds(1)); });
  auto [a, sa] = Push("warm", 3, 1.0);
  RunUntilIdle();  // learns ~1 s per step
  auto [b, sb] = Push("late", 10, 1.0, 1, 64, "p", 0, clock_.Now() + absl::Seconds(5));
  RunUntilIdle();
  EXPECT_EQ(sb->status().code(), absl::StatusCode::kDeadlineExceeded);
  EXPECT_EQ(sb->events(), (std::vector<std::string>{"done"}));
  EXPECT_NE(sb->status().message().find("cannot be met"), std::string::npos);
}

TEST_F(WorkerTest, ADeadlinePassingMidRunStopsTheJob) {
  MakeWorker(8);
  engine_->set_on_step([this] { clock_.Advance(absl::Seconds(1)); });
  auto [a, sa] = Push("a", 100, 1.0, 1, 64, "p", 0, clock_.Now() + absl::Seconds(3));
  RunUntilIdle();
  EXPECT_EQ(sa->status().code(), absl::StatusCode::kDeadlineExceeded);
  EXPECT_LE(engine_->step_calls(), 4);
}

TEST_F(WorkerTest, DifferentLatentShapesTakeFairTurns) {
  MakeWorker(8);
  auto [a, sa] = Push("a", 3, 1.0, 1, 64);
  auto [b, sb] = Push("b", 3, 5.0, 1, 32);
  RunUntilIdle();
  // Alternating groups: 1 row (64x64) and 2 rows (32x32).
  EXPECT_EQ(engine_->batch_rows(), (std::vector<int>{2, 1, 2, 1, 2, 1}));
  EXPECT_TRUE(sa->status().ok());
  EXPECT_TRUE(sb->status().ok());
}

TEST_F(WorkerTest, UpscaleChainsASuperResolutionStageOnTheDecodedImages) {
  MakeWorker(8);
  auto sink = PushRequest(Chained("chain", "sr", 2, 4, 5.0));
  // A direct upscaling request of the same output size batches with the chained stage.
  GenerationRequest d;
  d.request_id = "direct";
  d.model = "sr";
  JobSpec ds;
  ds.request_id = "direct";
  ds.steps = 3;
  ds.guidance_scale = 1.0;
  ds.seed = 5;
  ds.low_res_image = Image8{64, 64, 3, std::vector<uint8_t>(64 * 64 * 3, 1)};
  d.images.push_back(ds);
  worker_->RunOnce();                              // admits the chained request and steps it once
  for (int i = 0; i < 3; ++i) worker_->RunOnce();  // the base stage finishes: 4 steps
  auto direct_sink = PushRequest(std::move(d));
  RunUntilIdle();

  ASSERT_TRUE(sink->done());
  ASSERT_TRUE(sink->status().ok()) << sink->status();
  // One progress event per model call of both stages, counted together.
  EXPECT_EQ(sink->steps(), (std::vector<int>{1, 2, 3, 4, 5, 6, 7}));
  EXPECT_EQ(sink->timings().steps, 7);
  auto images = sink->images();
  ASSERT_EQ(images.size(), 2u);
  std::set<uint64_t> seeds;
  for (const auto& img : images) {
    EXPECT_EQ(img.width, 256);  // 64x64 generated, 4x upscaled
    EXPECT_EQ(img.height, 256);
    seeds.insert(img.seed);
  }
  EXPECT_EQ(seeds, (std::set<uint64_t>{100, 101}));
  // The base model ran 4 steps of 4 rows (CFG); the upscaler 3 steps of 1 row per image, with the
  // direct request in the same batches.
  EXPECT_EQ(engine_->batch_rows(), (std::vector<int>{4, 4, 4, 4}));
  EXPECT_EQ(sr_engine_->batch_rows(), (std::vector<int>{3, 3, 3}));
  ASSERT_TRUE(direct_sink->done());
  EXPECT_TRUE(direct_sink->status().ok()) << direct_sink->status();
  EXPECT_EQ(direct_sink->images().at(0).width, 256);
}

TEST_F(WorkerTest, AnUpscaleStageThatCannotStartFailsItsRequestAlone) {
  MakeWorker(8);
  auto sink = PushRequest(Chained("bad-up", "missing", 1, 2, 5.0));
  auto [other, other_sink] = Push("other", 3, 1.0);
  RunUntilIdle();
  ASSERT_TRUE(sink->done());
  EXPECT_EQ(sink->status().code(), absl::StatusCode::kNotFound);
  EXPECT_NE(sink->status().message().find("request bad-up: upscale_model 'missing'"),
            std::string::npos)
      << sink->status();
  EXPECT_TRUE(other_sink->status().ok());
}

}  // namespace
}  // namespace ldm::server
