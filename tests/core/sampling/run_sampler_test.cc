#include "core/sampling/run_sampler.h"

#include <ATen/CPUGeneratorImpl.h>
#include <cmath>
#include <gtest/gtest.h>
#include <torch/torch.h>

#include "absl/strings/str_cat.h"
#include "core/sampling/sampler_factory.h"
#include "tests/core/sampling/sampling_test_configs.h"
#include "tests/testing/tensor_matchers.h"

namespace ldm {
namespace run_sampler_test {

using testing::Sd15SchedulerConfig;

torch::Generator Gen(uint64_t seed) { return at::make_generator<at::CPUGeneratorImpl>(seed); }

// A fake model, elementwise so that a batched call equals per-row calls.
torch::Tensor FakeModel(const torch::Tensor& input, const torch::Tensor& c,
                        const torch::Tensor& timestep_per_row) {
  return 0.1 * input + c + 1e-3 * timestep_per_row.view({-1, 1, 1, 1});
}

struct Job {
  std::unique_ptr<Sampler> sampler;
  torch::Generator generator;
  torch::Tensor x;
  torch::Tensor c;
};

Job MakeJob(SamplerKind kind, int steps, uint64_t seed) {
  Job job{CreateSampler(Sd15SchedulerConfig(), kind, steps, {}).value(), Gen(seed), {}, {}};
  job.x = torch::randn({1, 4, 4, 4}, job.generator) * job.sampler->init_noise_sigma();
  job.c = torch::randn({1, 4, 4, 4}, job.generator);
  return job;
}

torch::Tensor RunAlone(SamplerKind kind, int steps, uint64_t seed) {
  Job job = MakeJob(kind, steps, seed);
  DenoiseFn denoise = [&](const torch::Tensor& in, double t) -> absl::StatusOr<torch::Tensor> {
    return FakeModel(in, job.c, torch::full({1}, t, torch::kFloat32));
  };
  auto out = RunSampler(*job.sampler, denoise, job.x, job.generator);
  EXPECT_TRUE(out.ok()) << out.status();
  EXPECT_TRUE(job.sampler->done());
  return out.ok() ? *out : torch::Tensor();
}

// Two jobs share each model call, as the server's batch does: rows are concatenated, the model
// runs once, and each job steps its own slice with its own generator.
TEST(RunSamplerTest, JobsWithDifferentSamplersAndStepsDoNotInterfere) {
  const std::vector<SamplerKind>& kinds = AllSamplerKinds();
  for (SamplerKind a_kind : kinds) {
    for (SamplerKind b_kind : kinds) {
      SCOPED_TRACE(absl::StrCat(SamplerKindName(a_kind), " + ", SamplerKindName(b_kind)));
      Job a = MakeJob(a_kind, 7, 1);
      Job b = MakeJob(b_kind, 4, 2);
      while (!a.sampler->done() || !b.sampler->done()) {
        std::vector<Job*> active;
        for (Job* job : {&a, &b}) {
          if (!job->sampler->done()) active.push_back(job);
        }
        std::vector<torch::Tensor> inputs, cs, ts;
        for (Job* job : active) {
          inputs.push_back(job->sampler->ScaleModelInput(job->x));
          cs.push_back(job->c);
          ts.push_back(torch::full({1}, job->sampler->current_timestep(), torch::kFloat32));
        }
        torch::Tensor out = FakeModel(torch::cat(inputs), torch::cat(cs), torch::cat(ts));
        for (size_t i = 0; i < active.size(); ++i) {
          auto next =
              active[i]->sampler->Step(out.slice(0, i, i + 1), active[i]->x, active[i]->generator);
          ASSERT_TRUE(next.ok()) << next.status();
          active[i]->x = *next;
        }
      }
      EXPECT_TRUE(testing::AllClose(a.x, RunAlone(a_kind, 7, 1), 1e-6, 1e-6));
      EXPECT_TRUE(testing::AllClose(b.x, RunAlone(b_kind, 4, 2), 1e-6, 1e-6));
    }
  }
}

TEST(RunSamplerTest, DdpmWithAllThousandSteps) {
  // DDPMScheduler's own defaults (linear betas, steps_offset 0): timesteps 999 .. 0.
  const ModelConfig config(nlohmann::json::parse(R"({"_class_name": "DDPMScheduler"})"),
                           "ddpm.json");
  LDM_ASSERT_OK_AND_ASSIGN(auto sampler, CreateSampler(config, SamplerKind::kDdpm, 1000));
  ASSERT_EQ(sampler->num_model_calls(), 1000);
  EXPECT_EQ(sampler->Timesteps().front(), 999);
  EXPECT_EQ(sampler->Timesteps().back(), 0);
  torch::Generator gen = Gen(3);
  torch::Tensor x = torch::randn({1, 3, 8, 8}, gen);
  torch::Tensor target = torch::full({1, 3, 8, 8}, 0.5);
  // The exact epsilon for a point mass at `target`: the sampler must land on it.
  DenoiseFn denoise = [&](const torch::Tensor& in, double t) -> absl::StatusOr<torch::Tensor> {
    const double ab = sampler->schedule().alpha_cumprod(static_cast<int64_t>(t));
    return (in - std::sqrt(ab) * target) / std::sqrt(1 - ab);
  };
  LDM_ASSERT_OK_AND_ASSIGN(torch::Tensor out, RunSampler(*sampler, denoise, x, gen));
  EXPECT_TRUE(torch::isfinite(out).all().item<bool>());
  EXPECT_TRUE(testing::AllClose(out, target, 1e-3));
}

// The shipped toy-shapes recipe (Lin et al. 2024): betas rescaled to zero terminal SNR,
// v-prediction, trailing timesteps, so the first call is at t = 999 where alpha_bar is exactly 0
// (Euler and DPM-Solver floor it to 2^-24; PNDM, like diffusers' PNDMScheduler, has no
// rescale_betas_zero_snr and keeps SD's betas). With the exact v of a point mass every sampler
// must land on it, finitely; DDIM and PNDM (set_alpha_to_one false) stop at t = 0's noise level,
// on the deterministic trajectory's sqrt(ab_0) x0 + sqrt(1 - ab_0) eps.
TEST(RunSamplerTest, EverySamplerLandsOnAPointMassWithZeroTerminalSnrAndVPrediction) {
  const ModelConfig config = testing::WithOverrides(
      Sd15SchedulerConfig(), {{"rescale_betas_zero_snr", true},
                              {"prediction_type", "v_prediction"},
                              {"timestep_spacing", "trailing"},
                              {"steps_offset", 0}});
  const torch::Tensor target = torch::full({1, 4, 4, 4}, 0.5);
  for (SamplerKind kind : AllSamplerKinds()) {
    SCOPED_TRACE(SamplerKindName(kind));
    LDM_ASSERT_OK_AND_ASSIGN(auto sampler, CreateSampler(config, kind, 25));
    torch::Generator gen = Gen(5);
    torch::Tensor x = torch::randn({1, 4, 4, 4}, gen) * sampler->init_noise_sigma();
    DenoiseFn denoise = [&](const torch::Tensor& in, double t) -> absl::StatusOr<torch::Tensor> {
      // `in` is the variance-preserving x_t for every sampler (Euler's ScaleModelInput included).
      const double sigma = sampler->schedule().InterpolateSigma(t);
      const double ab = std::isinf(sigma) ? 0.0 : 1.0 / (1.0 + sigma * sigma);
      const torch::Tensor eps = (in - std::sqrt(ab) * target) / std::sqrt(1.0 - ab);
      return std::sqrt(ab) * eps - std::sqrt(1.0 - ab) * target;
    };
    LDM_ASSERT_OK_AND_ASSIGN(torch::Tensor out, RunSampler(*sampler, denoise, x, gen));
    EXPECT_TRUE(torch::isfinite(out).all().item<bool>());
    torch::Tensor expected = target;
    if (kind == SamplerKind::kDdim || kind == SamplerKind::kPndm) {
      const double ab_first = sampler->schedule().alpha_cumprod(999);
      const double ab0 = sampler->schedule().alpha_cumprod(0);
      const torch::Tensor eps = (x - std::sqrt(ab_first) * target) / std::sqrt(1.0 - ab_first);
      expected = std::sqrt(ab0) * target + std::sqrt(1.0 - ab0) * eps;
    }
    // PLMS's Heun-like start and Adams-Bashforth steps are not exact even here: looser for pndm.
    const double tol = kind == SamplerKind::kPndm ? 2e-2 : 1e-3;
    EXPECT_TRUE(testing::AllClose(out, expected, tol, tol));
  }
}

TEST(RunSamplerTest, DenoiseErrorsPropagate) {
  LDM_ASSERT_OK_AND_ASSIGN(auto sampler,
                           CreateSampler(Sd15SchedulerConfig(), SamplerKind::kEuler, 3));
  torch::Generator gen = Gen(0);
  int calls = 0;
  DenoiseFn failing = [&](const torch::Tensor& in, double) -> absl::StatusOr<torch::Tensor> {
    if (++calls == 2) return absl::UnavailableError("model went away");
    return in;
  };
  auto out = RunSampler(*sampler, failing, torch::zeros({1, 4, 2, 2}), gen);
  EXPECT_EQ(out.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(sampler->calls_done(), 1);
  DenoiseFn wrong_shape = [&](const torch::Tensor&, double) -> absl::StatusOr<torch::Tensor> {
    return torch::zeros({2, 2});
  };
  EXPECT_EQ(RunSampler(*sampler, wrong_shape, torch::zeros({1, 4, 2, 2}), gen).status().code(),
            absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace ldm
