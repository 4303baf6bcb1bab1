// ImageGenerationService over real gRPC on localhost with FakeEngines: ListModels, every
// validation error (code + field + range), NOT_FOUND, RESOURCE_EXHAUSTED, UNAVAILABLE.
#include "server/rpc/image_generation_service.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <functional>
#include <thread>

#include "core/io/png_codec.h"
#include "tests/server/rpc/rpc_test_server.h"

namespace ldm::testing {
namespace {

using ::testing::HasSubstr;

grpc::Status Unary(v1::ImageGeneration::Stub& stub, const v1::GenerateRequest& request,
                   v1::GenerateResponse* response = nullptr) {
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(30));
  v1::GenerateResponse ignored;
  return stub.Generate(&context, request, response != nullptr ? response : &ignored);
}

TEST(ImageGenerationServiceTest, ListModelsDescribesEveryModelDefaultFirst) {
  RpcTestOptions options;
  options.models = {"zeta", "alpha"};
  RpcTestServer server(options);
  grpc::ClientContext context;
  v1::ListModelsResponse response;
  ASSERT_TRUE(server.stub().ListModels(&context, v1::ListModelsRequest(), &response).ok());
  ASSERT_EQ(response.models_size(), 2);
  EXPECT_EQ(response.models(0).name(), "zeta");
  EXPECT_TRUE(response.models(0).is_default());
  EXPECT_EQ(response.models(1).name(), "alpha");
  EXPECT_EQ(response.models(1).native_width(), 64u);
  EXPECT_EQ(response.models(1).samplers_size(), 2);
}

struct InvalidCase {
  std::string name;
  std::function<void(v1::GenerateRequest&)> mutate;
  std::string field;  // must appear in the message
  std::string range;  // the allowed range/values, must appear in the message
};

std::string LabelPng(int w, int h, uint8_t label) {
  Image8 img{w, h, 1, std::vector<uint8_t>(static_cast<size_t>(w) * h, label)};
  return *EncodePng(img);
}

std::vector<InvalidCase> InvalidCases() {
  using R = v1::GenerateRequest;
  return {
      {"width_not_multiple", [](R& r) { r.set_width(60); }, "width", "multiple of 8 in [32, 256]"},
      {"width_too_small", [](R& r) { r.set_width(16); }, "width", "[32, 256]"},
      {"height_too_large", [](R& r) { r.set_height(512); }, "height", "[32, 256]"},
      {"steps_too_many", [](R& r) { r.set_steps(1001); }, "steps", "[1, 1000]"},
      {"guidance_negative", [](R& r) { r.set_guidance_scale(-1); }, "guidance_scale", "[0, 30]"},
      {"guidance_too_large", [](R& r) { r.set_guidance_scale(31); }, "guidance_scale", "[0, 30]"},
      {"guidance_nan", [](R& r) { r.set_guidance_scale(std::nanf("")); }, "guidance_scale",
       "[0, 30]"},
      {"num_images_too_many", [](R& r) { r.set_num_images(9); }, "num_images", "[1, 8]"},
      {"prompt_too_long", [](R& r) { r.set_prompt(std::string(2001, 'a')); }, "prompt",
       "at most 2000"},
      {"negative_prompt_too_long", [](R& r) { r.set_negative_prompt(std::string(2001, 'a')); },
       "negative_prompt", "at most 2000"},
      {"clip_skip", [](R& r) { r.set_clip_skip(2); }, "clip_skip", "0 or 1"},
      {"class_label_negative", [](R& r) { r.set_class_label(-1); }, "class_label", "[0, 1]"},
      {"class_label_too_large", [](R& r) { r.set_class_label(2); }, "class_label", "[0, 1]"},
      {"class_name_unknown", [](R& r) { r.set_class_name("blue square"); }, "class_name",
       "red circle, green circle"},
      {"semantic_map_empty", [](R& r) { r.mutable_semantic_map(); }, "semantic_map",
       "exactly one of labels"},
      {"semantic_map_both",
       [](R& r) {
         r.mutable_semantic_map()->set_labels("x");
         r.mutable_semantic_map()->set_png("y");
       },
       "semantic_map", "exactly one of labels"},
      {"semantic_map_labels_size",
       [](R& r) {
         r.mutable_semantic_map()->set_width(8);
         r.mutable_semantic_map()->set_height(8);
         r.mutable_semantic_map()->set_labels(std::string(63, '\0'));
       },
       "semantic_map.labels", "width*height = 64"},
      {"semantic_map_raw_without_size",
       [](R& r) { r.mutable_semantic_map()->set_labels(std::string(64, '\0')); },
       "semantic_map.width", "[1, 16384]"},
      {"semantic_map_wrong_size",
       [](R& r) {
         r.mutable_semantic_map()->set_width(16);
         r.mutable_semantic_map()->set_height(16);
         r.mutable_semantic_map()->set_labels(std::string(256, '\0'));
       },
       "semantic_map", "64x64 (image size) or 8x8 (latent size)"},
      {"semantic_map_label_out_of_range",
       [](R& r) { r.mutable_semantic_map()->set_png(LabelPng(8, 8, 5)); }, "semantic_map.labels",
       "[0, 1]"},
      {"semantic_map_png_garbage", [](R& r) { r.mutable_semantic_map()->set_png("not a png"); },
       "semantic_map.png", "does not decode"},
      {"semantic_map_png_size_mismatch",
       [](R& r) {
         r.mutable_semantic_map()->set_png(LabelPng(8, 8, 0));
         r.mutable_semantic_map()->set_width(16);
       },
       "semantic_map.width", "do not match"},
      {"sampler_not_supported", [](R& r) { r.set_sampler(v1::PNDM); }, "sampler", "DDIM, EULER"},
      {"sampler_undefined", [](R& r) { r.set_sampler(static_cast<v1::Sampler>(42)); }, "sampler",
       "DDIM, EULER"},
      {"eta_with_euler",
       [](R& r) {
         r.set_sampler(v1::EULER);
         r.set_eta(0.5f);
       },
       "eta", "only used by the DDIM sampler"},
      {"eta_out_of_range",
       [](R& r) {
         r.set_sampler(v1::DDIM);
         r.set_eta(1.5f);
       },
       "eta", "[0, 1]"},
      {"preview_every_beyond_steps", [](R& r) { r.set_preview_every(4); }, "preview_every",
       "[0, steps = 3]"},
      {"preview_quality_undefined",
       [](R& r) { r.set_preview_quality(static_cast<v1::PreviewQuality>(7)); }, "preview_quality",
       "FAST (1) or FULL (2)"},
      {"request_id_with_spaces", [](R& r) { r.set_request_id("has spaces"); }, "request_id",
       "printable ASCII"},
  };
}

TEST(ImageGenerationServiceTest, EveryValidationErrorIsInvalidArgumentNamingFieldAndRange) {
  RpcTestServer server;
  for (const InvalidCase& c : InvalidCases()) {
    SCOPED_TRACE(c.name);
    v1::GenerateRequest request = FakeRequest(3);
    request.set_request_id("case-" + c.name);
    c.mutate(request);
    const grpc::Status unary = Unary(server.stub(), request);
    EXPECT_EQ(unary.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << unary.error_message();
    EXPECT_THAT(unary.error_message(), HasSubstr(c.field));
    EXPECT_THAT(unary.error_message(), HasSubstr(c.range));
    if (c.name != "request_id_with_spaces") {
      EXPECT_THAT(unary.error_message(), HasSubstr("request case-" + c.name));
    }
    // The streaming call validates the same way, before any event.
    StreamResult stream = RunStream(server.stub(), request);
    EXPECT_EQ(stream.status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
    EXPECT_TRUE(stream.kinds.empty());
  }
  // Nothing invalid reached the engine.
  EXPECT_EQ(server.engine().step_calls(), 0);
}

TEST(ImageGenerationServiceTest, AValidRequestSucceeds) {
  RpcTestServer server;
  // The baseline for the table above: the same request without the mutation is accepted.
  v1::GenerateRequest ok = FakeRequest(2);
  EXPECT_TRUE(Unary(server.stub(), ok).ok());
}

TEST(ImageGenerationServiceTest, UnknownModelIsNotFound) {
  RpcTestServer server;
  v1::GenerateRequest request = FakeRequest();
  request.set_model("no-such-model");
  const grpc::Status status = Unary(server.stub(), request);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::NOT_FOUND);
  EXPECT_THAT(status.error_message(), HasSubstr("no-such-model"));
  EXPECT_EQ(RunStream(server.stub(), request).status.error_code(), grpc::StatusCode::NOT_FOUND);
}

TEST(ImageGenerationServiceTest, FullQueueIsResourceExhaustedAtOnce) {
  StepGate gate;
  gate.Close();
  RpcTestOptions options;
  options.scheduler.max_queue = 1;
  options.scheduler.max_batch_rows = 1;
  options.gate = &gate;
  RpcTestServer server(options);
  // A: admitted and blocked inside its first step.
  std::thread a([&] { EXPECT_TRUE(RunStream(server.stub(), FakeRequest(2)).status.ok()); });
  const absl::Time give_up = absl::Now() + absl::Seconds(20);
  while (gate.waiting() == 0 && absl::Now() < give_up) absl::SleepFor(absl::Milliseconds(5));
  ASSERT_EQ(gate.waiting(), 1);
  // B: fills the one queue slot.
  std::thread b([&] { EXPECT_TRUE(RunStream(server.stub(), FakeRequest(2)).status.ok()); });
  while (server.scheduler().queue_depth() == 0 && absl::Now() < give_up) {
    absl::SleepFor(absl::Milliseconds(5));
  }
  ASSERT_EQ(server.scheduler().queue_depth(), 1);
  // C: rejected immediately, never a hang.
  const absl::Time t0 = absl::Now();
  const grpc::Status c = Unary(server.stub(), FakeRequest(2));
  EXPECT_EQ(c.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED) << c.error_message();
  EXPECT_LT(absl::Now() - t0, absl::Seconds(2));
  gate.Open();
  a.join();
  b.join();
}

TEST(ImageGenerationServiceTest, EverythingIsUnavailableUntilTheSchedulerIsAttached) {
  RpcTestOptions options;
  options.attach = false;
  RpcTestServer server(options);
  EXPECT_EQ(Unary(server.stub(), FakeRequest()).error_code(), grpc::StatusCode::UNAVAILABLE);
  EXPECT_EQ(RunStream(server.stub(), FakeRequest()).status.error_code(),
            grpc::StatusCode::UNAVAILABLE);
  grpc::ClientContext context;
  v1::ListModelsResponse models;
  EXPECT_EQ(server.stub().ListModels(&context, v1::ListModelsRequest(), &models).error_code(),
            grpc::StatusCode::UNAVAILABLE);
  server.Attach();
  EXPECT_TRUE(Unary(server.stub(), FakeRequest()).ok());
}

TEST(ImageGenerationServiceTest, DrainingSchedulerAnswersUnavailable) {
  RpcTestServer server;
  ASSERT_TRUE(server.scheduler().Drain(absl::Seconds(5)));
  const grpc::Status status = Unary(server.stub(), FakeRequest());
  EXPECT_EQ(status.error_code(), grpc::StatusCode::UNAVAILABLE) << status.error_message();
}

}  // namespace
}  // namespace ldm::testing
