// Conformance of every sampler against the diffusers 0.27 references in
// fixtures/references/schedulers (see fixtures/README.md, section 3). Every entry of index.json is
// checked; nothing is hard-coded per entry. A missing fixture, a malformed entry, or a scheduler
// class that ldm does not implement fails the test.
#include <ATen/CPUGeneratorImpl.h>
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <algorithm>
#include <iostream>
#include <map>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "core/io/model_config.h"
#include "core/io/safetensors_file.h"
#include "core/sampling/sampler_factory.h"
#include "core/sampling/sampler_kind.h"
#include "tests/testing/fixtures.h"
#include "tests/testing/tensor_matchers.h"

namespace ldm {
namespace sampler_conformance_test {

constexpr double kRtol = 1e-5;  // relative to max|expected| (fixtures README, tolerances)

torch::Tensor ToTensor(const std::vector<double>& v) { return torch::tensor(v, torch::kFloat64); }

class Reference {
 public:
  explicit Reference(std::shared_ptr<const SafeTensorsFile> file) : file_(std::move(file)) {}
  bool Has(const std::string& name) const { return file_->Contains(name); }
  torch::Tensor Get(const std::string& name) const {
    auto t = file_->Get(name);
    EXPECT_TRUE(t.ok()) << t.status();
    return t.ok() ? t->to(torch::kFloat64) : torch::Tensor();
  }
  torch::Tensor GetRaw(const std::string& name) const {
    auto t = file_->Get(name);
    EXPECT_TRUE(t.ok()) << t.status();
    return t.ok() ? *t : torch::Tensor();
  }

 private:
  std::shared_ptr<const SafeTensorsFile> file_;
};

// What the run compared, printed at the end so that a vacuous pass is visible.
struct Stats {
  int entries = 0;
  int schedules = 0;
  int steps = 0;
  int draws = 0;
  double worst_relative = 0;  // max |actual - expected| / max|expected| over prev_sample
  void Record(const torch::Tensor& actual, const torch::Tensor& expected) {
    ++steps;
    const double scale = std::max(1e-12, expected.abs().max().item<double>());
    worst_relative =
        std::max(worst_relative, testing::MaxAbsDiff(actual.to(torch::kFloat64), expected) / scale);
  }
};
Stats g_stats;

// Runs the recorded loop for `n` steps and compares every step.
void CheckLoop(Sampler& sampler, const Reference& ref, const std::string& p,
               const nlohmann::json& loop) {
  const torch::Tensor x0 = ref.GetRaw("x0");
  const torch::Tensor c = ref.GetRaw("c");
  torch::Tensor x = x0 * sampler.init_noise_sigma();
  ASSERT_TRUE(ref.Has(p + "x_init"));
  EXPECT_TRUE(testing::CloseRelativeToMax(x, ref.Get(p + "x_init"), kRtol)) << p << "x_init";
  std::vector<int> draws_per_step;
  if (loop.contains("rng_draws_per_step")) {
    draws_per_step = loop["rng_draws_per_step"].get<std::vector<int>>();
    ASSERT_EQ(static_cast<int>(draws_per_step.size()), sampler.num_model_calls()) << p;
  }
  torch::Generator generator = at::make_generator<at::CPUGeneratorImpl>(0);
  for (int i = 0; i < sampler.num_model_calls(); ++i) {
    const std::string s = absl::StrCat(p, "step", i, ".");
    SCOPED_TRACE(s);
    ASSERT_TRUE(ref.Has(s + "scaled")) << "reference has fewer steps than the sampler's calls";
    torch::Tensor scaled = sampler.ScaleModelInput(x);
    EXPECT_TRUE(testing::CloseRelativeToMax(scaled, ref.Get(s + "scaled"), kRtol)) << "scaled";
    torch::Tensor model_output = 0.1 * scaled + c;
    if (ref.Has(s + "model_output")) {
      EXPECT_TRUE(testing::CloseRelativeToMax(model_output, ref.Get(s + "model_output"), kRtol))
          << "model_output";
    }

    // The draws this step must make: those recorded, reproduced from a copy of the generator.
    int recorded = 0;
    while (ref.Has(absl::StrCat(s, "noise", recorded))) ++recorded;
    if (!draws_per_step.empty()) {
      EXPECT_EQ(recorded, draws_per_step[i]) << "noise tensors";
    }
    g_stats.draws += recorded;
    torch::Generator probe = generator.clone();
    for (int j = 0; j < recorded; ++j) {
      torch::Tensor expected = ref.GetRaw(absl::StrCat(s, "noise", j));
      torch::Tensor drawn = torch::randn(expected.sizes(), probe, torch::kFloat32);
      EXPECT_TRUE(testing::CloseRelativeToMax(drawn, expected, 1e-6))
          << "torch::randn does not reproduce noise" << j;
    }

    auto next = sampler.Step(model_output, x, generator);
    ASSERT_TRUE(next.ok()) << next.status();
    EXPECT_TRUE(torch::equal(generator.get_state(), probe.get_state()))
        << "the step consumed a different number of random draws than diffusers (" << recorded
        << ")";
    const torch::Tensor expected_prev = ref.Get(s + "prev_sample");
    EXPECT_TRUE(testing::CloseRelativeToMax(*next, expected_prev, kRtol)) << "prev_sample";
    g_stats.Record(*next, expected_prev);
    if (ref.Has(s + "pred_original_sample")) {
      ASSERT_TRUE(sampler.pred_original_sample().has_value()) << "no pred_original_sample";
      EXPECT_TRUE(testing::CloseRelativeToMax(*sampler.pred_original_sample(),
                                              ref.Get(s + "pred_original_sample"), kRtol))
          << "pred_original_sample";
    }
    x = *next;
  }
  EXPECT_TRUE(sampler.done());
  EXPECT_FALSE(ref.Has(absl::StrCat(p, "step", sampler.num_model_calls(), ".scaled")))
      << "reference has more steps than the sampler's " << sampler.num_model_calls() << " calls";
}

void CheckEntry(const nlohmann::json& entry, const std::filesystem::path& dir) {
  ASSERT_TRUE(entry.contains("class") && entry["class"].is_string()) << "entry without class";
  ASSERT_TRUE(entry.contains("file") && entry["file"].is_string()) << "entry without file";
  ASSERT_TRUE(entry.contains("config") && entry["config"].is_object()) << "entry without config";
  ASSERT_TRUE(entry.contains("loops") && entry["loops"].is_object() && !entry["loops"].empty())
      << "entry without loops";
  const std::string file = entry["file"].get<std::string>();
  const std::string class_name = entry["class"].get<std::string>();
  const ModelConfig config(entry["config"], absl::StrCat("index.json entry ", file));

  const bool karras = config.GetBool("use_karras_sigmas", false).value_or(false);
  auto kind = SamplerKindForClassName(class_name, karras);
  ASSERT_TRUE(kind.ok()) << "scheduler class " << class_name << " (" << file
                         << ") has no ldm sampler: " << kind.status();
  SamplerOptions options;
  if (entry.contains("step_kwargs") && entry["step_kwargs"].contains("eta")) {
    options.eta = entry["step_kwargs"]["eta"].get<double>();
  }

  auto opened = SafeTensorsFile::Open(dir / file);
  ASSERT_TRUE(opened.ok()) << opened.status();
  const Reference ref(*opened);
  ASSERT_TRUE(ref.Has("alphas_cumprod") && ref.Has("x0") && ref.Has("c")) << file;

  bool checked_alphas = false;
  for (const auto& [n_str, loop] : entry["loops"].items()) {
    const int n = std::stoi(n_str);
    SCOPED_TRACE(absl::StrCat(file, " N=", n));
    auto created = CreateSampler(config, *kind, n, options);
    ASSERT_TRUE(created.ok()) << created.status();
    Sampler& sampler = **created;
    if (!checked_alphas) {
      EXPECT_TRUE(testing::CloseRelativeToMax(ToTensor(sampler.schedule().alphas_cumprod()),
                                              ref.Get("alphas_cumprod"), kRtol))
          << "alphas_cumprod";
      checked_alphas = true;
    }
    const std::string p = absl::StrCat("n", n, ".");
    ASSERT_TRUE(ref.Has(p + "timesteps")) << p << "timesteps missing";
    const torch::Tensor timesteps = ref.Get(p + "timesteps");
    ASSERT_EQ(timesteps.numel(), sampler.num_model_calls()) << "number of model calls";
    if (loop.contains("num_timesteps")) {
      EXPECT_EQ(loop["num_timesteps"].get<int>(), sampler.num_model_calls());
    }
    const torch::Tensor actual_t = ToTensor(sampler.Timesteps());
    if (ref.GetRaw(p + "timesteps").is_floating_point()) {
      EXPECT_TRUE(testing::CloseRelativeToMax(actual_t, timesteps, kRtol)) << "timesteps";
    } else {
      EXPECT_TRUE(torch::equal(actual_t, timesteps))
          << "timesteps " << actual_t << " expected " << timesteps;
    }
    if (ref.Has(p + "sigmas")) {
      EXPECT_TRUE(
          testing::CloseRelativeToMax(ToTensor(sampler.Sigmas()), ref.Get(p + "sigmas"), kRtol))
          << "sigmas";
    }
    ASSERT_TRUE(ref.Has(p + "init_noise_sigma"));
    const double init = ref.Get(p + "init_noise_sigma").item<double>();
    EXPECT_NEAR(sampler.init_noise_sigma(), init, kRtol * std::abs(init)) << "init_noise_sigma";
    if (loop.contains("init_noise_sigma")) {
      EXPECT_NEAR(sampler.init_noise_sigma(), loop["init_noise_sigma"].get<double>(),
                  kRtol * std::abs(init));
    }
    ++g_stats.schedules;
    if (loop.value("loop_recorded", false)) CheckLoop(sampler, ref, p, loop);
  }
}

TEST(SamplerConformanceTest, EveryReferenceEntry) {
  auto root = testing::FixturesDir();
  ASSERT_TRUE(root.ok()) << root.status();
  auto index = testing::ReadFixtureJson("references/schedulers/index.json");
  ASSERT_TRUE(index.ok()) << index.status();
  ASSERT_TRUE(index->contains("entries") && (*index)["entries"].is_array())
      << "index.json has no entries";
  ASSERT_FALSE((*index)["entries"].empty()) << "index.json lists no schedulers";
  if (index->contains("failures")) {
    EXPECT_TRUE((*index)["failures"].empty())
        << "the fixture generator recorded failures: " << (*index)["failures"].dump();
  }
  const std::filesystem::path dir = *root / "references" / "schedulers";
  for (const nlohmann::json& entry : (*index)["entries"]) {
    SCOPED_TRACE(entry.value("file", std::string("?")));
    CheckEntry(entry, dir);
    ++g_stats.entries;
  }
  std::cout << "checked " << g_stats.entries << " entries, " << g_stats.schedules << " schedules, "
            << g_stats.steps << " steps, " << g_stats.draws
            << " random draws; worst prev_sample error " << g_stats.worst_relative
            << " of max|x|\n";
  EXPECT_GT(g_stats.steps, 0);
}

}  // namespace
}  // namespace ldm
