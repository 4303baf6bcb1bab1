// Classifier guidance: the eps shift and its v / x0 forms, alpha_bar per sampler, the classifier
// gradient (against finite differences, per row, under InferenceMode on another thread), and the
// pipeline contract: validation, scale 0 = off, per-row scales in one batch, batch invariance.
#include "core/pipeline/classifier_guidance.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

#include <cmath>
#include <fstream>
#include <thread>

#include "core/pipeline/denoise_job.h"
#include "core/pipeline/pipeline.h"
#include "core/sampling/sampler_factory.h"
#include "tests/testing/fixtures.h"
#include "tests/testing/tensor_matchers.h"
#include "tests/testing/tiny_classifier_model.h"

namespace ldm {
namespace classifier_guidance_test {

using P = NoiseSchedule::PredictionType;

NoisyLatentClassifier TinyClassifier(int classes = 3) {
  NoisyLatentClassifierConfig c;
  c.num_classes = classes;
  c.block_out_channels = {8, 16};
  c.norm_num_groups = 4;
  torch::manual_seed(11);
  NoisyLatentClassifier m(c);
  m->eval();
  for (auto& p : m->parameters()) p.requires_grad_(false);
  return m;
}

TEST(ClassifierGuidanceTest, ShiftsEpsByScaleTimesSqrtOneMinusAlphaBarTimesGradient) {
  torch::Tensor eps = torch::randn({1, 4, 8, 8});
  torch::Tensor grad = torch::randn({1, 4, 8, 8});
  const double ab = 0.3;
  torch::Tensor out = ApplyClassifierGuidance(eps, grad, 2.5, ab, P::kEpsilon);
  EXPECT_TRUE(testing::AllClose(out, eps - 2.5 * std::sqrt(1 - ab) * grad, 1e-6, 1e-6));
  EXPECT_TRUE(
      testing::AllClose(ApplyClassifierGuidance(eps, grad, 0.0, ab, P::kEpsilon), eps, 0, 0));
  EXPECT_THROW(ApplyClassifierGuidance(eps, torch::randn({2, 4, 8, 8}), 1.0, ab, P::kEpsilon),
               c10::Error);
}

TEST(ClassifierGuidanceTest, VAndSamplePredictionsGetTheSameShiftExpressedInTheirOwnTerms) {
  // At a fixed z_t, convert each parameterisation's guided output back to eps: all must agree
  // with the guided eps.
  const double ab = 0.42, s = 3.0;
  const double a = std::sqrt(ab), b = std::sqrt(1 - ab);
  torch::Tensor x0 = torch::randn({1, 4, 8, 8}), eps = torch::randn({1, 4, 8, 8});
  torch::Tensor zt = a * x0 + b * eps;
  torch::Tensor v = a * eps - b * x0;
  torch::Tensor grad = torch::randn({1, 4, 8, 8});
  torch::Tensor eps_hat = ApplyClassifierGuidance(eps, grad, s, ab, P::kEpsilon);
  torch::Tensor v_hat = ApplyClassifierGuidance(v, grad, s, ab, P::kVPrediction);
  torch::Tensor x0_hat = ApplyClassifierGuidance(x0, grad, s, ab, P::kSample);
  // eps from v at z_t: eps = a v + b z_t; eps from x0: (z_t - a x0) / b.
  EXPECT_TRUE(testing::AllClose(a * v_hat + b * zt, eps_hat, 1e-5, 1e-5));
  EXPECT_TRUE(testing::AllClose((zt - a * x0_hat) / b, eps_hat, 1e-5, 1e-5));
}

TEST(ClassifierGuidanceTest, NoShiftAtPureNoiseWhereTheClassIsUnknowable) {
  // Zero terminal SNR: z_T is independent of the class, and a v/x0 shift would divide by
  // sqrt(alpha_bar) = 0. Every parameterisation passes through unchanged below the floor and is
  // guided just above it.
  torch::Tensor out = torch::randn({2, 4, 8, 8}), grad = torch::randn({2, 4, 8, 8});
  for (P p : {P::kEpsilon, P::kVPrediction, P::kSample}) {
    EXPECT_TRUE(torch::equal(ApplyClassifierGuidance(out, grad, 10.0, 0.0, p), out));
    EXPECT_TRUE(torch::equal(
        ApplyClassifierGuidance(out, grad, 10.0, 0.5 * kMinGuidedAlphaCumprod, p), out));
    torch::Tensor guided = ApplyClassifierGuidance(out, grad, 10.0, kMinGuidedAlphaCumprod, p);
    EXPECT_FALSE(torch::equal(guided, out));
    EXPECT_TRUE(torch::isfinite(guided).all().item<bool>());
  }
}

TEST(ClassifierGuidanceTest, AlphaBarOfTheNextCallForDiscreteAndSigmaSamplers) {
  const ModelConfig config(nlohmann::json{{"beta_schedule", "scaled_linear"},
                                          {"beta_start", 0.00085},
                                          {"beta_end", 0.012},
                                          {"steps_offset", 1},
                                          {"skip_prk_steps", true}},
                           "scheduler_config.json");
  for (SamplerKind kind : {SamplerKind::kDdim, SamplerKind::kEuler, SamplerKind::kDdpm,
                           SamplerKind::kDpmpp2m, SamplerKind::kPndm}) {
    SCOPED_TRACE(SamplerKindName(kind));
    LDM_ASSERT_OK_AND_ASSIGN(auto sampler, CreateSampler(config, kind, 10));
    const double t = sampler->current_timestep();
    ASSERT_EQ(t, std::round(t));  // leading spacing: integer timesteps for all of these
    EXPECT_NEAR(CurrentAlphaCumprod(*sampler),
                sampler->schedule().alpha_cumprod(static_cast<int64_t>(t)), 1e-6);
  }
}

TEST(ClassifierGuidanceTest, GradientMatchesFiniteDifferencesOfTheLogLikelihood) {
  NoisyLatentClassifier clf = TinyClassifier();
  torch::Tensor z = torch::randn({1, 4, 4, 4}, torch::kFloat64).to(torch::kFloat32);
  torch::Tensor t = torch::tensor({300.0});
  torch::Tensor y = torch::tensor({2}, torch::kLong);
  LDM_ASSERT_OK_AND_ASSIGN(torch::Tensor g, ClassifierLogProbGradient(clf, z, t, y));
  ASSERT_EQ(g.sizes(), z.sizes());
  auto log_p = [&](const torch::Tensor& x) {
    torch::NoGradGuard no_grad;
    return torch::log_softmax(clf->forward(x, t), 1)[0][2].item<double>();
  };
  const double h = 1e-2;
  for (int64_t k : {0, 17, 40, 63}) {
    torch::Tensor e = torch::zeros_like(z).view({-1});
    e[k] = h;
    const double fd = (log_p(z + e.view(z.sizes())) - log_p(z - e.view(z.sizes()))) / (2 * h);
    EXPECT_NEAR(g.view({-1})[k].item<double>(), fd, 2e-3 + 0.05 * std::abs(fd)) << "element " << k;
  }
}

TEST(ClassifierGuidanceTest, RowsAreIndependentAndItWorksUnderInferenceModeOnAWorkerThread) {
  NoisyLatentClassifier clf = TinyClassifier();
  torch::Tensor z = torch::randn({3, 4, 8, 8});
  torch::Tensor t = torch::tensor({10.0, 400.0, 800.0});
  torch::Tensor y = torch::tensor({0, 1, 2}, torch::kLong);
  LDM_ASSERT_OK_AND_ASSIGN(torch::Tensor all, ClassifierLogProbGradient(clf, z, t, y));
  LDM_ASSERT_OK_AND_ASSIGN(
      torch::Tensor one,
      ClassifierLogProbGradient(clf, z.narrow(0, 1, 1), t.narrow(0, 1, 1), y.narrow(0, 1, 1)));
  EXPECT_TRUE(testing::AllClose(all.narrow(0, 1, 1), one, 1e-5, 1e-6));

  // As the server runs it: a worker thread inside InferenceMode with inference-tensor inputs and
  // grad mode off.
  absl::StatusOr<torch::Tensor> threaded = absl::InternalError("not run");
  std::thread worker([&] {
    c10::InferenceMode inference;
    torch::NoGradGuard no_grad;
    torch::Tensor zi = z.clone(), ti = t.clone(), yi = y.clone();  // inference tensors
    threaded = ClassifierLogProbGradient(clf, zi, ti, yi);
  });
  worker.join();
  ASSERT_TRUE(threaded.ok()) << threaded.status();
  EXPECT_TRUE(testing::AllClose(*threaded, all, 1e-6, 1e-6));
  EXPECT_GT(all.abs().max().item<double>(), 0.0);
}

TEST(ClassifierGuidanceTest, BadInputsAreInvalidArgument) {
  NoisyLatentClassifier clf = TinyClassifier();
  torch::Tensor z = torch::randn({2, 4, 8, 8});
  EXPECT_EQ(ClassifierLogProbGradient(clf, z, torch::tensor({1.0, 2.0}),
                                      torch::tensor({0, 3}, torch::kLong))
                .status()
                .code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(
      ClassifierLogProbGradient(clf, z, torch::tensor({1.0}), torch::tensor({0, 1}, torch::kLong))
          .status()
          .code(),
      absl::StatusCode::kInvalidArgument);
}

// ---------------------------------------------------------------------------------------------
// Through the pipeline, on a copy of the ldm-cond-tiny fixture (10 class embeddings) with a
// random classifier and a null class (9), so 9 usable classes.

class PipelineClassifierGuidanceTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    auto fixtures = testing::FixturesDir();
    ASSERT_TRUE(fixtures.ok()) << fixtures.status();
    plain_dir_ = new std::filesystem::path(*fixtures / "models" / "ldm-cond-tiny");
    guided_dir_ = new std::filesystem::path(testing::TempDir("classifier_guidance") / "model");
    LDM_ASSERT_OK(testing::CopyModelWithRandomClassifier(*plain_dir_, *guided_dir_, 4, 10, 5));
    std::ofstream(*guided_dir_ / "ldm_model.json") << R"({"null_class_label": 9})";
  }
  static void TearDownTestSuite() {
    delete plain_dir_;
    delete guided_dir_;
  }

  static JobSpec Spec(const std::string& id, double classifier_scale, const std::string& sampler,
                      double guidance, uint64_t seed) {
    JobSpec s;
    s.request_id = id;
    s.class_label = 3;
    s.classifier_scale = classifier_scale;
    s.sampler = sampler;
    s.guidance_scale = guidance;
    s.steps = 4;
    s.seed = seed;
    return s;
  }
  static torch::Tensor RunAlone(Pipeline& p, const JobSpec& spec) {
    auto job = p.CreateJob(spec);
    EXPECT_TRUE(job.ok()) << job.status();
    if (!job.ok()) return {};
    Job* batch[] = {job->get()};
    while (!(*job)->done()) EXPECT_TRUE(p.Step(absl::MakeSpan(batch))[0].ok());
    return static_cast<DenoiseJob*>(job->get())->latents.clone();
  }

  static std::filesystem::path* plain_dir_;
  static std::filesystem::path* guided_dir_;
};

std::filesystem::path* PipelineClassifierGuidanceTest::plain_dir_ = nullptr;
std::filesystem::path* PipelineClassifierGuidanceTest::guided_dir_ = nullptr;

TEST_F(PipelineClassifierGuidanceTest, ModelsReportWhetherTheyHaveAClassifier) {
  LDM_ASSERT_OK_AND_ASSIGN(auto guided, Pipeline::Load(*guided_dir_));
  LDM_ASSERT_OK_AND_ASSIGN(auto plain, Pipeline::Load(*plain_dir_));
  EXPECT_TRUE(guided->info().has_classifier);
  EXPECT_FALSE(plain->info().has_classifier);
  EXPECT_TRUE(static_cast<bool>(guided->classifier()));
  EXPECT_FALSE(static_cast<bool>(plain->classifier()));
  // The classifier's parameters are normal tensors (they can be saved for backward).
  EXPECT_FALSE(guided->classifier()->parameters().front().is_inference());
}

TEST_F(PipelineClassifierGuidanceTest, InvalidCombinationsAreRejectedNamingTheField) {
  LDM_ASSERT_OK_AND_ASSIGN(auto guided, Pipeline::Load(*guided_dir_));
  LDM_ASSERT_OK_AND_ASSIGN(auto plain, Pipeline::Load(*plain_dir_));
  auto expect_invalid = [](const absl::Status& s, const std::string& what) {
    EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument) << s;
    EXPECT_NE(s.message().find("request r: classifier_scale"), std::string::npos) << s;
    EXPECT_NE(s.message().find(what), std::string::npos) << s;
  };
  expect_invalid(plain->CreateJob(Spec("r", 2.0, "ddim", 1.0, 1)).status(), "has_classifier");
  JobSpec no_class = Spec("r", 2.0, "ddim", 1.0, 1);
  no_class.class_label.reset();
  expect_invalid(guided->CreateJob(no_class).status(), "class label");
  expect_invalid(guided->CreateJob(Spec("r", -1.0, "ddim", 1.0, 1)).status(), "[0, 100]");
  expect_invalid(guided->CreateJob(Spec("r", NAN, "ddim", 1.0, 1)).status(), "[0, 100]");
  // Without a class and with scale 0 the request is fine.
  no_class.classifier_scale = 0;
  LDM_EXPECT_OK(guided->CreateJob(no_class));
}

TEST_F(PipelineClassifierGuidanceTest, ScaleZeroIsOffAndAPositiveScaleChangesTheSample) {
  LDM_ASSERT_OK_AND_ASSIGN(auto guided, Pipeline::Load(*guided_dir_));
  LDM_ASSERT_OK_AND_ASSIGN(auto plain, Pipeline::Load(*plain_dir_));
  JobSpec off = Spec("off", 0.0, "ddim", 1.0, 7);
  JobSpec off_plain = off;
  off_plain.class_label = 3;
  EXPECT_TRUE(testing::AllClose(RunAlone(*guided, off), RunAlone(*plain, off_plain), 0, 0));
  torch::Tensor on = RunAlone(*guided, Spec("on", 20.0, "ddim", 1.0, 7));
  EXPECT_GT((on - RunAlone(*guided, off)).abs().max().item<double>(), 1e-4);
}

TEST_F(PipelineClassifierGuidanceTest, PerRowScalesShareOneBatchAndMatchRunningAlone) {
  LDM_ASSERT_OK_AND_ASSIGN(auto p, Pipeline::Load(*guided_dir_));
  // Guided and unguided jobs, with and without CFG, different samplers, in one batch, stepped on
  // a worker thread as the server does.
  std::vector<JobSpec> specs = {Spec("a", 10.0, "ddim", 1.0, 1), Spec("b", 0.0, "euler", 3.0, 2),
                                Spec("c", 4.0, "euler", 3.0, 3), Spec("d", 0.0, "ddpm", 1.0, 4),
                                Spec("e", 25.0, "dpmpp_2m", 2.0, 5)};
  std::vector<torch::Tensor> batched(specs.size());
  std::thread worker([&] {
    std::vector<std::unique_ptr<Job>> jobs;
    std::vector<Job*> ptrs;
    for (const auto& s : specs) {
      auto job = p->CreateJob(s);
      ASSERT_TRUE(job.ok()) << job.status();
      ptrs.push_back(job->get());
      jobs.push_back(*std::move(job));
    }
    while (!ptrs.front()->done()) {
      for (const absl::Status& s : p->Step(absl::MakeSpan(ptrs))) ASSERT_TRUE(s.ok()) << s;
    }
    for (size_t i = 0; i < jobs.size(); ++i) {
      batched[i] = static_cast<DenoiseJob*>(jobs[i].get())->latents.clone();
    }
  });
  worker.join();
  for (size_t i = 0; i < specs.size(); ++i) {
    SCOPED_TRACE(specs[i].request_id);
    ASSERT_TRUE(batched[i].defined());
    EXPECT_TRUE(testing::AllClose(batched[i], RunAlone(*p, specs[i]), 1e-4, 1e-4));
  }
}

}  // namespace classifier_guidance_test
}  // namespace ldm
