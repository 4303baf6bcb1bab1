#include "core/pipeline/pipeline.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

#include <filesystem>
#include <fstream>

#include "absl/strings/str_cat.h"
#include "core/pipeline/denoise_job.h"
#include "tests/testing/fixtures.h"
#include "tests/testing/tensor_matchers.h"
#include "tests/testing/tiny_sr_model.h"

namespace ldm {
namespace pipeline_test {

std::unique_ptr<Pipeline> LoadVariant(const std::string& variant) {
  auto root = testing::FixturesDir();
  EXPECT_TRUE(root.ok()) << root.status();
  if (!root.ok()) return nullptr;
  auto p = Pipeline::Load(*root / "models" / variant);
  EXPECT_TRUE(p.ok()) << p.status();
  return p.ok() ? *std::move(p) : nullptr;
}

JobSpec Spec(const std::string& id, const std::string& sampler, int steps, double guidance,
             uint64_t seed) {
  JobSpec s;
  s.request_id = id;
  s.prompt = "a red circle";
  s.sampler = sampler;
  s.steps = steps;
  s.guidance_scale = guidance;
  s.seed = seed;
  s.width = s.height = 32;
  return s;
}

torch::Tensor RunAlone(Pipeline& p, const JobSpec& spec) {
  auto job = p.CreateJob(spec).value();
  Job* batch[] = {job.get()};
  while (!job->done()) EXPECT_TRUE(p.Step(absl::MakeSpan(batch))[0].ok());
  return static_cast<DenoiseJob*>(job.get())->latents.clone();
}

TEST(PipelineTest, BatchedJobsWithDifferentSamplersStepsAndGuidanceMatchRunningAlone) {
  auto p = LoadVariant("sd1-tiny");
  ASSERT_NE(p, nullptr);
  std::vector<JobSpec> specs = {Spec("a", "ddim", 4, 7.5, 1),
                                Spec("b", "euler", 6, 1.0, 2),
                                Spec("c", "euler_ancestral", 5, 3.0, 3),
                                Spec("d", "dpmpp_2m_karras", 3, 5.0, 4),
                                Spec("e", "pndm", 4, 1.0, 5),
                                Spec("f", "ddpm", 7, 2.0, 6)};
  // Ancestral DDIM (the shipped model's default eta): its per-step noise is the job's own.
  specs.push_back(Spec("g", "ddim", 5, 5.0, 7));
  specs.back().eta = 1.0;
  std::vector<std::unique_ptr<Job>> jobs;
  for (const auto& s : specs) jobs.push_back(p->CreateJob(s).value());
  // Step whatever is not done yet, all together, until every job finishes.
  while (true) {
    std::vector<Job*> active;
    for (auto& j : jobs) {
      if (!j->done()) active.push_back(j.get());
    }
    if (active.empty()) break;
    for (const auto& s : p->Step(absl::MakeSpan(active))) LDM_ASSERT_OK(s);
  }
  for (size_t i = 0; i < specs.size(); ++i) {
    torch::Tensor alone = RunAlone(*p, specs[i]);
    EXPECT_TRUE(testing::AllClose(static_cast<DenoiseJob*>(jobs[i].get())->latents, alone, 1e-4))
        << specs[i].sampler;
  }
}

// Steps the jobs of `a` (3 steps) and `b` (4 steps) in one batch until `a` is done, then `b`
// alone, and expects each to end with the latents it has when run alone.
void ExpectBatchedLikeAlone(Pipeline& p, Job& ja, const JobSpec& a, Job& jb, const JobSpec& b) {
  ASSERT_EQ(a.steps, 3);
  ASSERT_EQ(b.steps, 4);
  Job* both[] = {&ja, &jb};
  for (int i = 0; i < 3; ++i) {
    for (const auto& s : p.Step(absl::MakeSpan(both))) LDM_ASSERT_OK(s);
  }
  Job* rest[] = {&jb};
  LDM_ASSERT_OK(p.Step(absl::MakeSpan(rest))[0]);
  EXPECT_TRUE(testing::AllClose(static_cast<DenoiseJob&>(ja).latents, RunAlone(p, a), 1e-4));
  EXPECT_TRUE(testing::AllClose(static_cast<DenoiseJob&>(jb).latents, RunAlone(p, b), 1e-4));
}

TEST(PipelineTest, ClassAndMapConditioningBatchesToo) {
  auto p = LoadVariant("ldm-cond-tiny");
  ASSERT_NE(p, nullptr);
  EXPECT_TRUE(p->info().supports_class);
  EXPECT_TRUE(p->info().supports_semantic_map);
  EXPECT_EQ(p->info().semantic_channels, 6);
  JobSpec a = Spec("a", "ddim", 3, 7.5, 1);
  a.class_label = 3;
  JobSpec b = Spec("b", "euler", 4, 1.0, 2);
  b.class_label = 7;
  LabelMap map{32, 32, std::vector<uint8_t>(32 * 32, 0)};
  for (int y = 8; y < 24; ++y) {
    for (int x = 8; x < 24; ++x) map.labels[y * 32 + x] = 5;
  }
  b.semantic_map = map;  // at image resolution: area-downsampled to the 16x16 latents
  auto ja = p->CreateJob(a).value();
  auto jb = p->CreateJob(b).value();
  ExpectBatchedLikeAlone(*p, *ja, a, *jb, b);
}

TEST(PipelineTest, StepThreadsSplitUNetAndVaeBatchesWithTheSameResults) {
  auto root = testing::FixturesDir();
  ASSERT_TRUE(root.ok()) << root.status();
  PipelineOptions split_options;
  split_options.step_threads = 3;
  auto split = Pipeline::Load(*root / "models" / "ldm-cond-tiny", split_options);
  ASSERT_TRUE(split.ok()) << split.status();
  auto whole = LoadVariant("ldm-cond-tiny");
  ASSERT_NE(whole, nullptr);
  JobSpec a = Spec("a", "ddim", 3, 7.5, 1);  // 2 rows (CFG)
  a.class_label = 3;
  JobSpec b = Spec("b", "euler", 3, 1.0, 2);  // 1 row
  b.class_label = 5;
  b.semantic_map = LabelMap{32, 32, std::vector<uint8_t>(32 * 32, 2)};
  JobSpec c = Spec("c", "dpmpp_2m", 3, 3.0, 3);  // 2 rows
  c.class_label = 0;
  auto run = [&](Pipeline& p) {
    std::vector<std::unique_ptr<Job>> jobs;
    for (const JobSpec& s : {a, b, c}) jobs.push_back(p.CreateJob(s).value());
    std::vector<Job*> ptrs;
    for (auto& j : jobs) ptrs.push_back(j.get());
    while (!ptrs.front()->done()) {
      for (const auto& s : p.Step(absl::MakeSpan(ptrs))) EXPECT_TRUE(s.ok()) << s;
    }
    std::vector<torch::Tensor> latents;
    for (Job* j : ptrs) latents.push_back(static_cast<DenoiseJob*>(j)->latents.clone());
    auto decoded = p.DecodeToTensor(torch::cat(latents, 0));
    EXPECT_TRUE(decoded.ok()) << decoded.status();
    return std::make_pair(latents, decoded.ok() ? *decoded : torch::Tensor());
  };
  const auto [split_latents, split_images] = run(**split);
  const auto [whole_latents, whole_images] = run(*whole);
  for (size_t i = 0; i < split_latents.size(); ++i) {
    EXPECT_TRUE(testing::AllClose(split_latents[i], whole_latents[i], 1e-4)) << "job " << i;
  }
  ASSERT_TRUE(split_images.defined() && whole_images.defined());
  EXPECT_EQ(split_images.sizes(), whole_images.sizes());
  EXPECT_TRUE(testing::AllClose(split_images, whole_images, 1e-4));
}

TEST(PipelineTest, DecodeLatentPaddingDecodesAnEdgeReplicatedMarginAndCropsIt) {
  auto root = testing::FixturesDir();
  ASSERT_TRUE(root.ok()) << root.status();
  const std::filesystem::path padded_dir = testing::TempDir("pipeline_decode_padding") / "model";
  std::filesystem::remove_all(padded_dir);
  std::filesystem::copy(*root / "models" / "ldm-cond-tiny", padded_dir,
                        std::filesystem::copy_options::recursive);
  std::ofstream(padded_dir / "ldm_model.json") << R"({"decode_latent_padding": 2})";
  auto padded = Pipeline::Load(padded_dir);
  ASSERT_TRUE(padded.ok()) << padded.status();
  auto plain = LoadVariant("ldm-cond-tiny");
  ASSERT_NE(plain, nullptr);
  ASSERT_EQ(plain->extras().decode_latent_padding, 0);

  torch::manual_seed(7);
  const torch::Tensor z = torch::randn({2, 4, 16, 16});  // f = 2: 32x32 images
  LDM_ASSERT_OK_AND_ASSIGN(torch::Tensor with_margin, (*padded)->DecodeToTensor(z));
  LDM_ASSERT_OK_AND_ASSIGN(torch::Tensor without, plain->DecodeToTensor(z));
  EXPECT_EQ(with_margin.sizes(), torch::IntArrayRef({2, 3, 32, 32}));  // same size as without
  EXPECT_EQ(without.sizes(), with_margin.sizes());
  // The margin is 2 latent cells copied from the border, i.e. 4 pixels cropped on each side.
  namespace F = torch::nn::functional;
  const torch::Tensor z_margin = F::pad(z, F::PadFuncOptions({2, 2, 2, 2}).mode(torch::kReplicate));
  LDM_ASSERT_OK_AND_ASSIGN(torch::Tensor big, plain->DecodeToTensor(z_margin));
  ASSERT_EQ(big.size(2), 40);
  EXPECT_TRUE(testing::AllClose(with_margin, big.slice(2, 4, 36).slice(3, 4, 36), 1e-5));
  EXPECT_FALSE(testing::AllClose(with_margin, without, 1e-3));
  // Images through Decode (the server's path) get the margin too.
  JobSpec spec = Spec("m", "ddim", 2, 1.0, 3);
  spec.class_label = 3;  // the fixture's class embedding has no null class
  auto job = (*padded)->CreateJob(spec).value();
  Job* batch[] = {job.get()};
  while (!job->done()) ASSERT_TRUE((*padded)->Step(absl::MakeSpan(batch))[0].ok());
  auto images = (*padded)->Decode(absl::MakeSpan(batch));
  ASSERT_TRUE(images[0].ok()) << images[0].status();
  EXPECT_EQ(images[0]->width, 32);
  EXPECT_EQ(images[0]->height, 32);
}

TEST(PipelineTest, SameSeedSameImageDifferentSeedDifferentImage) {
  auto p = LoadVariant("sd1-tiny");
  ASSERT_NE(p, nullptr);
  GenerateOptions o;
  o.spec = Spec("g", "euler_ancestral", 3, 5.0, 42);
  o.num_images = 2;
  LDM_ASSERT_OK_AND_ASSIGN(auto two, p->Generate(o));
  ASSERT_EQ(two.size(), 2u);
  EXPECT_EQ(two[0].width, 32);
  EXPECT_EQ(two[0].channels, 3);
  EXPECT_NE(two[0].pixels, two[1].pixels);
  o.spec.seed = 43;  // image 1 of the first call
  o.num_images = 1;
  LDM_ASSERT_OK_AND_ASSIGN(auto one, p->Generate(o));
  // Same image alone as in the batch, up to float reordering (at most 1/255 per channel).
  ASSERT_EQ(one[0].pixels.size(), two[1].pixels.size());
  int max_diff = 0;
  for (size_t i = 0; i < one[0].pixels.size(); ++i) {
    max_diff = std::max(max_diff, std::abs(int(one[0].pixels[i]) - int(two[1].pixels[i])));
  }
  EXPECT_LE(max_diff, 1);
  LDM_ASSERT_OK_AND_ASSIGN(auto again, p->Generate(o));
  EXPECT_EQ(again[0].pixels, one[0].pixels);  // alone twice: bit-identical
}

TEST(PipelineTest, PreviewsWithoutProjectionFactorsFallBackToADecode) {
  auto p = LoadVariant("sd1-tiny");
  ASSERT_NE(p, nullptr);
  auto job = p->CreateJob(Spec("p", "ddim", 2, 1.0, 1)).value();
  LDM_ASSERT_OK_AND_ASSIGN(Image8 fast, p->Preview(*job, PreviewQuality::kFast));
  EXPECT_EQ(fast.width, 32);
  LDM_ASSERT_OK_AND_ASSIGN(Image8 full, p->Preview(*job, PreviewQuality::kFull));
  EXPECT_EQ(full.height, 32);
}

struct BadSpecCase {
  std::string name;
  std::function<void(JobSpec&)> mutate;
  std::string field;
};

TEST(PipelineTest, InvalidSpecsNameTheRequestAndTheField) {
  auto p = LoadVariant("ldm-cond-tiny");
  ASSERT_NE(p, nullptr);
  std::vector<BadSpecCase> cases = {
      {"width not multiple", [](JobSpec& s) { s.width = 33; }, "width"},
      {"height too large", [](JobSpec& s) { s.height = 1 << 14; }, "height"},
      {"steps 0", [](JobSpec& s) { s.steps = 0; }, "steps"},
      {"steps 1001", [](JobSpec& s) { s.steps = 1001; }, "steps"},
      {"guidance", [](JobSpec& s) { s.guidance_scale = 31; }, "guidance_scale"},
      {"sampler", [](JobSpec& s) { s.sampler = "lms"; }, "sampler"},
      {"class range", [](JobSpec& s) { s.class_label = 10; }, "class_label"},
      {"class missing", [](JobSpec& s) { s.class_label.reset(); }, "class_label"},
      {"map size",
       [](JobSpec& s) {
         s.semantic_map = LabelMap{5, 5, std::vector<uint8_t>(25)};
       },
       "semantic_map"},
      {"map labels",
       [](JobSpec& s) {
         s.semantic_map = LabelMap{16, 16, std::vector<uint8_t>(256, 6)};
       },
       "semantic_map.labels"},
      {"map bytes",
       [](JobSpec& s) {
         s.semantic_map = LabelMap{16, 16, std::vector<uint8_t>(10)};
       },
       "semantic_map.labels"},
      {"eta", [](JobSpec& s) { s.eta = -1; }, "eta"},
  };
  for (const auto& c : cases) {
    JobSpec s = Spec("req-7", "ddim", 4, 5.0, 1);
    s.class_label = 1;
    c.mutate(s);
    auto r = p->CreateJob(s);
    ASSERT_FALSE(r.ok()) << c.name;
    EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument)
        << c.name << ": " << r.status();
    EXPECT_NE(r.status().message().find("request req-7"), std::string::npos) << r.status();
    EXPECT_NE(r.status().message().find(c.field), std::string::npos)
        << c.name << ": " << r.status();
  }
}

TEST(PipelineTest, StepRejectsMixedShapesAndFinishedJobsPerJob) {
  auto p = LoadVariant("sd1-tiny");
  ASSERT_NE(p, nullptr);
  JobSpec big = Spec("big", "ddim", 1, 1.0, 1);
  big.width = big.height = 64;
  auto a = p->CreateJob(Spec("a", "ddim", 1, 1.0, 1)).value();
  auto b = p->CreateJob(big).value();
  Job* mixed[] = {a.get(), b.get()};
  auto s = p->Step(absl::MakeSpan(mixed));
  EXPECT_TRUE(s[0].ok());
  EXPECT_EQ(s[1].code(), absl::StatusCode::kInvalidArgument);
  Job* done[] = {a.get()};
  EXPECT_EQ(p->Step(absl::MakeSpan(done))[0].code(), absl::StatusCode::kFailedPrecondition);
}

// ---------------------------------------------------------------------------------------------
// Super-resolution (low_res_image conditioning) on a tiny random 4x model.

std::unique_ptr<Pipeline> LoadTinySr(int back_projection = 0, const std::string& init = "noise") {
  const auto dir = testing::TempDir("tiny-sr") / absl::StrCat("model-", back_projection, init);
  EXPECT_TRUE(testing::WriteTinySrModel(dir, back_projection, init).ok());
  auto p = Pipeline::Load(dir);
  EXPECT_TRUE(p.ok()) << p.status();
  return p.ok() ? *std::move(p) : nullptr;
}

// A w x h RGB gradient, different per `salt`.
Image8 LowRes(int w, int h, int salt) {
  Image8 img{w, h, 3, std::vector<uint8_t>(static_cast<size_t>(w) * h * 3)};
  for (size_t i = 0; i < img.pixels.size(); ++i) img.pixels[i] = static_cast<uint8_t>(i * 7 + salt);
  return img;
}

JobSpec SrSpec(const std::string& id, const std::string& sampler, int steps, uint64_t seed,
               int salt) {
  JobSpec s;
  s.request_id = id;
  s.sampler = sampler;
  s.steps = steps;
  s.guidance_scale = 1.0;
  s.seed = seed;
  s.low_res_image = LowRes(16, 16, salt);
  return s;
}

TEST(PipelineTest, SuperResolutionModelReportsItsUpscaleFactorAndTakesNoText) {
  auto p = LoadTinySr();
  ASSERT_NE(p, nullptr);
  const ModelInfo& m = p->info();
  EXPECT_TRUE(m.supports_low_res_image);
  EXPECT_EQ(m.upscale_factor, 4);
  EXPECT_EQ(m.low_res_channels, 12);  // 3 * (8 / 4)^2 pixel-unshuffled channels
  EXPECT_EQ(m.semantic_channels, 0);
  EXPECT_FALSE(m.supports_text);
  EXPECT_FALSE(m.supports_class);
}

TEST(PipelineTest, LowResJobsUpscaleFourTimesAndBatchLikeOtherJobs) {
  auto p = LoadTinySr();
  ASSERT_NE(p, nullptr);
  // Output size follows from the 16x16 input: 64x64 (8x8 latents).
  JobSpec a = SrSpec("a", "ddim", 3, 1, 0), b = SrSpec("b", "euler", 4, 2, 50);
  auto ja = p->CreateJob(a).value();
  auto jb = p->CreateJob(b).value();
  EXPECT_EQ(ja->shape(), (LatentShape{4, 8, 8}));
  Job* both[] = {ja.get(), jb.get()};
  for (int i = 0; i < 3; ++i) {
    for (const auto& s : p->Step(absl::MakeSpan(both))) LDM_ASSERT_OK(s);
  }
  Job* rest[] = {jb.get()};
  LDM_ASSERT_OK(p->Step(absl::MakeSpan(rest))[0]);
  EXPECT_TRUE(
      testing::AllClose(static_cast<DenoiseJob*>(ja.get())->latents, RunAlone(*p, a), 1e-4));
  EXPECT_TRUE(
      testing::AllClose(static_cast<DenoiseJob*>(jb.get())->latents, RunAlone(*p, b), 1e-4));
  Job* done[] = {ja.get()};
  auto images = p->Decode(absl::MakeSpan(done));
  ASSERT_TRUE(images[0].ok()) << images[0].status();
  EXPECT_EQ(images[0]->width, 64);
  EXPECT_EQ(images[0]->height, 64);
  // The low-resolution image is an input: same seed, different image -> different result.
  JobSpec a2 = a;
  a2.low_res_image = LowRes(16, 16, 99);
  EXPECT_FALSE(testing::AllClose(RunAlone(*p, a2), RunAlone(*p, a), 1e-3));
  // Guidance on a model without text keeps the image in both rows: the same result as w = 1.
  JobSpec guided = a;
  guided.guidance_scale = 4.0;
  EXPECT_TRUE(testing::AllClose(RunAlone(*p, guided), RunAlone(*p, a), 1e-4));
}

TEST(PipelineTest, BackProjectingModelsReturnImagesConsistentWithTheirInput) {
  auto raw = LoadTinySr(0), bp = LoadTinySr(10);
  ASSERT_NE(raw, nullptr);
  ASSERT_NE(bp, nullptr);
  GenerateOptions g;
  g.spec = SrSpec("bp", "ddim", 2, 3, 0);
  g.spec.low_res_image = Image8{16, 16, 3, std::vector<uint8_t>(16 * 16 * 3)};
  for (size_t i = 0; i < g.spec.low_res_image->pixels.size(); ++i) {
    g.spec.low_res_image->pixels[i] = static_cast<uint8_t>(60 + (i / 3 % 16) * 8);  // a ramp
  }
  // Mean absolute difference (0..255) between the 4x box-downsampled output and the input.
  auto inconsistency = [&](const Image8& out) {
    double sum = 0;
    for (int y = 0; y < 16; ++y) {
      for (int x = 0; x < 16; ++x) {
        for (int c = 0; c < 3; ++c) {
          double block = 0;
          for (int dy = 0; dy < 4; ++dy) {
            for (int dx = 0; dx < 4; ++dx) {
              block += out.pixels[((y * 4 + dy) * 64 + x * 4 + dx) * 3 + c];
            }
          }
          sum += std::abs(block / 16 - g.spec.low_res_image->pixels[(y * 16 + x) * 3 + c]);
        }
      }
    }
    return sum / (16 * 16 * 3);
  };
  LDM_ASSERT_OK_AND_ASSIGN(auto a, raw->Generate(g));
  LDM_ASSERT_OK_AND_ASSIGN(auto b, bp->Generate(g));
  EXPECT_GT(inconsistency(a[0]), 10.0);  // an untrained model ignores its input
  EXPECT_LT(inconsistency(b[0]), 3.0);
}

TEST(PipelineTest, NoisedInputInitStartsFromTheUpscaledInputAndStillBatches) {
  auto noise = LoadTinySr(0, "noise"), noised = LoadTinySr(0, "noised_input");
  ASSERT_NE(noise, nullptr);
  ASSERT_NE(noised, nullptr);
  JobSpec a = SrSpec("a", "ddim", 3, 1, 0), b = SrSpec("b", "euler", 4, 2, 50);
  auto pure = noise->CreateJob(a).value();
  auto ja = noised->CreateJob(a).value();
  auto again = noised->CreateJob(a).value();
  const torch::Tensor& x0 = static_cast<DenoiseJob*>(ja.get())->latents;
  EXPECT_FALSE(testing::AllClose(x0, static_cast<DenoiseJob*>(pure.get())->latents, 1e-3));
  EXPECT_TRUE(torch::equal(x0, static_cast<DenoiseJob*>(again.get())->latents));  // deterministic
  // Batched with a sigma-space (Euler) job, both end as when run alone.
  auto jb = noised->CreateJob(b).value();
  ExpectBatchedLikeAlone(*noised, *ja, a, *jb, b);
}

TEST(PipelineTest, LowResImageIsValidatedAgainstTheModel) {
  auto p = LoadTinySr();
  ASSERT_NE(p, nullptr);
  std::vector<BadSpecCase> cases = {
      {"missing", [](JobSpec& s) { s.low_res_image.reset(); }, "low_res_image is required"},
      {"wrong size", [](JobSpec& s) { s.width = s.height = 128; }, "needs a 32x32 image"},
      {"gray",
       [](JobSpec& s) {
         s.low_res_image = Image8{16, 16, 1, std::vector<uint8_t>(256)};
       },
       "low_res_image must be RGB"},
      {"short", [](JobSpec& s) { s.low_res_image->pixels.resize(10); },
       "low_res_image must be RGB"},
      {"prompt", [](JobSpec& s) { s.prompt = "a red circle"; }, "prompt"},
  };
  for (const auto& c : cases) {
    JobSpec s = SrSpec("req-9", "ddim", 2, 1, 0);
    c.mutate(s);
    auto r = p->CreateJob(s);
    ASSERT_FALSE(r.ok()) << c.name;
    EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument)
        << c.name << ": " << r.status();
    EXPECT_NE(r.status().message().find("request req-9"), std::string::npos) << r.status();
    EXPECT_NE(r.status().message().find(c.field), std::string::npos)
        << c.name << ": " << r.status();
  }
  // A model that is not a super-resolution model refuses the image.
  auto base = LoadVariant("sd1-tiny");
  ASSERT_NE(base, nullptr);
  JobSpec s = Spec("req-10", "ddim", 2, 1.0, 1);
  s.low_res_image = LowRes(8, 8, 0);
  auto r = base->CreateJob(s);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("low_res_image is not accepted"), std::string::npos)
      << r.status();
}

TEST(PipelineTest, LargestWeightBytesIsTheLargestUNetOrVaeParameter) {
  auto p = LoadVariant("sd1-tiny");
  ASSERT_NE(p, nullptr);
  int64_t expected = 0;
  for (const torch::nn::Module* m : {static_cast<const torch::nn::Module*>(p->unet().get()),
                                     static_cast<const torch::nn::Module*>(p->vae().get())}) {
    for (const auto& t : m->parameters()) expected = std::max(expected, t.numel() * 4);
  }
  EXPECT_GT(expected, 0);
  EXPECT_EQ(p->LargestWeightBytes(), expected);
}

TEST(PipelineTest, MissingFolderIsNotFound) {
  EXPECT_EQ(Pipeline::Load("/nonexistent/model").status().code(), absl::StatusCode::kNotFound);
}

// ---------------------------------------------------------------------------------------------
// Semantic maps with sub-cells (ldm_model.json semantic_map_subcells) on a tiny random model.

std::unique_ptr<Pipeline> LoadTinyMap(int subcells) {
  const auto dir = testing::TempDir("tiny-map") / absl::StrCat("model-", subcells);
  EXPECT_TRUE(testing::WriteTinyMapModel(dir, subcells).ok());
  auto p = Pipeline::Load(dir);
  EXPECT_TRUE(p.ok()) << p.status();
  return p.ok() ? *std::move(p) : nullptr;
}

JobSpec MapSpec(const LabelMap& map) {
  JobSpec s;
  s.request_id = "map";
  s.steps = 3;
  s.guidance_scale = 2.0;
  s.seed = 5;
  s.semantic_map = map;
  return s;
}

TEST(PipelineTest, SubcellMapsReachTheUNetAsFractionsOfEachSubcellUnshuffled) {
  auto p = LoadTinyMap(2);
  ASSERT_NE(p, nullptr);
  EXPECT_EQ(p->info().semantic_channels, 3);  // labels, not UNet channels (4 + 3 * 2^2 = 16)
  EXPECT_EQ(p->info().semantic_map_subcells, 2);
  // Label 2 on columns 0-1 of rows 0-3: half of sub-cell (0, 0) of latent cell (0, 0).
  LabelMap map{64, 64, std::vector<uint8_t>(64 * 64, 0)};
  for (int y = 0; y < 4; ++y) {
    for (int x = 0; x < 2; ++x) map.labels[y * 64 + x] = 2;
  }
  auto job = p->CreateJob(MapSpec(map));
  ASSERT_TRUE(job.ok()) << job.status();
  const torch::Tensor cond = static_cast<DenoiseJob&>(**job).cond_map.to(torch::kFloat32);
  ASSERT_EQ(cond.sizes(), torch::IntArrayRef({1, 12, 8, 8}));
  // Channel = label * 4 + sub-cell row * 2 + sub-cell column.
  EXPECT_FLOAT_EQ(cond[0][8][0][0].item<float>(), 0.5f);  // label 2, sub-cell (0, 0)
  EXPECT_FLOAT_EQ(cond[0][9][0][0].item<float>(), 0.0f);  // label 2, sub-cell (0, 1)
  EXPECT_FLOAT_EQ(cond[0][0][0][0].item<float>(), 0.5f);  // background, sub-cell (0, 0)
  EXPECT_FLOAT_EQ(cond[0][1][0][0].item<float>(), 1.0f);  // background, sub-cell (0, 1)
  EXPECT_FLOAT_EQ(cond.sum().item<float>(), 4.0f * 64);   // every sub-cell's fractions sum to 1
  EXPECT_TRUE(torch::equal(static_cast<DenoiseJob&>(**job).uncond_map, torch::zeros_like(cond)));
  // Averaging each label's sub-cells gives the one-fraction-per-cell encoding (subcells 1).
  torch::Tensor area = cond.view({1, 3, 4, 8, 8}).mean(2);
  EXPECT_FLOAT_EQ(area[0][2][0][0].item<float>(), 8.0f / 64);
}

TEST(PipelineTest, SubcellModelTakesLatentSizeMapsAndGenerates) {
  auto p = LoadTinyMap(2);
  ASSERT_NE(p, nullptr);
  LabelMap small{8, 8, std::vector<uint8_t>(64, 0)};
  small.labels[9] = 1;  // latent cell (1, 1)
  auto job = p->CreateJob(MapSpec(small));
  ASSERT_TRUE(job.ok()) << job.status();
  const torch::Tensor cond = static_cast<DenoiseJob&>(**job).cond_map.to(torch::kFloat32);
  for (int sub = 0; sub < 4; ++sub) {  // every sub-cell of cell (1, 1) has label 1
    EXPECT_FLOAT_EQ(cond[0][4 + sub][1][1].item<float>(), 1.0f) << sub;
    EXPECT_FLOAT_EQ(cond[0][sub][1][1].item<float>(), 0.0f) << sub;
  }
  Job* jobs[] = {job->get()};
  while (!(*job)->done()) LDM_ASSERT_OK(p->Step(absl::MakeSpan(jobs))[0]);
  auto images = p->Decode(absl::MakeSpan(jobs));
  ASSERT_TRUE(images[0].ok()) << images[0].status();
  EXPECT_EQ(images[0]->width, 64);
  // Labels are checked against the label count, not the UNet's map channels.
  small.labels[0] = 3;
  auto bad = p->CreateJob(MapSpec(small));
  EXPECT_EQ(bad.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(bad.status().message().find("labels must be in [0, 2]"), std::string::npos)
      << bad.status();
}

TEST(PipelineTest, SubcellsThatDoNotFitTheUNetAreRefusedAtLoad) {
  const auto dir = testing::TempDir("tiny-map-mismatch");
  // The UNet of both folders takes 4 + 3 * 2^2 = 16 channels.
  struct Case {
    int subcells;
    std::string message;
  };
  for (const Case& c : {// 12 map channels are not 3 labels x 4^2.
                        Case{4, "semantic_map_subcells 4 does not fit the UNet's 12 map"},
                        // 3 does not divide the VAE's factor 8.
                        Case{3,
                             "semantic_map_subcells 3 must divide the VAE's downsampling "
                             "factor 8"}}) {
    const auto folder = dir / std::to_string(c.subcells);
    ASSERT_TRUE(testing::WriteTinyMapModel(folder, c.subcells, /*unet_subcells=*/2).ok());
    auto p = Pipeline::Load(folder);
    EXPECT_EQ(p.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_NE(p.status().message().find(c.message), std::string::npos) << p.status();
  }
}

}  // namespace pipeline_test
}  // namespace ldm
