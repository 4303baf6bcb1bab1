// Classifier guidance and DDPM's full ancestral chain end to end: an in-process ServerApp on
// 127.0.0.1:0 serving the ldm-cond-tiny fixture ("plain") and a copy of it with a random
// noise-aware classifier and a null class ("guided"), driven over gRPC.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <fstream>
#include <thread>

#include "server/server_app.h"
#include "tests/e2e/e2e_client.h"
#include "tests/server/rpc/rpc_test_server.h"
#include "tests/testing/fixtures.h"
#include "tests/testing/tiny_classifier_model.h"

namespace ldm::testing {
namespace classifier_guidance_e2e_test {

using ::testing::HasSubstr;

class ClassifierGuidanceE2eTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    absl::StatusOr<std::filesystem::path> fixtures = FixturesDir();
    ASSERT_TRUE(fixtures.ok()) << fixtures.status();
    const std::filesystem::path plain = *fixtures / "models" / "ldm-cond-tiny";
    const std::filesystem::path guided = TempDir("classifier_guidance_e2e") / "guided";
    // 10 class embeddings, the last one the null class: 9 usable classes; a classifier over 10.
    absl::Status copied = CopyModelWithRandomClassifier(plain, guided, 4, 10, 3);
    ASSERT_TRUE(copied.ok()) << copied;
    std::ofstream(guided / "ldm_model.json")
        << R"({"null_class_label": 9, "class_names": ["c0", "c1", "c2", "c3", "c4", "c5", "c6",
              "c7", "c8"], "default_steps": 6})";
    server::ServerConfig config;
    config.host = "127.0.0.1";
    config.port = 0;
    config.metrics_port = -1;
    config.models = {{"guided", guided}, {"plain", plain}};
    config.max_batch_rows = 16;
    auto app = server::ServerApp::Listen(config);
    ASSERT_TRUE(app.ok()) << app.status();
    auto engines = server::ServerApp::LoadEngines(config);
    ASSERT_TRUE(engines.ok()) << engines.status();
    ASSERT_TRUE((*app)->Serve(*std::move(engines)).ok());
    app_ = app->release();
    channel_ =
        new std::shared_ptr<grpc::Channel>(E2eChannel("127.0.0.1:" + std::to_string(app_->port())));
  }
  static void TearDownTestSuite() {
    if (app_ != nullptr) app_->Drain();
    delete app_;
    app_ = nullptr;
    delete channel_;
    channel_ = nullptr;
  }
  void SetUp() override { ASSERT_NE(app_, nullptr) << "server did not start"; }

  static std::unique_ptr<v1::ImageGeneration::Stub> Stub() {
    return v1::ImageGeneration::NewStub(*channel_);
  }
  static v1::GenerateRequest Guided(uint64_t seed, float classifier_scale, float guidance,
                                    v1::Sampler sampler, int steps) {
    v1::GenerateRequest r;
    r.set_model("guided");
    r.set_request_id("cg-" + std::to_string(seed));
    r.set_class_name("c3");
    r.set_classifier_scale(classifier_scale);
    r.set_guidance_scale(guidance);
    r.set_sampler(sampler);
    r.set_steps(static_cast<uint32_t>(steps));
    r.set_seed(seed);
    r.set_width(64);
    r.set_height(64);
    return r;
  }
  static grpc::Status Generate(const v1::GenerateRequest& r, v1::GenerateResponse* out) {
    grpc::ClientContext context;
    return Stub()->Generate(&context, r, out);
  }

  static server::ServerApp* app_;
  static std::shared_ptr<grpc::Channel>* channel_;
};

server::ServerApp* ClassifierGuidanceE2eTest::app_ = nullptr;
std::shared_ptr<grpc::Channel>* ClassifierGuidanceE2eTest::channel_ = nullptr;

TEST_F(ClassifierGuidanceE2eTest, ListModelsSaysWhichModelHasAClassifier) {
  grpc::ClientContext context;
  v1::ListModelsResponse models;
  ASSERT_TRUE(Stub()->ListModels(&context, v1::ListModelsRequest(), &models).ok());
  ASSERT_EQ(models.models_size(), 2);
  EXPECT_EQ(models.models(0).name(), "guided");
  EXPECT_TRUE(models.models(0).has_classifier());
  EXPECT_EQ(models.models(1).name(), "plain");
  EXPECT_FALSE(models.models(1).has_classifier());
}

TEST_F(ClassifierGuidanceE2eTest, AGuidedRequestIsTheSameAloneAndBatchedWithOtherRequests) {
  const v1::GenerateRequest target = Guided(42, 8.0f, 3.0f, v1::EULER, 8);
  v1::GenerateResponse alone;
  grpc::Status status = Generate(target, &alone);
  ASSERT_TRUE(status.ok()) << status.error_message();
  ASSERT_EQ(alone.images_size(), 1);

  // Other requests (guided with other scales and samplers, and unguided) started first, so the
  // target joins their UNet batches.
  std::vector<std::thread> others;
  std::atomic<int> started{0}, ok{0};
  std::vector<std::string> failures(4);
  const float scales[] = {0.0f, 2.0f, 20.0f, 0.0f};
  const v1::Sampler samplers[] = {v1::DDIM, v1::DDPM, v1::DPMPP_2M, v1::EULER_ANCESTRAL};
  for (int i = 0; i < 4; ++i) {
    others.emplace_back([&, i] {
      v1::GenerateRequest r =
          Guided(100 + i, scales[i], i % 2 == 0 ? 1.0f : 4.0f, samplers[i], 12 + 2 * i);
      // A generous deadline: this machine may be busy (the default helper allows 60 s).
      grpc::ClientContext context;
      context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(240));
      StreamResult result = RunStream(*Stub(), r, &context, [&](const v1::GenerateEvent& e) {
        if (e.has_started()) ++started;
      });
      if (result.status.ok()) {
        ++ok;
      } else {
        failures[static_cast<size_t>(i)] = result.status.error_message();
      }
    });
  }
  const absl::Time give_up = absl::Now() + absl::Seconds(60);
  while (started.load() < 4 && absl::Now() < give_up) absl::SleepFor(absl::Milliseconds(5));
  v1::GenerateResponse batched;
  status = Generate(target, &batched);
  for (auto& t : others) t.join();
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(ok.load(), 4) << failures[0] << " | " << failures[1] << " | " << failures[2] << " | "
                          << failures[3];
  ASSERT_EQ(batched.images_size(), 1);
  EXPECT_GT(batched.timings().batch_rows_max(), 2u) << "it did not share a batch";
  absl::StatusOr<int> diff = MaxPixelDifference(alone.images(0).png(), batched.images(0).png());
  ASSERT_TRUE(diff.ok()) << diff.status();
  EXPECT_LE(*diff, 2) << "max per-channel difference (of 255)";

  // And guidance does something: scale 0 gives another image for the same seed.
  v1::GenerateResponse unguided;
  ASSERT_TRUE(Generate(Guided(42, 0.0f, 3.0f, v1::EULER, 8), &unguided).ok());
  diff = MaxPixelDifference(alone.images(0).png(), unguided.images(0).png());
  ASSERT_TRUE(diff.ok()) << diff.status();
  EXPECT_GT(*diff, 0);
}

TEST_F(ClassifierGuidanceE2eTest, InvalidCombinationsAreRejectedWithClearMessages) {
  v1::GenerateResponse response;
  // A model without a classifier.
  v1::GenerateRequest plain = Guided(1, 2.0f, 1.0f, v1::DDIM, 4);
  plain.set_model("plain");
  plain.set_class_label(1);
  grpc::Status s = Generate(plain, &response);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(s.error_message(), HasSubstr("request cg-1: classifier_scale"));
  EXPECT_THAT(s.error_message(), HasSubstr("has_classifier"));
  // No class to guide towards.
  v1::GenerateRequest no_class = Guided(2, 2.0f, 1.0f, v1::DDIM, 4);
  no_class.clear_class_name();
  s = Generate(no_class, &response);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(s.error_message(), HasSubstr("class label"));
  // Out of range.
  s = Generate(Guided(3, -0.5f, 1.0f, v1::DDIM, 4), &response);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(s.error_message(), HasSubstr("[0, 100]"));
  // The server is still fine.
  EXPECT_TRUE(Generate(Guided(4, 1.0f, 1.0f, v1::DDIM, 2), &response).ok());
}

TEST_F(ClassifierGuidanceE2eTest, DdpmWithAllThousandAncestralStepsThroughTheApi) {
  // DDPM's Algorithm 2: every training timestep, on a scheduler config with leading spacing and
  // steps_offset 1 (the Stable Diffusion setting), at the smallest size to keep it quick.
  v1::GenerateRequest r;
  r.set_model("plain");
  r.set_class_label(2);
  r.set_sampler(v1::DDPM);
  r.set_steps(1000);
  r.set_guidance_scale(1.0f);
  r.set_seed(5);
  r.set_width(32);
  r.set_height(32);
  v1::GenerateResponse response;
  grpc::Status s = Generate(r, &response);
  ASSERT_TRUE(s.ok()) << s.error_message();
  ASSERT_EQ(response.images_size(), 1);
  EXPECT_EQ(response.timings().steps(), 1000u);
  EXPECT_EQ(response.images(0).width(), 32u);
  // Classifier guidance on the full chain as well.
  r.set_model("guided");
  r.set_classifier_scale(1.0f);
  s = Generate(r, &response);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_EQ(response.timings().steps(), 1000u);
  // One more step is out of range.
  r.set_steps(1001);
  s = Generate(r, &response);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(s.error_message(), HasSubstr("steps"));
}

}  // namespace classifier_guidance_e2e_test
}  // namespace ldm::testing
