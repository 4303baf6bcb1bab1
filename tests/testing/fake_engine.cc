#include "tests/testing/fake_engine.h"

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"

namespace ldm::testing {
namespace {

class FakeJob : public Job {
 public:
  explicit FakeJob(JobSpec spec, int channels, int vae_factor)
      : spec_(std::move(spec)),
        shape_{channels, spec_.height / vae_factor, spec_.width / vae_factor} {}
  int steps_done() const override { return steps_done_; }
  int total_steps() const override { return spec_.steps; }
  uint64_t seed() const override { return spec_.seed; }
  LatentShape shape() const override { return shape_; }
  int rows() const override { return spec_.guidance_scale > 1.0 ? 2 : 1; }
  const std::string& request_id() const override { return spec_.request_id; }

  JobSpec spec_;
  LatentShape shape_;
  int steps_done_ = 0;
};

Image8 Solid(int w, int h, uint64_t seed) {
  Image8 img{w, h, 3, std::vector<uint8_t>(static_cast<size_t>(w) * h * 3)};
  for (size_t i = 0; i < img.pixels.size(); ++i) img.pixels[i] = static_cast<uint8_t>((seed * 37 + i % 3) & 0xff);
  return img;
}

}  // namespace

FakeEngine::FakeEngine(ModelInfo info) : info_(std::move(info)) {}

ModelInfo FakeEngine::DefaultInfo(const std::string& name) {
  ModelInfo info;
  info.name = name;
  info.native_width = 64;
  info.native_height = 64;
  info.min_size = 32;
  info.max_size = 256;
  info.supports_text = true;
  info.supports_class = true;
  info.supports_semantic_map = true;
  info.class_names = {"red circle", "green circle"};
  info.num_classes = 2;
  info.semantic_labels = {"background", "red"};
  info.semantic_channels = 2;
  info.samplers = {"ddim", "euler"};
  info.default_sampler = "ddim";
  return info;
}

ModelInfo FakeEngine::SuperResolutionInfo(const std::string& name) {
  ModelInfo info;
  info.name = name;
  info.native_width = 128;
  info.native_height = 128;
  info.min_size = 32;
  info.max_size = 512;
  info.supports_low_res_image = true;
  info.upscale_factor = 4;
  info.low_res_channels = 12;
  info.samplers = {"ddim", "euler"};
  info.default_sampler = "ddim";
  info.default_steps = 3;
  info.default_guidance = 1.0;
  return info;
}

absl::StatusOr<std::unique_ptr<Job>> FakeEngine::CreateJob(const JobSpec& spec) {
  if (on_create_) on_create_();
  if (absl::StrContains(spec.prompt, "fail-create")) {
    return absl::InvalidArgumentError(absl::StrCat("request ", spec.request_id, ": prompt rejected"));
  }
  JobSpec s = spec;
  if (info_.supports_low_res_image != s.low_res_image.has_value()) {
    return absl::InvalidArgumentError(
        absl::StrCat("request ", spec.request_id, ": low_res_image does not fit the model"));
  }
  if (s.low_res_image.has_value()) {
    if (s.width == 0) s.width = s.low_res_image->width * info_.upscale_factor;
    if (s.height == 0) s.height = s.low_res_image->height * info_.upscale_factor;
  }
  if (s.width == 0) s.width = info_.native_width;
  if (s.height == 0) s.height = info_.native_height;
  return std::unique_ptr<Job>(new FakeJob(std::move(s), info_.latent_channels, info_.vae_scale_factor));
}

std::vector<absl::Status> FakeEngine::Step(absl::Span<Job* const> jobs) {
  if (on_step_) on_step_();
  int rows = 0;
  std::vector<absl::Status> out;
  for (Job* j : jobs) {
    auto* job = static_cast<FakeJob*>(j);
    rows += job->rows();
    if (absl::StrContains(job->spec_.prompt, "fail-step") && job->steps_done_ == 1) {
      out.push_back(absl::InternalError("injected step failure"));
      continue;
    }
    ++job->steps_done_;
    out.push_back(absl::OkStatus());
  }
  absl::MutexLock lock(&mu_);
  batch_rows_.push_back(rows);
  return out;
}

std::vector<absl::StatusOr<Image8>> FakeEngine::Decode(absl::Span<Job* const> jobs) {
  std::vector<absl::StatusOr<Image8>> out;
  for (Job* j : jobs) {
    auto* job = static_cast<FakeJob*>(j);
    if (absl::StrContains(job->spec_.prompt, "fail-decode")) {
      out.push_back(absl::InternalError("injected decode failure"));
    } else {
      out.push_back(Solid(job->spec_.width, job->spec_.height, job->seed()));
    }
  }
  return out;
}

absl::StatusOr<Image8> FakeEngine::Preview(const Job& j, PreviewQuality quality) {
  const auto& job = static_cast<const FakeJob&>(j);
  const int f = quality == PreviewQuality::kFast ? info_.vae_scale_factor : 1;
  return Solid(job.spec_.width / f, job.spec_.height / f, job.seed() + job.steps_done_);
}

std::vector<int> FakeEngine::batch_rows() const {
  absl::MutexLock lock(&mu_);
  return batch_rows_;
}

int FakeEngine::step_calls() const {
  absl::MutexLock lock(&mu_);
  return static_cast<int>(batch_rows_.size());
}

}  // namespace ldm::testing
