#include "tools/train/diffusion_trainer.h"

#include <spdlog/spdlog.h>
#include <torch/torch.h>

#include <cmath>
#include <fstream>
#include <optional>

#include "absl/strings/str_cat.h"
#include "core/common/status_macros.h"
#include "core/common/torch_guard.h"
#include "core/io/model_config.h"
#include "core/io/safetensors_file.h"
#include "core/io/safetensors_writer.h"
#include "core/io/state_dict_loader.h"
#include "core/nn/attention.h"
#include "core/sampling/noise_schedule.h"
#include "tools/train/map_channels.h"
#include "tools/train/optimizer_step.h"
#include "tools/train/train_loop.h"
#include "tools/train/train_rng.h"

namespace ldm::train {
namespace fs = std::filesystem;
namespace {

// While alive, every given cross-attention layer records its probabilities into `sink`; the
// recording stops however the scope ends (an exception in the forward included).
class AttentionRecording {
 public:
  AttentionRecording(const std::vector<nn::AttentionImpl*>& layers,
                     std::vector<torch::Tensor>* sink)
      : layers_(layers) {
    for (auto* attn : layers_) attn->set_probability_sink(sink);
  }
  ~AttentionRecording() {
    for (auto* attn : layers_) attn->set_probability_sink(nullptr);
  }
  AttentionRecording(const AttentionRecording&) = delete;
  AttentionRecording& operator=(const AttentionRecording&) = delete;

 private:
  const std::vector<nn::AttentionImpl*>& layers_;
};

}  // namespace

DiffusionModelImpl::DiffusionModelImpl(const UNet2DConditionConfig& unet_config,
                                       const ClipTextConfig& text_config,
                                       bool with_position_probe) {
  unet = register_module("unet", UNet2DConditionModel(unet_config));
  text_encoder = register_module("text_encoder", ClipTextModel(text_config));
  if (with_position_probe) {
    position_probe = register_module(
        "position_probe", PositionProbe(PositionProbeImpl::DefaultFeatures(unet_config)));
  }
}

torch::Tensor DiffusionTrainer::AlphasCumprod(const nlohmann::json& scheduler) {
  // Core's NoiseSchedule is what every sampler uses, so training noises with exactly the values
  // inference denoises with (beta kinds, rescale_betas_zero_snr, float32 rounding included).
  auto schedule = NoiseSchedule::Create(ModelConfig(scheduler, "scheduler_config.json"));
  TORCH_CHECK(schedule.ok(), "scheduler config: ", schedule.status().ToString());
  const std::vector<double>& ab = (*schedule)->alphas_cumprod();
  return torch::tensor(ab, torch::kFloat64);
}

NoiseSchedule::PredictionType DiffusionTrainer::PredictionTypeOf(const nlohmann::json& scheduler) {
  auto schedule = NoiseSchedule::Create(ModelConfig(scheduler, "scheduler_config.json"));
  TORCH_CHECK(schedule.ok(), "scheduler config: ", schedule.status().ToString());
  return (*schedule)->prediction_type();
}

torch::Tensor DiffusionTrainer::Target(NoiseSchedule::PredictionType type, const torch::Tensor& z0,
                                       const torch::Tensor& eps, const torch::Tensor& ab) {
  switch (type) {
    case NoiseSchedule::PredictionType::kEpsilon:
      return eps;
    case NoiseSchedule::PredictionType::kVPrediction:
      // Salimans & Ho 2022, sec. 4: v = alpha_t eps - sigma_t x0 with alpha_t = sqrt(ab_t),
      // sigma_t = sqrt(1 - ab_t) (diffusers' DDPMScheduler.get_velocity).
      return ab.sqrt() * eps - (1.0 - ab).sqrt() * z0;
    case NoiseSchedule::PredictionType::kSample:
      return z0;
  }
  TORCH_CHECK(false, "unknown prediction type");
}

DiffusionTrainer::DiffusionTrainer(DiffusionTrainerOptions options, const LatentCache* cache,
                                   std::vector<int64_t> empty_prompt_ids, fs::path dir)
    : options_(std::move(options)), cache_(cache), dir_(std::move(dir)) {
  empty_ids_ = torch::tensor(empty_prompt_ids, torch::kInt64);
  alphas_cumprod_ = AlphasCumprod(options_.scheduler);
  prediction_type_ = PredictionTypeOf(options_.scheduler);
  torch::manual_seed(TrainRng::Hash(options_.seed, RngStream::kInit, 2));
  TORCH_CHECK(
      options_.high_noise_fraction >= 0 && options_.high_noise_fraction <= 1 &&
          options_.high_noise_min_t >= 0 && options_.high_noise_min_t < alphas_cumprod_.size(0),
      "high_noise_fraction must be in [0, 1] and high_noise_min_t in [0, ", alphas_cumprod_.size(0),
      "), got ", options_.high_noise_fraction, " and ", options_.high_noise_min_t);
  TORCH_CHECK(options_.grounding_weight >= 0 && options_.grounding_start_step >= 0 &&
                  options_.high_noise_start_step >= 0,
              "grounding_weight and the start steps must be >= 0, got ", options_.grounding_weight,
              ", ", options_.grounding_start_step, " and ", options_.high_noise_start_step);
  TORCH_CHECK(AutocastScope::Supports(options_.device, options_.mixed_precision),
              "mixed precision ", MixedPrecisionName(options_.mixed_precision),
              " is not supported on ", options_.device.str());
  TORCH_CHECK(options_.position_probe_weight >= 0, "position_probe_weight must be >= 0, got ",
              options_.position_probe_weight);
  if (cache_->map_counts.defined()) {  // (an empty cache: a trainer only used to load weights)
    const int64_t map_channels =
        cache_->map_counts.size(1) * cache_->map_subcells * cache_->map_subcells;
    TORCH_CHECK(options_.unet.in_channels == cache_->mean.size(1) + map_channels,
                "the UNet's in_channels ", options_.unet.in_channels, " do not fit the cache's ",
                cache_->mean.size(1), " latent + ", map_channels, " map channels (",
                cache_->map_counts.size(1), " labels x ", cache_->map_subcells, "^2 sub-cells)");
  }
  model_ = DiffusionModel(options_.unet, options_.text, options_.position_probe_weight > 0);
  model_->to(options_.device);
  model_->train();
  for (const auto& m : model_->unet->modules(/*include_self=*/false)) {
    auto* attn = dynamic_cast<nn::AttentionImpl*>(m.get());
    if (attn != nullptr && attn->is_cross_attention()) cross_attention_.push_back(attn);
  }
  auto adamw = [&](double lr) {
    return torch::optim::AdamWOptions(lr).betas({0.9, 0.999}).weight_decay(options_.weight_decay);
  };
  if (options_.tuned != DiffusionTrainerOptions::TunedPart::kAll) {
    optimizer_ = std::make_unique<torch::optim::AdamW>(FreezeAllBut(), adamw(options_.lr.peak_lr));
  } else if (options_.text_lr_scale == 1.0) {
    optimizer_ =
        std::make_unique<torch::optim::AdamW>(model_->parameters(), adamw(options_.lr.peak_lr));
  } else {
    // Two groups: the UNet's, then the text encoder's (TrainStep scales the second one's lr).
    std::vector<torch::optim::OptimizerParamGroup> groups;
    groups.emplace_back(model_->unet->parameters(),
                        std::make_unique<torch::optim::AdamWOptions>(adamw(options_.lr.peak_lr)));
    groups.emplace_back(model_->text_encoder->parameters(),
                        std::make_unique<torch::optim::AdamWOptions>(
                            adamw(options_.lr.peak_lr * options_.text_lr_scale)));
    optimizer_ = std::make_unique<torch::optim::AdamW>(std::move(groups));
  }
  ema_ = std::make_unique<EmaWeights>(*model_, options_.ema_decay);
}

std::vector<torch::Tensor> DiffusionTrainer::FreezeAllBut() {
  using TunedPart = DiffusionTrainerOptions::TunedPart;
  const bool classes = options_.tuned == TunedPart::kClassEmbeddings;
  const char* name = PassName(options_.tuned);
  TORCH_CHECK(options_.position_probe_weight == 0, name,
              " trains no probe: position_probe_weight must be 0, got ",
              options_.position_probe_weight);
  if (classes) {
    TORCH_CHECK(options_.grounding_weight == 0, name,
                " trains no attention: grounding_weight must be 0, got ",
                options_.grounding_weight);
    TORCH_CHECK(options_.unet.num_class_embeds > 0, name,
                " needs a UNet with num_class_embeds > 0");
    TORCH_CHECK(options_.null_class_label >= 0 &&
                    options_.null_class_label < options_.unet.num_class_embeds,
                "null_class_label ", options_.null_class_label, " is not a row of the ",
                options_.unet.num_class_embeds, " class embeddings");
    torch::Tensor labels = cache_->class_label.to(torch::kCPU).contiguous();
    const auto acc = labels.accessor<int64_t, 1>();
    for (int64_t i = 0; i < labels.size(0); ++i) {
      TORCH_CHECK(acc[i] < options_.unet.num_class_embeds, "cache example ", i, " has class ",
                  acc[i], ", the UNet has ", options_.unet.num_class_embeds, " class embeddings");
      if (acc[i] >= 0 && acc[i] != options_.null_class_label) pool_.push_back(i);
    }
    TORCH_CHECK(!pool_.empty(), name, ": the latent cache of ", labels.size(0),
                " examples has no class-labelled one");
  } else {
    // Map samples carry no caption: their token ids are the empty prompt's.
    torch::Tensor ids = cache_->token_ids.to(torch::kCPU);
    TORCH_CHECK(ids.size(1) == empty_ids_.size(0), name, ": the cache's ", ids.size(1),
                " tokens per example differ from the empty prompt's ", empty_ids_.size(0));
    torch::Tensor captioned = ids.ne(empty_ids_.unsqueeze(0)).any(1).contiguous();
    const auto acc = captioned.accessor<bool, 1>();
    for (int64_t i = 0; i < captioned.size(0); ++i) {
      if (acc[i]) pool_.push_back(i);
    }
    TORCH_CHECK(!pool_.empty(), name, ": the latent cache of ", ids.size(0),
                " examples has no captioned one");
  }
  std::vector<torch::Tensor> weights;
  for (auto& p : model_->named_parameters()) {
    const bool train =
        classes ? p.key() == "unet.class_embedding.weight" : p.key().rfind("text_encoder.", 0) == 0;
    p.value().set_requires_grad(train);
    if (train) weights.push_back(p.value());
  }
  TORCH_CHECK(!weights.empty(), name, ": the model has nothing to tune");
  return weights;
}

const char* DiffusionTrainer::PassName(DiffusionTrainerOptions::TunedPart part) {
  switch (part) {
    case DiffusionTrainerOptions::TunedPart::kAll:
      return "diffusion";
    case DiffusionTrainerOptions::TunedPart::kClassEmbeddings:
      return "class-embeddings";
    case DiffusionTrainerOptions::TunedPart::kTextEncoder:
      return "text-encoder";
  }
  return "diffusion";
}

absl::Status DiffusionTrainer::InitTextEncoder(const fs::path& safetensors) {
  LDM_ASSIGN_OR_RETURN(auto file, SafeTensorsFile::Open(safetensors));
  return TorchGuard("diffusion: text encoder init", [&]() -> absl::Status {
    LDM_RETURN_IF_ERROR(LoadStateDict(*model_->text_encoder, *file));
    ema_ = std::make_unique<EmaWeights>(*model_, options_.ema_decay);
    return absl::OkStatus();
  });
}

absl::Status DiffusionTrainer::InitWeights(const fs::path& unet_safetensors,
                                           const fs::path& text_encoder_safetensors,
                                           bool round_to_float16) {
  LDM_ASSIGN_OR_RETURN(auto unet_file, SafeTensorsFile::Open(unet_safetensors));
  LDM_ASSIGN_OR_RETURN(auto text_file, SafeTensorsFile::Open(text_encoder_safetensors));
  return TorchGuard("diffusion: weights init", [&]() -> absl::Status {
    LDM_RETURN_IF_ERROR(LoadStateDict(*model_->unet, *unet_file));
    LDM_RETURN_IF_ERROR(LoadStateDict(*model_->text_encoder, *text_file));
    if (round_to_float16) {
      torch::NoGradGuard no_grad;
      for (auto* module : {static_cast<torch::nn::Module*>(model_->unet.get()),
                           static_cast<torch::nn::Module*>(model_->text_encoder.get())}) {
        for (auto& p : module->parameters()) p.copy_(p.to(torch::kHalf).to(p.scalar_type()));
      }
    }
    ema_ = std::make_unique<EmaWeights>(*model_, options_.ema_decay);
    return absl::OkStatus();
  });
}

absl::Status DiffusionTrainer::SetGrounding(TokenGrounding::Assignment assignment) {
  const int64_t n = cache_->size();
  if (assignment.token_object.dim() != 2 || assignment.token_object.size(0) != n ||
      assignment.token_object.size(1) != cache_->token_ids.size(1) ||
      assignment.object_label.dim() != 2 || assignment.object_label.size(0) != n) {
    return absl::InvalidArgumentError(
        absl::StrCat("grounding assignment does not match the latent cache of ", n, " examples x ",
                     cache_->token_ids.size(1), " tokens"));
  }
  grounding_ = std::move(assignment);
  return absl::OkStatus();
}

bool DiffusionTrainer::GroundingAt(int64_t step) const {
  return options_.grounding_weight > 0 && grounding_.token_object.defined() &&
         step >= options_.grounding_start_step;
}

DiffusionBatch DiffusionTrainer::MakeBatch(int64_t step) const {
  const int64_t b = options_.batch_size, n = cache_->size();
  std::vector<int64_t> index(b);
  for (int64_t i = 0; i < b; ++i) {
    const uint64_t h = TrainRng::Hash(options_.seed, RngStream::kDiffusionIndex, step, i);
    index[i] = pool_.empty() ? static_cast<int64_t>(h % static_cast<uint64_t>(n))
                             : pool_[static_cast<size_t>(h % static_cast<uint64_t>(pool_.size()))];
  }
  torch::Tensor idx = torch::tensor(index, torch::kInt64);
  torch::Generator gen = TrainRng::Generator(options_.seed, RngStream::kDiffusionNoise, step);
  torch::Tensor mean = cache_->mean.index_select(0, idx), std = cache_->std.index_select(0, idx);
  torch::Tensor z0 =
      (mean + std * torch::randn(mean.sizes(), gen, torch::kFloat32)) * options_.scaling_factor;
  const int64_t num_t = alphas_cumprod_.size(0);
  torch::Tensor t = torch::randint(0, num_t, {b}, gen, torch::kInt64);
  if (options_.high_noise_fraction > 0 && step >= options_.high_noise_start_step &&
      (options_.high_noise_end_step < 0 || step < options_.high_noise_end_step)) {
    // Drawn after t so that runs without it keep their random streams.
    torch::Tensor high = torch::randint(options_.high_noise_min_t, num_t, {b}, gen, torch::kInt64);
    torch::Tensor pick = torch::rand({b}, gen).lt(options_.high_noise_fraction);
    t = torch::where(pick, high, t);
  }
  torch::Tensor eps = torch::randn(z0.sizes(), gen, torch::kFloat32);
  torch::Tensor ab = alphas_cumprod_.index_select(0, t).to(torch::kFloat32).view({b, 1, 1, 1});
  torch::Tensor zt = ab.sqrt() * z0 + (1.0 - ab).sqrt() * eps;

  torch::Tensor ids = cache_->token_ids.index_select(0, idx).clone();
  torch::Tensor cls = cache_->class_label.index_select(0, idx).clone();
  torch::Tensor counts = cache_->map_counts.index_select(0, idx);
  torch::Tensor maps =
      MapChannels::FromCounts(counts, cache_->pixels_per_cell, cache_->map_subcells);
  DiffusionBatch out;
  if (GroundingAt(step)) {
    out.grounding_tokens = grounding_.token_object.index_select(0, idx).clone();
    out.object_masks =
        TokenGrounding::ObjectMasks(MapChannels::CellCounts(counts, cache_->map_subcells),
                                    grounding_.object_label.index_select(0, idx));
  }
  ConditionDropout dropout(options_.dropout);
  auto cls_acc = cls.accessor<int64_t, 1>();
  for (int64_t i = 0; i < b; ++i) {
    ConditionKeep keep;
    switch (options_.tuned) {
      case DiffusionTrainerOptions::TunedPart::kAll:
        keep = dropout.Draw(options_.seed, static_cast<uint64_t>(step), i);
        break;
      case DiffusionTrainerOptions::TunedPart::kClassEmbeddings:
        keep = {.text = false, .class_label = true, .map = false};
        break;
      case DiffusionTrainerOptions::TunedPart::kTextEncoder:
        keep = {.text = true, .class_label = false, .map = false};
        break;
    }
    if (!keep.text) {
      ids[i].copy_(empty_ids_);
      if (out.grounding_tokens.defined()) out.grounding_tokens[i].fill_(-1);
    }
    if (!keep.class_label || cls_acc[i] < 0) cls_acc[i] = options_.null_class_label;
    if (!keep.map) maps[i].zero_();
  }
  out.sample = torch::cat({zt, maps}, 1);
  out.timesteps = t;
  out.token_ids = ids;
  out.class_labels = cls;
  out.target = Target(prediction_type_, z0, eps, ab);
  return out;
}

double DiffusionTrainer::TrainStep() {
  DiffusionBatch batch = MakeBatch(step_);
  const torch::Device d = options_.device;
  // With text_lr_scale != 1 the second group is the text encoder's.
  OptimizerStep::Begin(*optimizer_, LrSchedule(options_.lr).At(step_), options_.text_lr_scale);
  std::map<std::string, torch::Tensor> intermediates;
  // Cross-attention maps for the grounding loss: every cross-attention layer records its
  // probabilities during this forward only.
  const bool grounding = GroundingAt(step_);
  std::vector<torch::Tensor> attention_maps;
  torch::Tensor pred;
  {
    AutocastScope autocast(d, options_.mixed_precision);
    torch::Tensor hidden = model_->text_encoder->forward(batch.token_ids.to(d)).last_hidden_state;
    std::optional<AttentionRecording> recording;
    if (grounding) recording.emplace(cross_attention_, &attention_maps);
    pred = model_->unet->forward(batch.sample.to(d), batch.timesteps.to(d), hidden,
                                 batch.class_labels.to(d),
                                 model_->position_probe ? &intermediates : nullptr);
  }
  // The losses run outside autocast, in float32 (a no-op cast without mixed precision).
  torch::Tensor loss = torch::mse_loss(pred.to(torch::kFloat32), batch.target.to(d));
  torch::Tensor total = loss;
  AddAuxiliaryLosses(batch, intermediates, attention_maps, grounding, total);
  OptimizerStep::Finish(*optimizer_, total, model_->parameters(), options_.grad_clip);
  ++step_;
  ema_->Update(*model_, step_);
  return loss.item<double>();
}

void DiffusionTrainer::AddAuxiliaryLosses(const DiffusionBatch& batch,
                                          const std::map<std::string, torch::Tensor>& intermediates,
                                          const std::vector<torch::Tensor>& attention_maps,
                                          bool grounding, torch::Tensor& total) {
  const bool log = options_.log_every > 0 && step_ % options_.log_every == 0;
  if (model_->position_probe) {
    torch::Tensor probe = model_->position_probe->Loss(intermediates);
    last_probe_loss_ = probe.item<double>();
    total = total + options_.position_probe_weight * probe;
    if (log) {
      spdlog::info("{} step {} position probe loss {:.4f}", PassName(options_.tuned), step_,
                   last_probe_loss_);
    }
  }
  if (grounding) {
    torch::Tensor g =
        TokenGrounding::Loss(attention_maps, batch.grounding_tokens, batch.object_masks);
    last_grounding_loss_ = g.item<double>();
    total = total + options_.grounding_weight * g;
    if (log) {
      spdlog::info("{} step {} grounding loss {:.4f}", PassName(options_.tuned), step_,
                   last_grounding_loss_);
    }
  }
}

absl::StatusOr<bool> DiffusionTrainer::Train(bool resume, int64_t max_steps_this_call) {
  if (options_.grounding_weight > 0 && !grounding_.token_object.defined()) {
    return absl::FailedPreconditionError(
        "diffusion: grounding_weight > 0 needs the token grounding (SetGrounding)");
  }
  TrainLoop loop(TrainLoopOptions::From(PassName(options_.tuned), options_), dir_ / "checkpoints");
  absl::StatusOr<bool> finished = loop.Run(*model_, *optimizer_, ema_.get(), &step_, resume,
                                           max_steps_this_call, [this] { return TrainStep(); });
  last_loss_ = loop.last_loss();
  return finished;
}

absl::Status DiffusionTrainer::WriteFinal() {
  return TorchGuard("diffusion final weights", [&]() -> absl::Status {
    DiffusionModel ema_model(options_.unet, options_.text);
    ema_->CopyTo(*ema_model);
    const fs::path out = dir_ / "final";
    fs::create_directories(out);
    LDM_RETURN_IF_ERROR(WriteSafeTensors(out / "unet.safetensors", StateDictOf(*ema_model->unet)));
    LDM_RETURN_IF_ERROR(
        WriteSafeTensors(out / "text_encoder.safetensors", StateDictOf(*ema_model->text_encoder)));
    std::ofstream(out / "state.json") << nlohmann::json{{"steps", step_}}.dump(2) << "\n";
    return absl::OkStatus();
  });
}

}  // namespace ldm::train
