// ServerApp end to end, in process, on 127.0.0.1:0: the real Pipeline on the tiny fixture models
// for batch invariance, conditioning and concurrency (with a /metrics scrape checked by
// promtool), FakeEngines for the health and drain life cycle.
#include "server/server_app.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <atomic>
#include <thread>

#include "absl/strings/numbers.h"
#include "absl/strings/str_split.h"
#include "absl/synchronization/notification.h"
#include "core/io/png_codec.h"
#include "tests/e2e/e2e_client.h"
#include "tests/e2e/http_get.h"
#include "tests/server/rpc/health_probe.h"
#include "tests/server/rpc/rpc_test_server.h"
#include "tests/testing/fake_engine.h"
#include "tests/testing/fixtures.h"
#include "tests/testing/tiny_sr_model.h"

namespace ldm::testing {
namespace {

using ::testing::HasSubstr;

server::ServerConfig LocalConfig() {
  server::ServerConfig config;
  config.host = "127.0.0.1";
  config.port = 0;
  config.metrics_port = 0;
  config.drain_timeout_seconds = 30;
  return config;
}

// ---------------------------------------------------------------------------------------------
// Life cycle with FakeEngines.

std::vector<server::DeviceEngines> FakeDevice(absl::Duration step_delay) {
  server::DeviceEngines device;
  device.device = "cpu";
  auto engine = std::make_unique<FakeEngine>(FakeEngine::DefaultInfo("fake"));
  engine->set_on_step([step_delay] { absl::SleepFor(step_delay); });
  device.engines["fake"] = std::move(engine);
  std::vector<server::DeviceEngines> out;
  out.push_back(std::move(device));
  return out;
}

TEST(ServerAppTest, HealthIsNotServingUntilWarmUpThenServingThenNotServingWhileDraining) {
  auto app = server::ServerApp::Listen(LocalConfig());
  ASSERT_TRUE(app.ok()) << app.status();
  auto channel = E2eChannel("127.0.0.1:" + std::to_string((*app)->port()));
  EXPECT_EQ(*CheckHealth(channel), Health::kNotServing);
  EXPECT_EQ(*CheckHealth(channel, "ldm.v1.ImageGeneration"), Health::kNotServing);

  ASSERT_TRUE((*app)->Serve(FakeDevice(absl::Milliseconds(10))).ok());
  EXPECT_EQ(*CheckHealth(channel), Health::kServing);
  EXPECT_EQ(*CheckHealth(channel, "ldm.v1.ImageGeneration"), Health::kServing);

  // A job that is running when the drain starts.
  auto stub = v1::ImageGeneration::NewStub(channel);
  absl::Notification started;
  StreamResult running;
  std::thread client([&] {
    running = RunStream(*stub, FakeRequest(100), nullptr, [&](const v1::GenerateEvent& e) {
      if (e.has_started()) started.Notify();
    });
  });
  ASSERT_TRUE(started.WaitForNotificationWithTimeout(absl::Seconds(20)));
  std::thread drain([&] { EXPECT_TRUE((*app)->Drain()); });
  // While draining: NOT_SERVING, and new work is refused with UNAVAILABLE.
  absl::SleepFor(absl::Milliseconds(100));
  EXPECT_EQ(*CheckHealth(channel), Health::kNotServing);
  EXPECT_EQ(RunStream(*stub, FakeRequest(2)).status.error_code(), grpc::StatusCode::UNAVAILABLE);
  drain.join();
  client.join();
  // The accepted job was not lost.
  ASSERT_TRUE(running.status.ok()) << running.status.error_message();
  EXPECT_EQ(running.kinds.back(), "done");
}

TEST(ServerAppTest, MetricsEndpointServesTheDesignSeries) {
  auto app = server::ServerApp::Listen(LocalConfig());
  ASSERT_TRUE(app.ok()) << app.status();
  ASSERT_TRUE((*app)->Serve(FakeDevice(absl::ZeroDuration())).ok());
  auto stub =
      v1::ImageGeneration::NewStub(E2eChannel("127.0.0.1:" + std::to_string((*app)->port())));
  ASSERT_TRUE(RunStream(*stub, FakeRequest(3)).status.ok());
  v1::GenerateRequest bad = FakeRequest(3);
  bad.set_steps(5000);
  ASSERT_EQ(RunStream(*stub, bad).status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);

  absl::StatusOr<HttpResponse> scrape = HttpGet("127.0.0.1", (*app)->metrics_port(), "/metrics");
  ASSERT_TRUE(scrape.ok()) << scrape.status();
  ASSERT_EQ(scrape->status, 200);
  for (const char* series :
       {"ldm_requests_total{code=\"OK\",model=\"fake\"} 1",
        "ldm_requests_total{code=\"INVALID_ARGUMENT\",model=\"fake\"} 1",
        "ldm_request_duration_seconds_count", "ldm_queue_wait_seconds_count",
        "ldm_time_to_first_preview_seconds", "ldm_queue_depth 0", "ldm_active_jobs 0",
        "ldm_batch_rows_bucket{le=\"64\"}", "ldm_step_duration_seconds_count",
        "ldm_images_generated_total{model=\"fake\"} 1", "ldm_cancelled_total",
        "ldm_prompt_cache_hits_total", "ldm_prompt_cache_misses_total", "ldm_build_info{"}) {
    EXPECT_THAT(scrape->body, HasSubstr(series));
  }
  (*app)->Drain();
}

// ---------------------------------------------------------------------------------------------
// Real pipelines on the tiny fixture models (one server for the suite: loading is the slow part).

// Starts a serving ServerApp for `config` and its channel (gtest assertions on failure: *app
// stays null).
void StartServer(const server::ServerConfig& config, server::ServerApp** app,
                 std::shared_ptr<grpc::Channel>** channel) {
  auto started = server::ServerApp::Listen(config);
  ASSERT_TRUE(started.ok()) << started.status();
  auto engines = server::ServerApp::LoadEngines(config);
  ASSERT_TRUE(engines.ok()) << engines.status();
  ASSERT_TRUE((*started)->Serve(*std::move(engines)).ok());
  *app = started->release();
  *channel = new std::shared_ptr<grpc::Channel>(
      E2eChannel("127.0.0.1:" + std::to_string((*app)->port())));
}

// Drains and deletes what StartServer made.
void StopServer(server::ServerApp** app, std::shared_ptr<grpc::Channel>** channel) {
  if (*app != nullptr) (*app)->Drain();
  delete *app;
  *app = nullptr;
  delete *channel;
  *channel = nullptr;
}

class RealModelServerTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    absl::StatusOr<std::filesystem::path> fixtures = FixturesDir();
    ASSERT_TRUE(fixtures.ok()) << fixtures.status();
    server::ServerConfig config = LocalConfig();
    config.models = {{"sd1-tiny", *fixtures / "models" / "sd1-tiny"},
                     {"ldm-cond-tiny", *fixtures / "models" / "ldm-cond-tiny"}};
    config.max_batch_rows = 32;
    config.max_queue = 64;
    StartServer(config, &app_, &channel_);
  }
  static void TearDownTestSuite() { StopServer(&app_, &channel_); }
  void SetUp() override { ASSERT_NE(app_, nullptr) << "server did not start"; }

  static std::unique_ptr<v1::ImageGeneration::Stub> Stub() {
    return v1::ImageGeneration::NewStub(*channel_);
  }
  static v1::GenerateRequest TextRequest(uint64_t seed, int steps, v1::Sampler sampler,
                                         float guidance) {
    v1::GenerateRequest r;
    r.set_model("sd1-tiny");
    r.set_prompt("a red circle on a blue background");
    r.set_negative_prompt("green");
    r.set_seed(seed);
    r.set_steps(static_cast<uint32_t>(steps));
    r.set_sampler(sampler);
    r.set_guidance_scale(guidance);
    return r;
  }

  static server::ServerApp* app_;
  static std::shared_ptr<grpc::Channel>* channel_;
};

server::ServerApp* RealModelServerTest::app_ = nullptr;
std::shared_ptr<grpc::Channel>* RealModelServerTest::channel_ = nullptr;

TEST_F(RealModelServerTest, ListModelsReportsBothFixtureModels) {
  grpc::ClientContext context;
  v1::ListModelsResponse models;
  ASSERT_TRUE(Stub()->ListModels(&context, v1::ListModelsRequest(), &models).ok());
  ASSERT_EQ(models.models_size(), 2);
  EXPECT_EQ(models.models(0).name(), "sd1-tiny");
  EXPECT_TRUE(models.models(0).is_default());
  EXPECT_THAT(models.models(0).conditioning(), ::testing::Contains("text"));
  EXPECT_THAT(models.models(1).conditioning(), ::testing::Contains("class"));
  EXPECT_THAT(models.models(1).conditioning(), ::testing::Contains("semantic_map"));
}

TEST_F(RealModelServerTest, SameSeededRequestGivesTheSameImageAloneAndInsideABatch) {
  const v1::GenerateRequest target = TextRequest(1234, 8, v1::EULER, 5.0f);
  grpc::ClientContext alone_context;
  v1::GenerateResponse alone;
  ASSERT_TRUE(Stub()->Generate(&alone_context, target, &alone).ok());
  ASSERT_EQ(alone.images_size(), 1);

  // Eight other jobs with other samplers, steps and guidance, started first so that the target
  // joins their batch.
  const v1::Sampler samplers[] = {v1::DDIM, v1::PNDM,  v1::EULER_ANCESTRAL, v1::DPMPP_2M,
                                  v1::DDPM, v1::EULER, v1::DPMPP_2M_KARRAS, v1::DDIM};
  std::vector<std::thread> others;
  std::atomic<int> others_started{0}, others_ok{0};
  for (int i = 0; i < 8; ++i) {
    others.emplace_back([&, i] {
      v1::GenerateRequest r =
          TextRequest(100 + i, 12 + 2 * i, samplers[i], i % 2 == 0 ? 1.0f : 7.5f);
      r.set_prompt("other prompt " + std::to_string(i));
      StreamResult result = RunStream(*Stub(), r, nullptr, [&](const v1::GenerateEvent& e) {
        if (e.has_started()) ++others_started;
      });
      if (result.status.ok()) ++others_ok;
    });
  }
  const absl::Time give_up = absl::Now() + absl::Seconds(60);
  while (others_started.load() < 8 && absl::Now() < give_up) absl::SleepFor(absl::Milliseconds(5));
  grpc::ClientContext batched_context;
  v1::GenerateResponse batched;
  ASSERT_TRUE(Stub()->Generate(&batched_context, target, &batched).ok());
  for (auto& t : others) t.join();
  EXPECT_EQ(others_ok.load(), 8);

  ASSERT_EQ(batched.images_size(), 1);
  // It really shared its steps with other jobs.
  EXPECT_GT(batched.timings().batch_rows_max(), 2u);
  absl::StatusOr<int> diff = MaxPixelDifference(alone.images(0).png(), batched.images(0).png());
  ASSERT_TRUE(diff.ok()) << diff.status();
  EXPECT_LE(*diff, 2) << "max per-channel difference (of 255)";
  EXPECT_EQ(alone.images(0).seed(), 1234u);
  EXPECT_EQ(batched.images(0).seed(), 1234u);
}

TEST_F(RealModelServerTest, ClassNameAndSemanticMapPngConditionTheCondModel) {
  grpc::ClientContext list_context;
  v1::ListModelsResponse models;
  ASSERT_TRUE(Stub()->ListModels(&list_context, v1::ListModelsRequest(), &models).ok());
  const v1::ModelDescription& cond = models.models(1);
  ASSERT_EQ(cond.name(), "ldm-cond-tiny");
  ASSERT_GT(cond.semantic_labels_size(), 1);

  v1::GenerateRequest r;
  r.set_model("ldm-cond-tiny");
  if (cond.class_names_size() > 0) {
    r.set_class_name(cond.class_names(cond.class_names_size() - 1));
  } else {
    r.set_class_label(1);
  }
  r.set_steps(4);
  r.set_seed(9);
  // A label map at image size (always valid; the server area-downsamples it to latent size).
  const int w = static_cast<int>(cond.native_width()), h = static_cast<int>(cond.native_height());
  Image8 map{w, h, 1, std::vector<uint8_t>(static_cast<size_t>(w) * h, 0)};
  for (int i = 0; i < w * h / 2; ++i) map.pixels[static_cast<size_t>(i)] = 1;
  r.mutable_semantic_map()->set_png(*EncodePng(map));
  grpc::ClientContext context;
  v1::GenerateResponse response;
  const grpc::Status status = Stub()->Generate(&context, r, &response);
  ASSERT_TRUE(status.ok()) << status.error_message();
  ASSERT_EQ(response.images_size(), 1);
  EXPECT_EQ(response.images(0).width(), cond.native_width());

  // A label beyond the model's semantic channels is refused before it runs.
  std::fill(map.pixels.begin(), map.pixels.end(), static_cast<uint8_t>(200));
  r.mutable_semantic_map()->set_png(*EncodePng(map));
  grpc::ClientContext bad_context;
  EXPECT_EQ(Stub()->Generate(&bad_context, r, &response).error_code(),
            grpc::StatusCode::INVALID_ARGUMENT);
}

// ---------------------------------------------------------------------------------------------
// Super-resolution: a tiny random 4x upscaler next to sd1-tiny (32x32 native).

class SuperResolutionServerTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    absl::StatusOr<std::filesystem::path> fixtures = FixturesDir();
    ASSERT_TRUE(fixtures.ok()) << fixtures.status();
    const std::filesystem::path sr = TempDir("e2e-sr") / "tiny-sr";
    ASSERT_TRUE(WriteTinySrModel(sr).ok());
    server::ServerConfig config = LocalConfig();
    config.models = {{"sd1-tiny", *fixtures / "models" / "sd1-tiny"}, {"tiny-sr", sr}};
    StartServer(config, &app_, &channel_);
  }
  static void TearDownTestSuite() { StopServer(&app_, &channel_); }
  void SetUp() override { ASSERT_NE(app_, nullptr) << "server did not start"; }
  static std::unique_ptr<v1::ImageGeneration::Stub> Stub() {
    return v1::ImageGeneration::NewStub(*channel_);
  }
  static std::string Png(int w, int h) {
    Image8 img{w, h, 3, std::vector<uint8_t>(static_cast<size_t>(w) * h * 3)};
    for (size_t i = 0; i < img.pixels.size(); ++i) img.pixels[i] = static_cast<uint8_t>(i % 251);
    return *EncodePng(img);
  }

  static server::ServerApp* app_;
  static std::shared_ptr<grpc::Channel>* channel_;
};

server::ServerApp* SuperResolutionServerTest::app_ = nullptr;
std::shared_ptr<grpc::Channel>* SuperResolutionServerTest::channel_ = nullptr;

TEST_F(SuperResolutionServerTest, ListModelsReportsTheUpscalerWithItsFactor) {
  grpc::ClientContext context;
  v1::ListModelsResponse models;
  ASSERT_TRUE(Stub()->ListModels(&context, v1::ListModelsRequest(), &models).ok());
  ASSERT_EQ(models.models_size(), 2);
  const v1::ModelDescription& sr = models.models(1);
  EXPECT_EQ(sr.name(), "tiny-sr");
  EXPECT_THAT(sr.conditioning(), ::testing::ElementsAre("low_res_image"));
  EXPECT_EQ(sr.upscale_factor(), 4u);
  EXPECT_EQ(models.models(0).upscale_factor(), 0u);
}

TEST_F(SuperResolutionServerTest, ALowResImageRequestReturnsImagesFourTimesItsSize) {
  v1::GenerateRequest r;
  r.set_model("tiny-sr");
  r.set_low_res_image(Png(24, 16));
  r.set_num_images(2);
  r.set_steps(2);
  r.set_seed(3);
  grpc::ClientContext context;
  v1::GenerateResponse response;
  const grpc::Status status = Stub()->Generate(&context, r, &response);
  ASSERT_TRUE(status.ok()) << status.error_message();
  ASSERT_EQ(response.images_size(), 2);
  for (const auto& img : response.images()) {
    EXPECT_EQ(img.width(), 96u);
    EXPECT_EQ(img.height(), 64u);
    absl::StatusOr<Image8> decoded = DecodePng(img.png());
    ASSERT_TRUE(decoded.ok()) << decoded.status();
    EXPECT_EQ(decoded->width, 96);
    EXPECT_EQ(decoded->height, 64);
  }
}

TEST_F(SuperResolutionServerTest, AnUpscaleChainedRequestStreamsBothStagesAndUpscaledImages) {
  v1::GenerateRequest r;
  r.set_model("sd1-tiny");
  r.set_prompt("a red circle");
  r.set_steps(3);
  r.set_sampler(v1::DDIM);  // one model call per step (PNDM takes one more)
  r.set_num_images(2);
  r.set_seed(11);
  r.set_upscale(true);  // the only upscaler: tiny-sr
  r.set_upscale_steps(2);
  StreamResult result = RunStream(*Stub(), r);
  ASSERT_TRUE(result.status.ok()) << result.status.error_message();
  std::vector<uint32_t> steps;
  int images = 0;
  for (const auto& e : result.events) {
    if (e.has_progress()) {
      steps.push_back(e.progress().step());
      EXPECT_EQ(e.progress().total(), 5u);
    }
    if (e.has_image()) {
      ++images;
      EXPECT_EQ(e.image().width(), 128u);  // 32x32 generated, 4x upscaled
      EXPECT_EQ(e.image().height(), 128u);
      absl::StatusOr<Image8> decoded = DecodePng(e.image().png());
      ASSERT_TRUE(decoded.ok());
      EXPECT_EQ(decoded->width, 128);
    }
  }
  EXPECT_EQ(images, 2);
  EXPECT_EQ(steps, (std::vector<uint32_t>{1, 2, 3, 4, 5}));
  EXPECT_EQ(result.kinds.back(), "done");
}

TEST_F(SuperResolutionServerTest, BadLowResImagesAndUpscalersAreInvalidArgumentsNamingTheField) {
  struct Case {
    std::string name;
    v1::GenerateRequest request;
    std::string expected;
  };
  std::vector<Case> cases(4);
  cases[0].name = "not a png";
  cases[0].request.set_model("tiny-sr");
  cases[0].request.set_low_res_image("not a png");
  cases[0].expected = "request sr-bad: low_res_image does not decode as a PNG";
  cases[1].name = "wrong size";
  cases[1].request.set_model("tiny-sr");
  cases[1].request.set_low_res_image(Png(16, 16));
  cases[1].request.set_width(128);
  cases[1].request.set_height(128);
  cases[1].expected = "request sr-bad: low_res_image is 16x16";
  cases[2].name = "base model";
  cases[2].request.set_low_res_image(Png(16, 16));
  cases[2].expected = "request sr-bad: low_res_image is not accepted by model sd1-tiny";
  cases[3].name = "upscale with a non-upscaler";
  cases[3].request.set_upscale(true);
  cases[3].request.set_upscale_model("sd1-tiny");
  cases[3].expected = "request sr-bad: upscale_model = 'sd1-tiny' is not a loaded";
  for (Case& c : cases) {
    c.request.set_request_id("sr-bad");
    c.request.set_steps(1);
    grpc::ClientContext context;
    v1::GenerateResponse response;
    const grpc::Status status = Stub()->Generate(&context, c.request, &response);
    EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << c.name;
    EXPECT_THAT(status.error_message(), HasSubstr(c.expected)) << c.name;
  }
}

// Extracts "name{labels} value" or "name value" from an exposition.
double SeriesValue(const std::string& text, const std::string& series) {
  for (absl::string_view line : absl::StrSplit(text, '\n')) {
    if (absl::StartsWith(line, series + " ")) {
      double v = 0;
      if (absl::SimpleAtod(line.substr(series.size() + 1), &v)) return v;
    }
  }
  return -1;
}

TEST_F(RealModelServerTest, ThirtyTwoConcurrentStreamsCompleteAndShareBatches) {
  std::vector<std::thread> clients;
  std::atomic<int> ok{0};
  std::vector<std::string> failures(32);
  for (int i = 0; i < 32; ++i) {
    clients.emplace_back([&, i] {
      v1::GenerateRequest r = TextRequest(1000 + i, 4, v1::SAMPLER_UNSPECIFIED, 1.0f);
      r.set_preview_every(2);
      StreamResult result = RunStream(*Stub(), r);
      if (result.status.ok() && !result.kinds.empty() && result.kinds.back() == "done") {
        ++ok;
      } else {
        failures[static_cast<size_t>(i)] = result.status.error_message();
      }
    });
  }
  for (auto& t : clients) t.join();
  EXPECT_EQ(ok.load(), 32) << failures[0];

  absl::StatusOr<HttpResponse> scrape = HttpGet("127.0.0.1", app_->metrics_port(), "/metrics");
  ASSERT_TRUE(scrape.ok()) << scrape.status();
  ASSERT_EQ(scrape->status, 200);
  const double count = SeriesValue(scrape->body, "ldm_batch_rows_count");
  const double single = SeriesValue(scrape->body, "ldm_batch_rows_bucket{le=\"1\"}");
  ASSERT_GT(count, 0) << scrape->body;
  EXPECT_GT(count - single, 0) << "no UNet forward had more than one row\n" << scrape->body;
  EXPECT_GT(SeriesValue(scrape->body, "ldm_prompt_cache_hits_total"), 0);
  EXPECT_GE(SeriesValue(scrape->body, "ldm_images_generated_total{model=\"sd1-tiny\"}"), 32);

  absl::StatusOr<std::pair<int, std::string>> promtool = PromtoolCheckMetrics(scrape->body);
  ASSERT_TRUE(promtool.ok()) << promtool.status();
  EXPECT_EQ(promtool->first, 0) << promtool->second << "\n--- scrape ---\n" << scrape->body;
}

}  // namespace
}  // namespace ldm::testing
