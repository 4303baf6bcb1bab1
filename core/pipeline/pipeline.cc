#include "core/pipeline/pipeline.h"

#include <ATen/CPUGeneratorImpl.h>
#include <torch/torch.h>

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "core/common/status_macros.h"
#include "core/common/torch_guard.h"
#include "core/pipeline/classifier_guidance.h"
#include "core/pipeline/image_tensors.h"
#include "core/pipeline/low_res_conditioning.h"
#include "core/pipeline/semantic_map_channels.h"
#include "core/sampling/sampler_factory.h"
#include "core/sampling/sampler_kind.h"

namespace ldm {
namespace {

std::string Req(const JobSpec& spec) { return absl::StrCat("request ", spec.request_id, ": "); }

absl::Status Invalid(const JobSpec& spec, absl::string_view field, absl::string_view what) {
  return absl::InvalidArgumentError(absl::StrCat(Req(spec), field, " ", what));
}

// Prefixes a lower layer's error with the request id (keeps its code).
absl::Status WithRequest(const JobSpec& spec, const absl::Status& s) {
  return absl::Status(s.code(), absl::StrCat(Req(spec), s.message()));
}

bool HasCrossAttention(const UNet2DConditionConfig& c) {
  for (const auto& t : c.down_block_types) {
    if (t.rfind("CrossAttn", 0) == 0) return true;
  }
  return false;
}

}  // namespace

absl::StatusOr<std::unique_ptr<Pipeline>> Pipeline::Load(const std::filesystem::path& path,
                                                         const PipelineOptions& options) {
  c10::InferenceMode inference;
  LDM_ASSIGN_OR_RETURN(DiffusersFolder folder, DiffusersFolder::Open(path));
  std::unique_ptr<Pipeline> p(new Pipeline());
  p->options_ = options;
  if (p->options_.name.empty()) {
    std::filesystem::path clean = path.lexically_normal();
    if (clean.filename().empty()) clean = clean.parent_path();
    p->options_.name = clean.filename().string();
  }
  LDM_ASSIGN_OR_RETURN(p->scheduler_config_, folder.ComponentConfig("scheduler"));
  if (folder.extras().has_value()) {
    LDM_ASSIGN_OR_RETURN(p->extras_, ModelExtras::FromConfig(*folder.extras()));
  }
  const torch::Device device = options.device;
  LDM_ASSIGN_OR_RETURN(p->unet_, LoadUNet(folder.ComponentDir("unet"), device, options.dtype));
  const UNet2DConditionConfig& ucfg = p->unet_->config();
  LDM_ASSIGN_OR_RETURN(AutoencoderKLConfig vcfg_probe,
                       [&]() -> absl::StatusOr<AutoencoderKLConfig> {
                         LDM_ASSIGN_OR_RETURN(ModelConfig c, folder.ComponentConfig("vae"));
                         return AutoencoderKLConfig::FromModelConfig(c);
                       }());
  // diffusers runs SD's VAE in float32 under half precision (force_upcast): its activations
  // overflow fp16.
  p->vae_dtype_ = (options.dtype == torch::kFloat16 && vcfg_probe.force_upcast) ? torch::kFloat32
                                                                                : options.dtype;
  LDM_ASSIGN_OR_RETURN(p->vae_,
                       LoadAutoencoderKL(folder.ComponentDir("vae"), device, p->vae_dtype_));
  const bool cross = HasCrossAttention(ucfg);
  if (cross) {
    if (!folder.HasComponent("text_encoder") || !folder.HasComponent("tokenizer")) {
      return absl::InvalidArgumentError(absl::StrCat(
          path.string(),
          ": the UNet uses cross-attention but the folder has no text_encoder/tokenizer"));
    }
    LDM_ASSIGN_OR_RETURN(ClipTokenizer tok, ClipTokenizer::Load(folder.ComponentDir("tokenizer")));
    p->tokenizer_ = std::move(tok);
    LDM_ASSIGN_OR_RETURN(p->text_encoder_, LoadClipTextModel(folder.ComponentDir("text_encoder"),
                                                             device, options.dtype));
    if (p->text_encoder_->config().hidden_size != ucfg.cross_attention_dim.front()) {
      return absl::InvalidArgumentError(absl::StrCat(
          path.string(), ": text encoder hidden_size ", p->text_encoder_->config().hidden_size,
          " != UNet cross_attention_dim ", ucfg.cross_attention_dim.front()));
    }
  }
  if (!cross) {
    p->null_context_ = torch::zeros({1, 1, ucfg.cross_attention_dim.front()},
                                    torch::TensorOptions().device(device).dtype(options.dtype));
  }
  p->cache_ = std::make_unique<PromptEmbeddingCache>(options.prompt_cache_size);
  // One chunk (no helper threads) on CUDA, where one big batch per kernel is what is wanted.
  p->splitter_ = std::make_unique<BatchSplitter>(device.is_cpu() ? options.step_threads : 1);

  ModelInfo& info = p->info_;
  info.name = p->options_.name;
  info.path = path.string();
  const int f = static_cast<int>(p->vae_->config().DownsampleFactor());
  const int latent_channels = static_cast<int>(p->vae_->config().latent_channels);
  info.vae_scale_factor = f;
  info.latent_channels = latent_channels;
  info.native_width = info.native_height = static_cast<int>(ucfg.sample_size) * f;
  info.size_multiple = f;
  info.min_size = f * (1 << (ucfg.block_out_channels.size() - 1));
  info.max_size = std::max(p->extras_.max_size, info.native_width);
  info.supports_text = cross;
  info.max_prompt_tokens = p->tokenizer_.has_value() ? p->tokenizer_->model_max_length() : 0;
  info.supports_class = ucfg.num_class_embeds > 0;
  info.class_names = p->extras_.class_names;
  info.num_classes = static_cast<int>(ucfg.num_class_embeds);
  if (p->extras_.null_class_label.has_value()) {
    if (*p->extras_.null_class_label >= ucfg.num_class_embeds) {
      return absl::InvalidArgumentError(
          absl::StrCat(path.string(), ": null_class_label is outside num_class_embeds"));
    }
    info.num_classes = std::min<int>(info.num_classes, *p->extras_.null_class_label);
  }
  info.class_required = info.supports_class && !p->extras_.null_class_label.has_value();
  if (p->extras_.low_res_image.has_value()) {
    const int up = p->extras_.low_res_image->upscale_factor;
    if (f % up != 0) {
      return absl::InvalidArgumentError(
          absl::StrCat(path.string(), "/ldm_model.json: low_res_image.upscale_factor ", up,
                       " must divide the VAE's downsampling factor ", f));
    }
    info.supports_low_res_image = true;
    info.upscale_factor = up;
    info.low_res_channels = LowResConditioning::Channels(f, up);
  }
  const int map_channels =
      static_cast<int>(ucfg.in_channels) - latent_channels - info.low_res_channels;
  if (map_channels < 0 || ucfg.out_channels != latent_channels) {
    return absl::InvalidArgumentError(absl::StrCat(
        path.string(), ": UNet in/out channels (", ucfg.in_channels, "/", ucfg.out_channels,
        ") do not fit the VAE's ", latent_channels, " latent channels",
        info.low_res_channels > 0
            ? absl::StrCat(" plus ", info.low_res_channels, " low-resolution image channels")
            : ""));
  }
  const int subcells = p->extras_.semantic_map_subcells;
  if (f % subcells != 0 || map_channels % (subcells * subcells) != 0) {
    return absl::InvalidArgumentError(absl::StrCat(
        path.string(), "/ldm_model.json: semantic_map_subcells ", subcells,
        f % subcells != 0
            ? absl::StrCat(" must divide the VAE's downsampling factor ", f)
            : absl::StrCat(" does not fit the UNet's ", map_channels,
                           " map input channels (labels * ", subcells * subcells, ")")));
  }
  info.semantic_channels = map_channels / (subcells * subcells);
  info.semantic_map_subcells = subcells;
  info.supports_semantic_map = info.semantic_channels > 0;
  info.semantic_labels = p->extras_.semantic_labels;
  for (SamplerKind k : AllSamplerKinds()) info.samplers.emplace_back(SamplerKindName(k));
  if (!p->extras_.default_sampler.empty()) {
    LDM_ASSIGN_OR_RETURN(SamplerKind k, ParseSamplerKind(p->extras_.default_sampler));
    info.default_sampler = std::string(SamplerKindName(k));
  } else {
    LDM_ASSIGN_OR_RETURN(SamplerKind k, DefaultSamplerKind(p->scheduler_config_));
    info.default_sampler = std::string(SamplerKindName(k));
  }
  info.default_steps = p->extras_.default_steps;
  info.default_guidance = p->extras_.default_guidance_scale;
  info.default_eta = p->extras_.default_eta;
  info.default_guidance_map_only = p->extras_.default_guidance_scale_map_only;

  if (!p->extras_.latent_rgb_factors.empty()) {
    if (static_cast<int>(p->extras_.latent_rgb_factors.size()) != latent_channels) {
      return absl::InvalidArgumentError(absl::StrCat(
          path.string(), "/ldm_model.json: latent_rgb_factors needs ", latent_channels, " rows"));
    }
    std::vector<float> flat;
    for (const auto& row : p->extras_.latent_rgb_factors)
      flat.insert(flat.end(), row.begin(), row.end());
    p->latent_rgb_ = torch::tensor(flat).reshape({latent_channels, 3}).to(device);
    std::vector<float> bias(3, 0.0f);
    for (size_t i = 0; i < p->extras_.latent_rgb_bias.size(); ++i)
      bias[i] = static_cast<float>(p->extras_.latent_rgb_bias[i]);
    p->latent_rgb_bias_ = torch::tensor(bias).to(device);
  }

  // Optional classifier for classifier guidance: ldm's own component, not in model_index.json.
  const std::filesystem::path classifier_dir = folder.ComponentDir("classifier");
  if (std::filesystem::exists(classifier_dir / "config.json")) {
    // Built outside inference mode, in float32: its gradient is taken at every guided step, and
    // inference-mode parameters could not be saved for backward.
    c10::InferenceMode no_inference(false);
    LDM_ASSIGN_OR_RETURN(p->classifier_,
                         LoadNoisyLatentClassifier(classifier_dir, device, torch::kFloat32));
    for (auto& param : p->classifier_->parameters()) param.requires_grad_(false);
    const NoisyLatentClassifierConfig& ccfg = p->classifier_->config();
    if (ccfg.in_channels != latent_channels || ccfg.num_classes < info.num_classes) {
      return absl::InvalidArgumentError(
          absl::StrCat(classifier_dir.string(), ": the classifier takes ", ccfg.in_channels,
                       " channels and has ", ccfg.num_classes, " classes; the model has ",
                       latent_channels, " latent channels and ", info.num_classes, " classes"));
    }
    info.has_classifier = true;
  }
  return p;
}

int64_t Pipeline::LargestWeightBytes() const {
  int64_t largest = 0;
  for (const torch::nn::Module* m : {static_cast<const torch::nn::Module*>(unet_.get()),
                                     static_cast<const torch::nn::Module*>(vae_.get())}) {
    for (const at::Tensor& t : m->parameters()) {
      largest = std::max<int64_t>(largest, t.numel() * static_cast<int64_t>(t.element_size()));
    }
  }
  return largest;
}

EngineStats Pipeline::stats() const { return {cache_->hits(), cache_->misses()}; }

absl::Status Pipeline::ValidateSpec(const JobSpec& spec) const {
  const ModelInfo& m = info_;
  auto check_size = [&](const char* field, int v) -> absl::Status {
    if (v % m.size_multiple != 0 || v < m.min_size || v > m.max_size) {
      return Invalid(spec, field,
                     absl::StrCat("= ", v, " must be a multiple of ", m.size_multiple, " in [",
                                  m.min_size, ", ", m.max_size, "] for model ", m.name));
    }
    return absl::OkStatus();
  };
  LDM_RETURN_IF_ERROR(check_size("width", spec.width));
  LDM_RETURN_IF_ERROR(check_size("height", spec.height));
  if (spec.steps < 1 || spec.steps > kMaxSteps) {
    return Invalid(spec, "steps",
                   absl::StrCat("= ", spec.steps, " must be in [1, ", kMaxSteps, "]"));
  }
  if (!(spec.guidance_scale >= 0.0 && spec.guidance_scale <= kMaxGuidanceScale)) {
    return Invalid(
        spec, "guidance_scale",
        absl::StrCat("= ", spec.guidance_scale, " must be in [0, ", kMaxGuidanceScale, "]"));
  }
  if (!(spec.eta >= 0.0 && spec.eta <= 1.0)) {
    return Invalid(spec, "eta", absl::StrCat("= ", spec.eta, " must be in [0, 1]"));
  }
  if (!m.supports_text && (!spec.prompt.empty() || !spec.negative_prompt.empty())) {
    return Invalid(spec, "prompt", absl::StrCat(": model ", m.name, " does not take text"));
  }
  if (spec.clip_skip < 0 ||
      (text_encoder_ && spec.clip_skip >= text_encoder_->config().num_hidden_layers)) {
    return Invalid(spec, "clip_skip", absl::StrCat("= ", spec.clip_skip, " is out of range"));
  }
  if (spec.class_label.has_value()) {
    if (!m.supports_class) {
      return Invalid(spec, "class_label", absl::StrCat(": model ", m.name, " has no classes"));
    }
    if (*spec.class_label < 0 || *spec.class_label >= m.num_classes) {
      return Invalid(
          spec, "class_label",
          absl::StrCat("= ", *spec.class_label, " must be in [0, ", m.num_classes - 1, "]"));
    }
  } else if (m.supports_class && !extras_.null_class_label.has_value()) {
    return Invalid(spec, "class_label",
                   absl::StrCat("is required: model ", m.name, " has no null class"));
  }
  LDM_RETURN_IF_ERROR(ValidateLowRes(spec));
  if (!(spec.classifier_scale >= 0.0 && spec.classifier_scale <= kMaxClassifierScale)) {
    return Invalid(spec, "classifier_scale",
                   absl::StrCat("= ", spec.classifier_scale, " must be in [0, ",
                                kMaxClassifierScale, "] (0 = off)"));
  }
  if (spec.classifier_scale > 0.0 && !m.has_classifier) {
    return Invalid(spec, "classifier_scale",
                   absl::StrCat("= ", spec.classifier_scale, " needs a classifier; model ", m.name,
                                " has none (ListModels: has_classifier false)"));
  }
  if (spec.classifier_scale > 0.0 && !spec.class_label.has_value()) {
    return Invalid(
        spec, "classifier_scale",
        absl::StrCat("= ", spec.classifier_scale,
                     " needs a class label (class_label or class_name) to guide towards"));
  }
  if (spec.semantic_map.has_value()) {
    const LabelMap& map = *spec.semantic_map;
    if (!m.supports_semantic_map) {
      return Invalid(spec, "semantic_map", absl::StrCat(": model ", m.name, " does not take maps"));
    }
    const int f = m.vae_scale_factor;
    const bool image_res = map.width == spec.width && map.height == spec.height;
    const bool latent_res = map.width == spec.width / f && map.height == spec.height / f;
    if (!image_res && !latent_res) {
      return Invalid(spec, "semantic_map",
                     absl::StrCat("is ", map.width, "x", map.height, "; it must be ", spec.width,
                                  "x", spec.height, " (image) or ", spec.width / f, "x",
                                  spec.height / f, " (latent)"));
    }
    if (map.labels.size() != static_cast<size_t>(map.width) * map.height) {
      return Invalid(spec, "semantic_map.labels",
                     absl::StrCat("has ", map.labels.size(), " bytes, expected width*height = ",
                                  static_cast<size_t>(map.width) * map.height));
    }
    for (uint8_t v : map.labels) {
      if (v >= m.semantic_channels) {
        return Invalid(spec, "semantic_map.labels",
                       absl::StrCat("contains label ", static_cast<int>(v),
                                    "; labels must be in [0, ", m.semantic_channels - 1, "]"));
      }
    }
  }
  return absl::OkStatus();
}

absl::Status Pipeline::ValidateLowRes(const JobSpec& spec) const {
  const ModelInfo& m = info_;
  if (!m.supports_low_res_image) {
    if (spec.low_res_image.has_value()) {
      return Invalid(
          spec, "low_res_image",
          absl::StrCat("is not accepted by model ", m.name, " (not a super-resolution model)"));
    }
    return absl::OkStatus();
  }
  if (!spec.low_res_image.has_value()) {
    return Invalid(spec, "low_res_image",
                   absl::StrCat("is required by model ", m.name, " (a ", m.upscale_factor,
                                "x super-resolution model)"));
  }
  const Image8& lr = *spec.low_res_image;
  if (lr.channels != 3 || lr.pixels.size() != static_cast<size_t>(lr.width) * lr.height * 3) {
    return Invalid(spec, "low_res_image",
                   absl::StrCat("must be RGB (3 channels, width*height*3 bytes), got ", lr.channels,
                                " channels and ", lr.pixels.size(), " bytes"));
  }
  const int up = m.upscale_factor;
  if (lr.width * up != spec.width || lr.height * up != spec.height) {
    return Invalid(spec, "low_res_image",
                   absl::StrCat("is ", lr.width, "x", lr.height, "; model ", m.name, " upscales ",
                                up, "x, so a ", spec.width, "x", spec.height, " output needs a ",
                                spec.width / up, "x", spec.height / up,
                                " image (leave width/height 0 to use its size x ", up, ")"));
  }
  return absl::OkStatus();
}

absl::StatusOr<torch::Tensor> Pipeline::EncodePrompt(const std::string& prompt, int clip_skip) {
  if (!tokenizer_.has_value()) return absl::FailedPreconditionError("model has no text encoder");
  if (auto hit = cache_->Get(prompt, clip_skip); hit.has_value()) return *hit;
  ClipTokenizer::Encoding enc = tokenizer_->Encode(prompt);
  torch::Tensor ids = torch::tensor(enc.input_ids, torch::kInt64).unsqueeze(0);
  c10::InferenceMode inference;
  LDM_ASSIGN_OR_RETURN(ClipTextOutput out, text_encoder_->Forward(ids));
  LDM_ASSIGN_OR_RETURN(torch::Tensor emb, text_encoder_->ClipSkip(out, clip_skip));
  cache_->Put(prompt, clip_skip, emb);
  return emb;
}

absl::StatusOr<torch::Tensor> Pipeline::MapToOneHot(const JobSpec& spec, int latent_h,
                                                    int latent_w) const {
  const int k = info_.semantic_channels;
  const auto opts = torch::TensorOptions().device(options_.device).dtype(options_.dtype);
  if (!spec.semantic_map.has_value()) {
    const int r = info_.semantic_map_subcells;
    return torch::zeros({1, k * r * r, latent_h, latent_w}, opts);
  }
  const LabelMap& map = *spec.semantic_map;
  return TorchGuard(absl::StrCat(Req(spec), "semantic_map"), [&]() {
    torch::Tensor labels = torch::from_blob(const_cast<uint8_t*>(map.labels.data()),
                                            {map.height, map.width}, torch::kUInt8);
    return SemanticMapChannels::FromLabels(labels.unsqueeze(0), k, latent_h, latent_w,
                                           info_.semantic_map_subcells)
        .to(opts);
  });
}

absl::StatusOr<std::unique_ptr<DenoiseJob>> Pipeline::BuildJob(const JobSpec& in,
                                                               const torch::Tensor* noise) {
  c10::InferenceMode inference;
  JobSpec spec = in;
  if (spec.low_res_image.has_value() && info_.supports_low_res_image) {
    // A super-resolution job's output size follows from its input.
    if (spec.width == 0) spec.width = spec.low_res_image->width * info_.upscale_factor;
    if (spec.height == 0) spec.height = spec.low_res_image->height * info_.upscale_factor;
  }
  if (spec.width == 0) spec.width = info_.native_width;
  if (spec.height == 0) spec.height = info_.native_height;
  LDM_RETURN_IF_ERROR(ValidateSpec(spec));

  auto job = std::make_unique<DenoiseJob>();
  const int f = info_.vae_scale_factor;
  const int h = spec.height / f, w = spec.width / f, c = info_.latent_channels;
  job->latent_shape = {c, h, w};
  SamplerKind kind;
  if (spec.sampler.empty()) {
    LDM_ASSIGN_OR_RETURN(kind, ParseSamplerKind(info_.default_sampler));
  } else {
    absl::StatusOr<SamplerKind> parsed = ParseSamplerKind(spec.sampler);
    if (!parsed.ok()) return Invalid(spec, "sampler", parsed.status().message());
    kind = *parsed;
  }
  SamplerOptions sopts;
  sopts.eta = spec.eta;
  absl::StatusOr<std::unique_ptr<Sampler>> sampler =
      CreateSampler(scheduler_config_, kind, spec.steps, sopts);
  if (!sampler.ok()) return WithRequest(spec, sampler.status());
  job->sampler = *std::move(sampler);
  job->use_cfg = spec.guidance_scale > 1.0;

  torch::Tensor init;  // the job's initial noise draw, float32 on the CPU
  LDM_RETURN_IF_ERROR(TorchGuard(absl::StrCat(Req(spec), "initial latents"), [&]() {
    job->generator = at::make_generator<at::CPUGeneratorImpl>(spec.seed);
    if (noise != nullptr) {
      TORCH_CHECK(noise->sizes() == torch::IntArrayRef({1, c, h, w}), "noise must be [1, ", c, ", ",
                  h, ", ", w, "]");
      init = noise->to(torch::kFloat32);
    } else {
      // diffusers' randn_tensor with a CPU generator: float32 draws on the CPU, then moved.
      init =
          torch::randn({1, c, h, w}, job->generator, torch::TensorOptions().dtype(torch::kFloat32));
    }
    job->latents = (init * job->sampler->init_noise_sigma()).to(options_.device, options_.dtype);
  }));

  if (info_.supports_text) {
    absl::StatusOr<torch::Tensor> cond = EncodePrompt(spec.prompt, spec.clip_skip);
    if (!cond.ok()) return WithRequest(spec, cond.status());
    job->cond_embedding = *cond;
    if (job->use_cfg) {
      absl::StatusOr<torch::Tensor> uncond = EncodePrompt(spec.negative_prompt, spec.clip_skip);
      if (!uncond.ok()) return WithRequest(spec, uncond.status());
      job->uncond_embedding = *uncond;
    }
  }
  if (info_.supports_class) {
    job->cond_class = spec.class_label.has_value() ? *spec.class_label : *extras_.null_class_label;
    job->uncond_class = extras_.uncond_null_class ? *extras_.null_class_label : job->cond_class;
  }
  if (info_.semantic_channels > 0) {
    LDM_ASSIGN_OR_RETURN(job->cond_map, MapToOneHot(spec, h, w));
    job->uncond_map = extras_.uncond_zero_map ? torch::zeros_like(job->cond_map) : job->cond_map;
  }
  if (info_.supports_low_res_image) {
    LDM_RETURN_IF_ERROR(TorchGuard(absl::StrCat(Req(spec), "low_res_image"), [&]() {
      const int r = LowResConditioning::UnshuffleFactor(f, info_.upscale_factor);
      job->low_res = LowResConditioning::ToLatentChannels(
                         LowResConditioning::ImageToTensor(*spec.low_res_image), r)
                         .to(options_.device, options_.dtype);
      if (extras_.low_res_image->init == LowResImageExtras::Init::kNoisedInput) {
        // Start from the bicubic upscale of the input noised to the first timestep (diffusers'
        // img2img init, scheduler.add_noise at timesteps[0], with strength 1): the schedule's
        // terminal SNR is not zero (ab_T ~ 0.005), so training inputs at the first timestep
        // still carry sqrt(ab_T) z_0 and the model reads global color from it; pure noise
        // would carry none (Lin et al. 2024, Sec. 3).
        const torch::Tensor up = LowResConditioning::Upsample(
            LowResConditioning::ImageToTensor(*spec.low_res_image), info_.upscale_factor);
        const torch::Tensor z =
            vae_->Encode(up.clamp(-1, 1).to(options_.device, vae_dtype_)).mean.to(torch::kFloat32) *
            vae_->config().scaling_factor;
        const Sampler& s = *job->sampler;
        torch::Tensor x;
        if (!s.Sigmas().empty()) {  // sigma space (Euler family): x = z + sigma_0 eps
          x = z + s.Sigmas().front() * init.to(z.device());
        } else {
          const double ab = s.schedule().alpha_cumprod(std::llround(s.Timesteps().front()));
          x = std::sqrt(ab) * z + std::sqrt(1.0 - ab) * init.to(z.device());
        }
        job->latents = x.to(options_.device, options_.dtype);
      }
    }));
  }
  job->spec = std::move(spec);
  return job;
}

absl::StatusOr<std::unique_ptr<Job>> Pipeline::CreateJob(const JobSpec& spec) {
  LDM_ASSIGN_OR_RETURN(std::unique_ptr<DenoiseJob> job, BuildJob(spec, nullptr));
  return std::unique_ptr<Job>(std::move(job));
}

absl::StatusOr<std::unique_ptr<Job>> Pipeline::CreateJobWithNoise(const JobSpec& spec,
                                                                  const torch::Tensor& noise) {
  LDM_ASSIGN_OR_RETURN(std::unique_ptr<DenoiseJob> job, BuildJob(spec, &noise));
  return std::unique_ptr<Job>(std::move(job));
}

// One UNet forward over every row of `jobs`, then each job's guidance and sampler step.
// Reference: diffusers StableDiffusionPipeline.__call__ (denoising loop), with the CFG rows of
// each job adjacent ([uncond, cond]) and per-row timesteps so that jobs at different steps share
// the call.
std::vector<absl::Status> Pipeline::StepBatch(const std::vector<DenoiseJob*>& jobs) {
  // Classifier guidance rows: the UNet input z_t (without condition channels), t and the label.
  std::vector<torch::Tensor> guided_x;
  std::vector<float> guided_t;
  std::vector<int64_t> guided_y;
  std::vector<torch::Tensor> xs, maps, embs, low_res;
  std::vector<float> ts;
  std::vector<int64_t> classes;
  for (DenoiseJob* job : jobs) {
    torch::Tensor x = job->sampler->ScaleModelInput(job->latents);
    const float t = static_cast<float>(job->sampler->current_timestep());
    if (job->spec.classifier_scale > 0.0) {
      guided_x.push_back(x);
      guided_t.push_back(t);
      guided_y.push_back(job->cond_class);
    }
    auto add_row = [&](const torch::Tensor& emb, int64_t cls, const torch::Tensor& map) {
      xs.push_back(x);
      ts.push_back(t);
      if (job->low_res.defined()) low_res.push_back(job->low_res);
      if (emb.defined()) embs.push_back(emb);
      if (cls >= 0) classes.push_back(cls);
      if (map.defined()) maps.push_back(map);
    };
    if (job->use_cfg) add_row(job->uncond_embedding, job->uncond_class, job->uncond_map);
    add_row(job->cond_embedding, job->cond_class, job->cond_map);
  }
  torch::Tensor sample = torch::cat(xs, 0);
  if (!maps.empty()) sample = torch::cat({sample, torch::cat(maps, 0)}, 1);
  if (!low_res.empty()) sample = torch::cat({sample, torch::cat(low_res, 0)}, 1);
  torch::Tensor timesteps = torch::tensor(ts, torch::kFloat32).to(options_.device);
  torch::Tensor emb = embs.empty() ? torch::Tensor() : torch::cat(embs, 0);
  if (!emb.defined() && null_context_.defined()) {
    emb = null_context_.expand({sample.size(0), 1, null_context_.size(2)});
  }
  torch::Tensor cls =
      classes.empty() ? torch::Tensor() : torch::tensor(classes, torch::kInt64).to(options_.device);
  torch::Tensor out = ForwardUnet(sample, timesteps, emb, cls);
  // One classifier forward + backward over the rows that asked for classifier guidance only.
  torch::Tensor grads;
  if (!guided_x.empty()) {
    absl::StatusOr<torch::Tensor> g = ClassifierLogProbGradient(
        classifier_, torch::cat(guided_x, 0), torch::tensor(guided_t, torch::kFloat32),
        torch::tensor(guided_y, torch::kInt64));
    TORCH_CHECK(g.ok(), std::string(g.status().message()));
    grads = *std::move(g);
  }

  std::vector<absl::Status> statuses;
  int64_t row = 0, guided_row = 0;
  for (DenoiseJob* job : jobs) {
    torch::Tensor guided;
    if (job->use_cfg) {
      torch::Tensor u = out.narrow(0, row, 1), c = out.narrow(0, row + 1, 1);
      guided = u + job->spec.guidance_scale * (c - u);
      row += 2;
    } else {
      guided = out.narrow(0, row, 1);
      row += 1;
    }
    if (job->spec.classifier_scale > 0.0) {
      guided = ApplyClassifierGuidance(
          guided, grads.narrow(0, guided_row++, 1), job->spec.classifier_scale,
          CurrentAlphaCumprod(*job->sampler), job->sampler->schedule().prediction_type());
    }
    absl::StatusOr<torch::Tensor> next = job->sampler->Step(guided, job->latents, job->generator);
    if (next.ok()) {
      job->latents = *std::move(next);
      statuses.push_back(absl::OkStatus());
    } else {
      statuses.push_back(WithRequest(job->spec, next.status()));
    }
  }
  return statuses;
}

torch::Tensor Pipeline::ForwardUnet(const torch::Tensor& sample, const torch::Tensor& timesteps,
                                    const torch::Tensor& context,
                                    const torch::Tensor& class_labels) {
  const int64_t rows = sample.size(0);
  const int chunks = splitter_->Chunks(rows);
  if (chunks <= 1) return unet_->forward(sample, timesteps, context, class_labels);
  // Every UNet input is per row, so row chunks are independent UNet calls.
  auto rows_of = [](const torch::Tensor& t, int64_t begin, int64_t end) {
    return t.defined() ? t.slice(0, begin, end) : t;
  };
  std::vector<torch::Tensor> parts(static_cast<size_t>(chunks));
  splitter_->ForEachChunk(rows, [&](int chunk, int64_t begin, int64_t end) {
    parts[static_cast<size_t>(chunk)] =
        unet_->forward(sample.slice(0, begin, end), timesteps.slice(0, begin, end),
                       rows_of(context, begin, end), rows_of(class_labels, begin, end));
  });
  return torch::cat(parts, 0);
}

std::vector<absl::Status> Pipeline::Step(absl::Span<Job* const> jobs) {
  c10::InferenceMode inference;
  std::vector<absl::Status> out(jobs.size());
  std::vector<DenoiseJob*> ready;
  std::vector<size_t> index;
  for (size_t i = 0; i < jobs.size(); ++i) {
    auto* job = dynamic_cast<DenoiseJob*>(jobs[i]);
    if (job == nullptr) {
      out[i] = absl::InvalidArgumentError("job was not created by this pipeline");
    } else if (job->done()) {
      out[i] = absl::FailedPreconditionError(absl::StrCat(Req(job->spec), "job is already done"));
    } else if (!ready.empty() && !(job->shape() == ready.front()->shape())) {
      out[i] = absl::InvalidArgumentError(
          absl::StrCat(Req(job->spec), "latent shape differs from the batch"));
    } else {
      ready.push_back(job);
      index.push_back(i);
    }
  }
  if (ready.empty()) return out;
  // A failed batched forward changes no job, so the jobs are retried one by one: only a job whose
  // own rows make the UNet fail (or whose sampler step fails) fails.
  absl::StatusOr<std::vector<absl::Status>> batch =
      TorchGuard("UNet step", [&]() { return StepBatch(ready); });
  if (batch.ok()) {
    for (size_t k = 0; k < ready.size(); ++k) out[index[k]] = (*batch)[k];
    return out;
  }
  if (ready.size() == 1) {
    out[index[0]] = WithRequest(ready[0]->spec, batch.status());
    return out;
  }
  for (size_t k = 0; k < ready.size(); ++k) {
    DenoiseJob* job = ready[k];
    absl::StatusOr<std::vector<absl::Status>> one =
        TorchGuard("UNet step", [&]() { return StepBatch({job}); });
    out[index[k]] = one.ok() ? (*one)[0] : WithRequest(job->spec, one.status());
  }
  return out;
}

absl::StatusOr<torch::Tensor> Pipeline::DecodeToTensor(const torch::Tensor& latents) {
  c10::InferenceMode inference;
  const double scale = vae_->config().scaling_factor;
  LDM_ASSIGN_OR_RETURN(const torch::Tensor z, TorchGuard("decode", [&]() {
                         return (latents / scale).to(options_.device, vae_dtype_);
                       }));
  const int64_t rows = z.size(0);
  std::vector<absl::StatusOr<torch::Tensor>> parts(static_cast<size_t>(splitter_->Chunks(rows)));
  // RunDecode catches torch's exceptions itself, so no chunk throws. One chunk runs on the
  // caller over the whole batch.
  splitter_->ForEachChunk(rows, [&](int chunk, int64_t begin, int64_t end) {
    parts[static_cast<size_t>(chunk)] = vae_->RunDecodeWithMargin(
        parts.size() == 1 ? z : z.slice(0, begin, end), extras_.decode_latent_padding);
  });
  std::vector<torch::Tensor> decoded_parts;
  for (absl::StatusOr<torch::Tensor>& part : parts) {
    LDM_RETURN_IF_ERROR(part.status());
    decoded_parts.push_back(*std::move(part));
  }
  return TorchGuard("decode", [&]() {
    const torch::Tensor decoded =
        decoded_parts.size() == 1 ? decoded_parts.front() : torch::cat(decoded_parts, 0);
    return (decoded.to(torch::kFloat32) / 2 + 0.5).clamp(0, 1);
  });
}

absl::StatusOr<Image8> Pipeline::FinishImage(const DenoiseJob& job, const torch::Tensor& chw01) {
  const int iterations =
      extras_.low_res_image.has_value() ? extras_.low_res_image->back_projection : 0;
  if (iterations == 0 || !job.spec.low_res_image.has_value()) return ImageTensors::FromChw01(chw01);
  // Super-resolution output made consistent with its input (LowResConditioning::BackProject):
  // restores the colors and shading the autoencoder's round trip loses.
  absl::StatusOr<torch::Tensor> fixed =
      TorchGuard(absl::StrCat(Req(job.spec), "back-projection"), [&]() {
        const torch::Tensor low =
            LowResConditioning::ImageToTensor(*job.spec.low_res_image).add(1).div(2);
        return LowResConditioning::BackProject(chw01.unsqueeze(0).to(torch::kCPU, torch::kFloat32),
                                               low, info_.upscale_factor, iterations)[0];
      });
  if (!fixed.ok()) return fixed.status();
  return ImageTensors::FromChw01(*fixed);
}

std::vector<absl::StatusOr<Image8>> Pipeline::Decode(absl::Span<Job* const> jobs) {
  c10::InferenceMode inference;
  std::vector<absl::StatusOr<Image8>> out;
  out.reserve(jobs.size());
  const size_t chunk = static_cast<size_t>(std::max(1, options_.max_decode_batch));
  for (size_t start = 0; start < jobs.size(); start += chunk) {
    const size_t end = std::min(jobs.size(), start + chunk);
    std::vector<torch::Tensor> latents;
    bool same_shape = true;
    for (size_t i = start; i < end; ++i) {
      auto* job = static_cast<DenoiseJob*>(jobs[i]);
      latents.push_back(job->latents);
      same_shape = same_shape && job->shape() == static_cast<DenoiseJob*>(jobs[start])->shape();
    }
    auto decode_one_by_one = [&]() {
      for (size_t i = start; i < end; ++i) {
        auto* job = static_cast<DenoiseJob*>(jobs[i]);
        absl::StatusOr<torch::Tensor> img = DecodeToTensor(job->latents);
        if (!img.ok()) {
          out.push_back(WithRequest(job->spec, img.status()));
        } else {
          out.push_back(FinishImage(*job, (*img)[0]));
        }
      }
    };
    if (!same_shape) {
      decode_one_by_one();
      continue;
    }
    absl::StatusOr<torch::Tensor> imgs =
        TorchGuard("decode", [&]() { return torch::cat(latents, 0); });
    if (imgs.ok()) imgs = DecodeToTensor(*imgs);
    if (!imgs.ok()) {
      decode_one_by_one();
      continue;
    }
    for (size_t i = start; i < end; ++i) {
      out.push_back(FinishImage(*static_cast<DenoiseJob*>(jobs[i]),
                                (*imgs)[static_cast<int64_t>(i - start)]));
    }
  }
  return out;
}

absl::StatusOr<Image8> Pipeline::Preview(const Job& j, PreviewQuality quality) {
  c10::InferenceMode inference;
  const auto* job = dynamic_cast<const DenoiseJob*>(&j);
  if (job == nullptr) return absl::InvalidArgumentError("job was not created by this pipeline");
  if (quality == PreviewQuality::kFast && latent_rgb_.defined()) {
    return TorchGuard("preview", [&]() {
      // Linear map from latent channels to RGB in [-1, 1] (a least-squares fit of the decoder,
      // stored in ldm_model.json).
      torch::Tensor z = job->latents[0].to(torch::kFloat32);
      torch::Tensor rgb =
          torch::einsum("chw,cr->rhw", {z, latent_rgb_}) + latent_rgb_bias_.view({3, 1, 1});
      return ImageTensors::FromChw01((rgb.clamp(-1, 1) + 1) / 2);
    });
  }
  // kFull, or no projection factors: decode the current latents (for samplers whose x_0
  // estimate exists, the estimate is the sharper preview).
  torch::Tensor z = job->sampler->pred_original_sample().has_value()
                        ? *job->sampler->pred_original_sample()
                        : job->latents;
  LDM_ASSIGN_OR_RETURN(torch::Tensor img, DecodeToTensor(z));
  return ImageTensors::FromChw01(img[0]);
}

absl::StatusOr<std::vector<Image8>> Pipeline::Generate(const GenerateOptions& options) {
  if (options.num_images < 1) {
    return Invalid(options.spec, "num_images",
                   absl::StrCat("= ", options.num_images, " must be >= 1"));
  }
  std::vector<std::unique_ptr<Job>> jobs;
  for (int i = 0; i < options.num_images; ++i) {
    JobSpec spec = options.spec;
    spec.seed = options.spec.seed + static_cast<uint64_t>(i);
    LDM_ASSIGN_OR_RETURN(std::unique_ptr<Job> job, CreateJob(spec));
    jobs.push_back(std::move(job));
  }
  std::vector<Job*> ptrs;
  for (auto& j : jobs) ptrs.push_back(j.get());
  while (!ptrs.front()->done()) {
    for (const absl::Status& s : Step(absl::MakeSpan(ptrs))) LDM_RETURN_IF_ERROR(s);
  }
  std::vector<Image8> images;
  for (auto& img : Decode(absl::MakeSpan(ptrs))) {
    LDM_RETURN_IF_ERROR(img.status());
    images.push_back(*std::move(img));
  }
  return images;
}

}  // namespace ldm
