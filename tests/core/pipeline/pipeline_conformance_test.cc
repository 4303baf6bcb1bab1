// End-to-end conformance with the diffusers reference runs in the fixtures: every
// references/<variant>/*.safetensors that records a full denoising loop (has latents_init).
#include <gtest/gtest.h>
#include <torch/torch.h>

#include "core/io/safetensors_file.h"
#include "core/pipeline/denoise_job.h"
#include "core/pipeline/pipeline.h"
#include "core/sampling/sampler_kind.h"
#include "tests/testing/fixtures.h"
#include "tests/testing/tensor_matchers.h"

namespace ldm {
namespace pipeline_conformance_test {

struct RecordedRun {
  std::string variant;
  std::filesystem::path file;
};

std::vector<RecordedRun> DiscoverRuns() {
  std::vector<RecordedRun> runs;
  auto root = testing::FixturesDir();
  auto variants = testing::ModelVariants();
  if (!root.ok() || !variants.ok()) return runs;
  for (const auto& v : *variants) {
    for (const auto& entry : std::filesystem::directory_iterator(*root / "references" / v)) {
      if (entry.path().extension() != ".safetensors") continue;
      auto file = SafeTensorsFile::Open(entry.path());
      if (file.ok() && (*file)->Contains("latents_init")) runs.push_back({v, entry.path()});
    }
  }
  std::sort(runs.begin(), runs.end(), [](const RecordedRun& a, const RecordedRun& b) { return a.file < b.file; });
  return runs;
}

TEST(PipelineConformanceTest, FixturesHavePipelineRuns) {
  LDM_ASSERT_OK(testing::FixturesDir().status());
  EXPECT_FALSE(DiscoverRuns().empty()) << "no reference run with latents_init found";
}

TEST(PipelineConformanceTest, EveryRecordedRunMatchesStepByStep) {
  LDM_ASSERT_OK_AND_ASSIGN(auto root, testing::FixturesDir());
  const std::vector<RecordedRun> runs = DiscoverRuns();
  ASSERT_FALSE(runs.empty());
  for (const RecordedRun& run : runs) {
    SCOPED_TRACE(run.file.string());
    LDM_ASSERT_OK_AND_ASSIGN(auto ref, SafeTensorsFile::Open(run.file));
    auto T = [&](const std::string& name) { return ref->Get(name).value(); };
    const auto& meta = ref->metadata();
    LDM_ASSERT_OK_AND_ASSIGN(auto pipeline, Pipeline::Load(root / "models" / run.variant));

    JobSpec spec;
    spec.request_id = run.file.stem().string();
    spec.prompt = meta.at("prompt");
    spec.negative_prompt = meta.count("negative_prompt") ? meta.at("negative_prompt") : "";
    spec.steps = std::stoi(meta.at("num_inference_steps"));
    spec.guidance_scale = std::stod(meta.at("guidance_scale"));
    LDM_ASSERT_OK_AND_ASSIGN(SamplerKind kind, SamplerKindForClassName(meta.at("scheduler")));
    spec.sampler = std::string(SamplerKindName(kind));
    torch::Tensor image_ref = T("image");  // [1, H, W, 3]
    spec.height = static_cast<int>(image_ref.size(1));
    spec.width = static_cast<int>(image_ref.size(2));
    if (ref->Contains("class_labels")) spec.class_label = static_cast<int>(T("class_labels")[0].item<int64_t>());
    if (ref->Contains("semantic_map")) {
      torch::Tensor map = T("semantic_map")[0].to(torch::kUInt8).contiguous();
      LabelMap lm;
      lm.height = static_cast<int>(map.size(0));
      lm.width = static_cast<int>(map.size(1));
      lm.labels.assign(map.data_ptr<uint8_t>(), map.data_ptr<uint8_t>() + map.numel());
      spec.semantic_map = lm;
    }

    // Text conditioning.
    LDM_ASSERT_OK_AND_ASSIGN(torch::Tensor cond, pipeline->EncodePrompt(spec.prompt, 0));
    EXPECT_TRUE(testing::AllClose(cond, T("prompt_embeds"), 1e-5));
    if (ref->Contains("negative_prompt_embeds")) {
      LDM_ASSERT_OK_AND_ASSIGN(torch::Tensor uncond, pipeline->EncodePrompt(spec.negative_prompt, 0));
      EXPECT_TRUE(testing::AllClose(uncond, T("negative_prompt_embeds"), 1e-5));
    }

    // The loop, from the recorded initial latents.
    LDM_ASSERT_OK_AND_ASSIGN(auto job_base, pipeline->CreateJobWithNoise(spec, T("latents_init")));
    auto* job = static_cast<DenoiseJob*>(job_base.get());
    torch::Tensor timesteps = T("timesteps").to(torch::kFloat64);
    ASSERT_EQ(job->total_steps(), timesteps.numel());
    for (int i = 0; i < job->total_steps(); ++i) {
      EXPECT_NEAR(job->sampler->Timesteps()[i], timesteps[i].item<double>(), 1e-4) << "call " << i;
    }
    Job* batch[] = {job};
    for (int i = 0; !job->done(); ++i) {
      auto statuses = pipeline->Step(absl::MakeSpan(batch));
      LDM_ASSERT_OK(statuses[0]);
      EXPECT_TRUE(testing::CloseRelativeToMax(job->latents, T(absl::StrCat("step", i, ".latents")), 1e-4))
          << "step " << i;
    }
    LDM_ASSERT_OK_AND_ASSIGN(torch::Tensor image, pipeline->DecodeToTensor(job->latents));
    EXPECT_TRUE(testing::AllClose(image.permute({0, 2, 3, 1}), image_ref, 1e-4));

    // The uint8 image through the Engine API: +-1 on at most 0.5% of the values.
    auto images = pipeline->Decode(absl::MakeSpan(batch));
    LDM_ASSERT_OK(images[0].status());
    torch::Tensor u8 = torch::from_blob(images[0]->pixels.data(),
                                        {images[0]->height, images[0]->width, 3}, torch::kUInt8)
                           .to(torch::kInt32);
    torch::Tensor diff = (u8 - T("image_uint8")[0].to(torch::kInt32)).abs();
    EXPECT_LE(diff.max().item<int>(), 1);
    EXPECT_LE(diff.gt(0).sum().item<int64_t>(), diff.numel() / 200);
  }
}

TEST(PipelineConformanceTest, SeededJobsDrawTheRecordedInitialLatents) {
  // latents_init was drawn as randn(shape, generator=torch.Generator().manual_seed(latents_seed));
  // a job seeded with latents_seed must draw exactly the same noise.
  LDM_ASSERT_OK_AND_ASSIGN(auto root, testing::FixturesDir());
  for (const RecordedRun& run : DiscoverRuns()) {
    SCOPED_TRACE(run.file.string());
    LDM_ASSERT_OK_AND_ASSIGN(auto ref, SafeTensorsFile::Open(run.file));
    if (!ref->metadata().count("latents_seed")) continue;
    auto gen = at::make_generator<at::CPUGeneratorImpl>(std::stoull(ref->metadata().at("latents_seed")));
    torch::Tensor init = ref->Get("latents_init").value();
    torch::Tensor drawn = torch::randn(init.sizes(), gen, torch::TensorOptions().dtype(torch::kFloat32));
    EXPECT_TRUE(torch::equal(drawn, init));
  }
}

}  // namespace
}  // namespace ldm
