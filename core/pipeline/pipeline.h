// ldm::Pipeline — a loaded latent diffusion model and the step-level API the server batches
// with (Engine), plus a one-call Generate() for library users.
//
// One Pipeline is one replica on one device: tokenizer, CLIP text encoder, UNet2DConditionModel,
// AutoencoderKL and the scheduler config of a diffusers folder (plus ldm_model.json extras).
// Conditioning (any combination):
//   text           cross-attention to the CLIP text encoder's last hidden state (or clip-skip);
//   class label    the UNet's class embedding (num_class_embeds), added to the time embedding;
//   semantic map   one-hot label channels concatenated with the latents (UNet in_channels =
//                  latent channels + labels * r^2); a map at image resolution is area-
//                  downsampled to r x r sub-cells per latent cell, each label's sub-cells
//                  unshuffled into r^2 channels (ldm_model.json "semantic_map_subcells" r,
//                  default 1: one area fraction per label and cell); all-zero channels mean
//                  "no map".
//   low-res image  super-resolution models (ldm_model.json "low_res_image"): the RGB image to
//                  upscale, brought to latent resolution by LowResConditioning and concatenated
//                  after the map channels; the same in both CFG rows (LDM Sec. 4.4,
//                  diffusers StableDiffusionUpscalePipeline). With "back_projection": N the
//                  decoded image is made consistent with the input (N iterations of
//                  LowResConditioning::BackProject).
// A UNet without cross-attention down blocks takes no text; its mid block still has a
// cross-attention layer (core's UNet always builds UNetMidBlock2DCrossAttn), which then gets a
// null context: one all-zero token of cross_attention_dim.
// Classifier-free guidance (Ho & Salimans 2022): eps = eps_u + w (eps_c - eps_u) with the
// unconditional row in the same UNet call; w <= 1 runs the conditional row only. The
// unconditional row uses the negative prompt, and (per ldm_model.json) the null class and an
// all-zero map, or keeps them (diffusers' convention for models without extras).
// Classifier guidance (Dhariwal & Nichol 2021): with a classifier/ component (a noise-aware
// NoisyLatentClassifier) and JobSpec::classifier_scale s > 0, eps -= s sqrt(1 - ab_t)
// grad log p(y | z_t) after CFG, for the rows that ask for it (one batched backward per step);
// see classifier_guidance.h.
// Determinism: every random draw of a job comes from its own CPU generator seeded with
// JobSpec::seed, in a fixed order (initial latents, then the sampler's draws), so an image does not
// depend on what else shares its batch.
//
// With PipelineOptions::step_threads > 1 on a CPU, the pipeline owns that many - 1 helper threads
// that run row chunks of its UNet and VAE calls (the calling thread runs the first chunk).
// Thread safety: Engine methods are for one thread at a time (the owning worker); info() and
// Generate() on distinct Pipelines are independent. Every public method runs under
// c10::InferenceMode and returns errors as Status (libtorch exceptions are caught).
#pragma once

#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <torch/types.h>

#include "absl/status/statusor.h"
#include "core/common/batch_splitter.h"
#include "core/io/diffusers_folder.h"
#include "core/io/model_config.h"
#include "core/nn/autoencoder_kl.h"
#include "core/nn/noisy_latent_classifier.h"
#include "core/nn/unet_2d_condition_model.h"
#include "core/pipeline/denoise_job.h"
#include "core/pipeline/engine.h"
#include "core/pipeline/model_extras.h"
#include "core/pipeline/prompt_embedding_cache.h"
#include "core/text/clip_text_model.h"
#include "core/text/clip_tokenizer.h"

namespace ldm {

struct PipelineOptions {
  std::string name;                        // reported in ModelInfo; default: folder name
  torch::Device device = torch::kCPU;
  torch::ScalarType dtype = torch::kFloat32;  // fp16/bf16 on CUDA
  size_t prompt_cache_size = 256;          // 0 disables the cache
  int max_decode_batch = 8;                // VAE decode chunk size
  // CPU only (ignored on CUDA): UNet and VAE batches are split into up to this many row chunks
  // that run concurrently, each with the process's torch intra-op threads (BatchSplitter; on a
  // CPU, N chunks x 1 intra-op thread step more steadily than 1 x N, docs/BENCHMARKS.md).
  // 1: one call over the whole batch. Results match the unsplit call to float rounding.
  int step_threads = 1;
};

struct GenerateOptions {
  JobSpec spec;
  int num_images = 1;  // image i uses seed spec.seed + i
};

struct EngineStats {
  uint64_t prompt_cache_hits = 0;
  uint64_t prompt_cache_misses = 0;
};

class Pipeline : public Engine {
 public:
  static absl::StatusOr<std::unique_ptr<Pipeline>> Load(const std::filesystem::path& folder,
                                                         const PipelineOptions& options = {});

  // Engine
  const ModelInfo& info() const override { return info_; }
  absl::StatusOr<std::unique_ptr<Job>> CreateJob(const JobSpec& spec) override;
  std::vector<absl::Status> Step(absl::Span<Job* const> jobs) override;
  std::vector<absl::StatusOr<Image8>> Decode(absl::Span<Job* const> jobs) override;
  absl::StatusOr<Image8> Preview(const Job& job, PreviewQuality quality) override;

  // CreateJob with given initial noise [1, C, h, w] instead of the seeded draw (it is multiplied
  // by the sampler's init_noise_sigma, as diffusers does with user-supplied latents).
  absl::StatusOr<std::unique_ptr<Job>> CreateJobWithNoise(const JobSpec& spec,
                                                          const torch::Tensor& noise);
  // Creates, runs and decodes num_images jobs; the images are in seed order.
  absl::StatusOr<std::vector<Image8>> Generate(const GenerateOptions& options);

  // The text encoder output used for `prompt` ([1, L, D]); cached.
  absl::StatusOr<torch::Tensor> EncodePrompt(const std::string& prompt, int clip_skip);
  // Decoded images as float [B, 3, H, W] in [0, 1] (the step before uint8 conversion), with the
  // model's decode_latent_padding margin (ModelExtras) decoded and cropped away.
  absl::StatusOr<torch::Tensor> DecodeToTensor(const torch::Tensor& latents);

  EngineStats stats() const;
  // Bytes of the largest UNet or VAE parameter tensor as loaded (the largest weight a
  // convolution may reorder per call; see core/common/host_allocator.h).
  int64_t LargestWeightBytes() const;
  const ModelExtras& extras() const { return extras_; }
  const PipelineOptions& options() const { return options_; }
  UNet2DConditionModel& unet() { return unet_; }
  AutoencoderKL& vae() { return vae_; }
  // The classifier of classifier guidance (null when the folder has no classifier/); float32,
  // normal (non-inference) parameters.
  NoisyLatentClassifier& classifier() { return classifier_; }
  const ModelConfig& scheduler_config() const { return scheduler_config_; }

 private:
  Pipeline() = default;
  absl::Status ValidateSpec(const JobSpec& spec) const;
  absl::StatusOr<std::unique_ptr<DenoiseJob>> BuildJob(const JobSpec& spec,
                                                       const torch::Tensor* noise);
  absl::StatusOr<torch::Tensor> MapToOneHot(const JobSpec& spec, int latent_h, int latent_w) const;
  absl::Status ValidateLowRes(const JobSpec& spec) const;
  // A decoded image [3, H, W] in [0, 1] as uint8, back-projected onto the job's low-resolution
  // input when the model asks for it (ldm_model.json low_res_image.back_projection).
  absl::StatusOr<Image8> FinishImage(const DenoiseJob& job, const torch::Tensor& chw01);
  // Runs one UNet forward for `jobs` (throws on failure; callers guard it: nothing has changed
  // then), then advances each job's sampler, returning one status per job (a failed sampler step
  // leaves that job unchanged).
  std::vector<absl::Status> StepBatch(const std::vector<DenoiseJob*>& jobs);
  // unet_->forward over the batch, in row chunks on splitter_ (throws).
  torch::Tensor ForwardUnet(const torch::Tensor& sample, const torch::Tensor& timesteps,
                            const torch::Tensor& context, const torch::Tensor& class_labels);

  PipelineOptions options_;
  ModelInfo info_;
  ModelExtras extras_;
  ModelConfig scheduler_config_;
  std::optional<ClipTokenizer> tokenizer_;
  ClipTextModel text_encoder_{nullptr};
  UNet2DConditionModel unet_{nullptr};
  AutoencoderKL vae_{nullptr};
  NoisyLatentClassifier classifier_{nullptr};
  torch::ScalarType vae_dtype_ = torch::kFloat32;
  torch::Tensor latent_rgb_;       // [C, 3] on device, for fast previews (undefined: none)
  torch::Tensor latent_rgb_bias_;  // [3]
  torch::Tensor null_context_;     // [1, 1, D] zeros for UNets without text (undefined: text)
  std::unique_ptr<PromptEmbeddingCache> cache_;
  std::unique_ptr<BatchSplitter> splitter_;  // 1 thread: whole-batch calls on the caller
};

}  // namespace ldm
