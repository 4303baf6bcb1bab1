#include "tools/train/training_run.h"

#include <spdlog/spdlog.h>
#include <torch/torch.h>

#include <fstream>
#include <optional>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "core/common/status_macros.h"
#include "core/common/torch_guard.h"
#include "core/io/model_config.h"
#include "core/io/safetensors_file.h"
#include "core/io/state_dict_loader.h"
#include "core/text/clip_tokenizer.h"
#include "tools/shapes/caption_grammar.h"
#include "tools/shapes/clip_bpe_trainer.h"
#include "tools/shapes/shapes_dataset.h"
#include "tools/train/autoencoder_trainer.h"
#include "tools/train/batch_builder.h"
#include "tools/train/classifier_trainer.h"
#include "tools/train/diffusion_trainer.h"
#include "tools/train/latent_cache.h"
#include "tools/train/latent_rgb_fitter.h"
#include "tools/train/model_exporter.h"
#include "tools/train/text_encoder_pretrainer.h"
#include "tools/train/train_rng.h"

namespace ldm::train {
namespace fs = std::filesystem;
namespace {

BatchBuilderOptions DataOptions(const TrainingRunOptions& o, uint64_t seed_offset = 0) {
  BatchBuilderOptions data;
  data.dataset.seed = o.seed + seed_offset;
  data.map_fraction = o.map_fraction;
  return data;
}

absl::Status Stopped(const char* stage) {
  return absl::CancelledError(absl::StrCat(stage, " stopped; rerun with --resume to continue"));
}

// A number a stage recorded in a metrics/state JSON file, as an integer (0 when the file or the
// key is absent or unreadable).
int64_t Recorded(const fs::path& file, const std::string& key) {
  if (!fs::exists(file)) return 0;
  std::ifstream in(file);
  const nlohmann::json j = nlohmann::json::parse(in, nullptr, /*allow_exceptions=*/false);
  return j.is_object() && j.contains(key) && j[key].is_number() ? j[key].get<int64_t>() : 0;
}

int64_t RecordedSteps(const fs::path& file) { return Recorded(file, "steps"); }

}  // namespace

TrainingRun::TrainingRun(TrainingRunOptions options) : options_(std::move(options)) {}

absl::Status TrainingRun::Run(const std::string& stage) {
  if (stage == "tokenizer") return Tokenizer();
  if (stage == "text-pretrain") return TextPretrain();
  if (stage == "autoencoder") return Autoencoder();
  if (stage == "diffusion") return Diffusion();
  if (stage == "class-embeddings") return ClassEmbeddings();
  if (stage == "text-encoder") return TextEncoderPass();
  if (stage == "decoder") return Decoder();
  if (stage == "decoder-edges") return EdgeDecoder();
  if (stage == "export") return Export();
  if (stage == "classifier") return Classifier();
  if (stage == "classifier-export") return ClassifierExport();
  if (stage == "all") {
    LDM_RETURN_IF_ERROR(Tokenizer());
    LDM_RETURN_IF_ERROR(TextPretrain());
    LDM_RETURN_IF_ERROR(Autoencoder());
    LDM_RETURN_IF_ERROR(Diffusion());
    LDM_RETURN_IF_ERROR(TextEncoderPass());
    LDM_RETURN_IF_ERROR(ClassEmbeddings());
    LDM_RETURN_IF_ERROR(Decoder());
    LDM_RETURN_IF_ERROR(EdgeDecoder());
    return Export();
  }
  const std::vector<std::string>& stages = Stages();
  return absl::InvalidArgumentError(
      absl::StrCat("--stage ", stage, " must be ",
                   absl::StrJoin(stages.begin(), stages.end() - 1, ", "), " or ", stages.back()));
}

const std::vector<std::string>& TrainingRun::Stages() {
  static const std::vector<std::string> stages = {
      "all",           "tokenizer",    "text-pretrain",    "autoencoder",
      "diffusion",     "text-encoder", "class-embeddings", "decoder",
      "decoder-edges", "export",       "classifier",       "classifier-export"};
  return stages;
}

absl::Status TrainingRun::Tokenizer() {
  if (fs::exists(TokenizerDir() / "vocab.json")) {
    spdlog::info("tokenizer: done ({} exists)", TokenizerDir().string());
    return absl::OkStatus();
  }
  shapes::ShapesDataset dataset(DataOptions(options_).dataset);
  shapes::ClipBpeTrainer trainer({.num_merges = options_.merges,
                                  .min_pair_frequency = 1,
                                  .model_max_length = options_.max_length});
  trainer.AddTexts(dataset.CaptionCorpus(static_cast<size_t>(options_.corpus_size)));
  trainer.Train();
  LDM_RETURN_IF_ERROR(trainer.WriteTokenizerDir(TokenizerDir().string()));
  spdlog::info("tokenizer: {} merges learned on {} captions -> {}", trainer.merges().size(),
               options_.corpus_size, TokenizerDir().string());
  return absl::OkStatus();
}

absl::Status TrainingRun::TextPretrain() {
  if (options_.text_pretrain_steps <= 0) return absl::OkStatus();
  if (fs::exists(TextPretrainDir() / "final" / "metrics.json")) {
    spdlog::info("text-pretrain: done ({} exists)", (TextPretrainDir() / "final").string());
    return absl::OkStatus();
  }
  LDM_ASSIGN_OR_RETURN(ClipTokenizer tokenizer, ClipTokenizer::Load(TokenizerDir()));
  // The diffusion stage's own captions (same dataset seed), parsed back into their facts.
  shapes::ShapesDataset dataset(DataOptions(options_).dataset);
  const std::vector<std::string> captions =
      dataset.CaptionCorpus(static_cast<size_t>(options_.text_pretrain_corpus));
  const int64_t n = static_cast<int64_t>(captions.size()), l = tokenizer.model_max_length();
  torch::Tensor ids = torch::empty({n, l}, torch::kInt64);
  torch::Tensor targets = torch::empty({n, TextEncoderPretrainer::kNumHeads}, torch::kInt64);
  for (int64_t i = 0; i < n; ++i) {
    LDM_ASSIGN_OR_RETURN(shapes::ParsedCaption facts, shapes::CaptionGrammar::Parse(captions[i]));
    const std::vector<int64_t> row = tokenizer.Encode(captions[i]).input_ids;
    std::copy(row.begin(), row.end(), ids[i].data_ptr<int64_t>());
    const auto t = TextEncoderPretrainer::Targets(facts);
    std::copy(t.begin(), t.end(), targets[i].data_ptr<int64_t>());
  }
  TextEncoderPretrainerOptions o;
  o.text = TextConfig(tokenizer);
  o.seed = options_.seed;
  o.steps = options_.text_pretrain_steps;
  o.batch_size = options_.text_pretrain_batch;
  o.lr = LrScheduleOptions::WarmupCosine(options_.text_pretrain_lr, o.steps, 100, 0.05);
  o.holdout = std::min<int64_t>(2048, n / 10);
  o.checkpoint_every_steps = options_.checkpoint_steps;
  o.checkpoint_every_seconds = options_.checkpoint_seconds;
  o.log_every = options_.log_every;
  o.device = options_.device;
  LDM_ASSIGN_OR_RETURN(auto trainer,
                       TextEncoderPretrainer::Create(o, ids, targets, TextPretrainDir()));
  spdlog::info("text-pretrain: {} captions ({} held out), {} steps x batch {}, lr {}", n, o.holdout,
               o.steps, o.batch_size, o.lr.peak_lr);
  LDM_ASSIGN_OR_RETURN(bool finished,
                       trainer->Train(options_.resume, options_.max_steps_this_call));
  if (!finished) return Stopped("text-pretrain");
  LDM_ASSIGN_OR_RETURN(auto accuracy, trainer->Evaluate());
  for (int h = 0; h < TextEncoderPretrainer::kNumHeads; ++h) {
    spdlog::info("text-pretrain: held-out accuracy {} {:.4f}", TextEncoderPretrainer::kHeadNames[h],
                 accuracy[h]);
  }
  return trainer->WriteFinal();
}

absl::Status TrainingRun::Autoencoder() {
  if (fs::exists(VaeDir() / "config.json")) {
    spdlog::info("autoencoder: done ({} exists)", VaeDir().string());
    return absl::OkStatus();
  }
  AutoencoderTrainerOptions o = AutoencoderOptions(options_.ae_steps, options_.ae_lr);
  o.config = options_.configs.vae;
  o.object_weight = options_.ae_object_weight;
  o.edge_weight = options_.ae_edge_weight;
  return TrainAutoencoder("autoencoder", o, AutoencoderDir());
}

absl::Status TrainingRun::Decoder() {
  if (options_.decoder_steps <= 0) return absl::OkStatus();
  if (fs::exists(DecoderDir() / "vae" / "config.json")) {
    spdlog::info("decoder: done ({} exists)", (DecoderDir() / "vae").string());
    return absl::OkStatus();
  }
  if (!fs::exists(VaeDir() / "config.json")) {
    return absl::FailedPreconditionError(
        absl::StrCat("decoder: the autoencoder stage has not finished (", VaeDir().string(), ")"));
  }
  LDM_ASSIGN_OR_RETURN(ModelConfig config, ModelConfig::FromFile(VaeDir() / "config.json"));
  AutoencoderTrainerOptions o = AutoencoderOptions(options_.decoder_steps, options_.decoder_lr);
  LDM_ASSIGN_OR_RETURN(o.config, AutoencoderKLConfig::FromModelConfig(config));
  o.init_from = VaeDir();
  o.decoder_only = true;
  return TrainAutoencoder("decoder", o, DecoderDir());
}

absl::Status TrainingRun::EdgeDecoder() {
  if (options_.edge_decoder_steps <= 0) return absl::OkStatus();
  if (fs::exists(EdgeDecoderDir() / "vae" / "config.json")) {
    spdlog::info("decoder-edges: done ({} exists)", (EdgeDecoderDir() / "vae").string());
    return absl::OkStatus();
  }
  // Start from the VAE the earlier stages would ship (FinalVaeDir before this stage exists).
  const fs::path init = FinalVaeDir();
  if (!fs::exists(init / "config.json")) {
    return absl::FailedPreconditionError(absl::StrCat(
        "decoder-edges: the autoencoder stage has not finished (", init.string(), ")"));
  }
  LDM_ASSIGN_OR_RETURN(ModelConfig config, ModelConfig::FromFile(init / "config.json"));
  AutoencoderTrainerOptions o =
      AutoencoderOptions(options_.edge_decoder_steps, options_.edge_decoder_lr, /*seed_offset=*/1);
  LDM_ASSIGN_OR_RETURN(o.config, AutoencoderKLConfig::FromModelConfig(config));
  o.init_from = init;
  o.decoder_only = true;
  o.object_weight = options_.edge_decoder_object_weight;
  o.edge_weight = options_.edge_decoder_edge_weight;
  o.decode_latent_padding = options_.decode_latent_padding;
  return TrainAutoencoder("decoder-edges", o, EdgeDecoderDir());
}

fs::path TrainingRun::FinalVaeDir() const {
  for (const fs::path& tuned : {EdgeDecoderDir() / "vae", DecoderDir() / "vae"}) {
    if (fs::exists(tuned / "config.json")) return tuned;
  }
  return VaeDir();
}

AutoencoderTrainerOptions TrainingRun::AutoencoderOptions(int64_t steps, double lr,
                                                          uint64_t seed_offset) const {
  AutoencoderTrainerOptions o;
  o.data = DataOptions(options_, seed_offset);
  o.seed = options_.seed + seed_offset;
  o.steps = steps;
  o.batch_size = options_.ae_batch;
  o.lr = LrScheduleOptions::WarmupCosine(lr, steps, 100, 0.05);
  o.checkpoint_every_steps = options_.checkpoint_steps;
  o.checkpoint_every_seconds = options_.checkpoint_seconds;
  o.log_every = options_.log_every;
  o.scale_images = options_.holdout_images;
  o.device = options_.device;
  return o;
}

absl::Status TrainingRun::TrainAutoencoder(const char* stage, const AutoencoderTrainerOptions& o,
                                           const fs::path& dir) {
  std::optional<AutoencoderTrainer> trainer;
  AutoencoderTrainerOptions named = o;
  named.log_name = stage;
  LDM_RETURN_IF_ERROR(TorchGuard(stage, [&]() -> absl::Status {
    trainer.emplace(named, dir);
    return absl::OkStatus();
  }));
  int64_t params = 0;
  for (const auto& p : trainer->model()->parameters()) {
    if (p.requires_grad()) params += p.numel();
  }
  spdlog::info("{}: {} trainable parameters, {} steps x batch {}, lr {}", stage, params, o.steps,
               o.batch_size, o.lr.peak_lr);
  LDM_ASSIGN_OR_RETURN(bool finished,
                       trainer->Train(options_.resume, options_.max_steps_this_call));
  if (!finished) return Stopped(stage);
  return trainer->Finish();
}

absl::StatusOr<LatentCache> TrainingRun::BuildLatentCache(const ClipTokenizer& tokenizer,
                                                          AutoencoderKL& vae,
                                                          bool read_only) const {
  BatchBuilder builder(DataOptions(options_));
  LatentCacheOptions co;
  co.size = options_.cache_size;
  const int64_t r = options_.configs.map_subcells;
  co.num_labels =
      (options_.configs.unet.in_channels - options_.configs.vae.latent_channels) / (r * r);
  co.map_subcells = r;
  co.read_only = read_only;
  return LatentCache::Build(co, builder, vae, tokenizer, LatentsDir(), options_.device);
}

DiffusionTrainerOptions TrainingRun::CommonDiffusionOptions(const ClipTokenizer& tokenizer,
                                                            double scaling_factor) const {
  DiffusionTrainerOptions o;
  o.unet = options_.configs.unet;
  o.text = TextConfig(tokenizer);
  o.scaling_factor = scaling_factor;
  o.seed = options_.seed;
  o.batch_size = options_.unet_batch;
  o.ema_decay = options_.ema_decay;
  o.null_class_label = kNullClassLabel;
  o.checkpoint_every_steps = options_.checkpoint_steps;
  o.checkpoint_every_seconds = options_.checkpoint_seconds;
  o.log_every = options_.log_every;
  o.device = options_.device;
  o.mixed_precision = options_.mixed_precision;
  return o;
}

ClipTextConfig TrainingRun::TextConfig(const ClipTokenizer& tokenizer) const {
  ClipTextConfig text = options_.configs.text;
  text.vocab_size = tokenizer.vocab_size();
  text.eos_token_id = tokenizer.eos_id();
  text.max_position_embeddings = tokenizer.model_max_length();
  return text;
}

absl::StatusOr<nlohmann::json> TrainingRun::DiffusionScheduler(bool for_training) const {
  const fs::path file = DiffusionDir() / "scheduler_config.json";
  const nlohmann::json& mine = options_.configs.scheduler;
  if (fs::exists(file)) {
    LDM_ASSIGN_OR_RETURN(ModelConfig pinned, ModelConfig::FromFile(file));
    if (for_training && pinned.json() != mine) {
      return absl::FailedPreconditionError(
          absl::StrCat("diffusion: --noise-schedule: ", file.string(), " (prediction_type ",
                       pinned.json().value("prediction_type", "?"),
                       ") was pinned when this work dir's UNet "
                       "started training; this run asks for prediction_type ",
                       mine.value("prediction_type", "?"),
                       ". Use the same --noise-schedule or a new --work-dir"));
    }
    return pinned.json();
  }
  if (for_training) {
    fs::create_directories(DiffusionDir());
    std::ofstream out(file);
    out << mine.dump(2) << "\n";
    if (!out) return absl::InternalError(absl::StrCat("cannot write ", file.string()));
  }
  return mine;
}

absl::Status TrainingRun::Diffusion() {
  if (const fs::path state = DiffusionDir() / "final" / "state.json"; fs::exists(state)) {
    const int64_t done = RecordedSteps(state);
    if (done >= options_.unet_steps) {
      spdlog::info("diffusion: done ({} steps in {})", done, (DiffusionDir() / "final").string());
      return absl::OkStatus();
    }
    spdlog::info("diffusion: final/ has {} steps, --unet-steps {}: continuing", done,
                 options_.unet_steps);
  }
  LDM_ASSIGN_OR_RETURN(ClipTokenizer tokenizer, ClipTokenizer::Load(TokenizerDir()));
  LDM_ASSIGN_OR_RETURN(AutoencoderKL vae,
                       LoadAutoencoderKL(VaeDir(), options_.device, torch::kFloat32));
  LDM_ASSIGN_OR_RETURN(LatentCache cache, BuildLatentCache(tokenizer, vae, /*read_only=*/false));

  DiffusionTrainerOptions o = CommonDiffusionOptions(tokenizer, vae->config().scaling_factor);
  LDM_ASSIGN_OR_RETURN(o.scheduler, DiffusionScheduler(/*for_training=*/true));
  o.text_lr_scale = options_.text_lr_scale;
  o.position_probe_weight = options_.position_probe_weight;
  o.grounding_weight = options_.grounding_weight;
  o.high_noise_fraction = options_.high_noise_fraction;
  o.high_noise_min_t = options_.high_noise_min_t;
  o.grounding_start_step = options_.grounding_start_step;
  o.high_noise_start_step = options_.high_noise_start_step;
  o.high_noise_end_step = options_.high_noise_end_step;
  o.dropout = {.drop_all_probability = options_.cond_drop_all,
               .keep_probability = options_.cond_keep};
  o.steps = options_.unet_steps;
  const int64_t lr_steps =
      options_.unet_lr_steps > 0 ? options_.unet_lr_steps : options_.unet_steps;
  o.lr = LrScheduleOptions::WarmupCosine(options_.unet_lr, lr_steps, 200, 0.1);
  DiffusionTrainer trainer(o, &cache, tokenizer.Encode("").input_ids, DiffusionDir());
  if (options_.text_pretrain_steps > 0) {
    const fs::path init = TextPretrainDir() / "final" / "text_encoder.safetensors";
    if (!fs::exists(init)) {
      return absl::FailedPreconditionError(
          absl::StrCat("diffusion: --text-pretrain-steps ", options_.text_pretrain_steps, " but ",
                       init.string(), " does not exist; run --stage text-pretrain first"));
    }
    // A resumed run's checkpoint replaces these weights; a fresh one starts from them.
    LDM_RETURN_IF_ERROR(trainer.InitTextEncoder(init));
    spdlog::info("diffusion: text encoder initialised from {}", init.string());
  }
  LDM_RETURN_IF_ERROR(SetTokenGrounding(o, tokenizer, cache, trainer));
  int64_t unet_params = 0, text_params = 0;
  for (const auto& p : trainer.model()->unet->parameters()) unet_params += p.numel();
  for (const auto& p : trainer.model()->text_encoder->parameters()) text_params += p.numel();
  spdlog::info(
      "diffusion: UNet {} + text encoder {} parameters, cache {} examples, {} steps x "
      "batch {}, lr {}, scaling_factor {:.5f}",
      unet_params, text_params, cache.size(), o.steps, o.batch_size, o.lr.peak_lr,
      o.scaling_factor);
  LDM_ASSIGN_OR_RETURN(bool finished, trainer.Train(options_.resume, options_.max_steps_this_call));
  if (!finished) return Stopped("diffusion");
  return trainer.WriteFinal();
}

absl::Status TrainingRun::SetTokenGrounding(const DiffusionTrainerOptions& o,
                                            const ClipTokenizer& tokenizer,
                                            const LatentCache& cache,
                                            DiffusionTrainer& trainer) const {
  if (o.grounding_weight <= 0) return absl::OkStatus();
  const char* name = DiffusionTrainer::PassName(o.tuned);
  TokenGrounding::Assignment assignment;
  LDM_RETURN_IF_ERROR(TorchGuard(absl::StrCat(name, ": token grounding"), [&]() {
    assignment = TokenGrounding(tokenizer).Assign(cache.token_ids);
  }));
  const int64_t grounded = assignment.token_object.ge(0).sum().item<int64_t>();
  const int64_t captions = assignment.token_object.ge(0).any(1).sum().item<int64_t>();
  spdlog::info("{}: token grounding: {} tokens in {} of {} examples, weight {} from step {}", name,
               grounded, captions, cache.size(), o.grounding_weight, o.grounding_start_step);
  return trainer.SetGrounding(std::move(assignment));
}

fs::path TrainingRun::FinalDiffusionDir() const {
  for (const fs::path& pass : {ClassEmbeddingsDir(), TextEncoderDir()}) {
    if (fs::exists(pass / "final" / "state.json")) return pass / "final";
  }
  return DiffusionDir() / "final";
}

absl::Status TrainingRun::ClassEmbeddings() {
  return TunedPass(DiffusionTrainerOptions::TunedPart::kClassEmbeddings,
                   options_.class_embedding_steps, options_.class_embedding_lr);
}

absl::Status TrainingRun::TextEncoderPass() {
  return TunedPass(DiffusionTrainerOptions::TunedPart::kTextEncoder, options_.text_encoder_steps,
                   options_.text_encoder_lr);
}

absl::Status TrainingRun::TunedPass(DiffusionTrainerOptions::TunedPart part, int64_t steps,
                                    double lr) {
  const bool classes = part == DiffusionTrainerOptions::TunedPart::kClassEmbeddings;
  const char* name = DiffusionTrainer::PassName(part);
  const fs::path dir = classes ? ClassEmbeddingsDir() : TextEncoderDir();
  if (steps <= 0) return absl::OkStatus();
  const fs::path final_dir = dir / "final";
  if (fs::exists(final_dir / "state.json")) {
    spdlog::info("{}: done ({} exists)", name, final_dir.string());
    return absl::OkStatus();
  }
  // The passes chain in the order of the recipe: the class pass starts from the text-encoder
  // pass when that ran (so the class rows are tuned against the final encoding of the empty
  // prompt, which class-only requests use), and the export's FinalDiffusionDir holds both.
  const fs::path base = classes && fs::exists(TextEncoderDir() / "final" / "state.json")
                            ? TextEncoderDir() / "final"
                            : DiffusionDir() / "final";
  if (!fs::exists(DiffusionDir() / "final" / "state.json")) {
    return absl::FailedPreconditionError(absl::StrCat(name,
                                                      ": the diffusion stage has not finished (",
                                                      (DiffusionDir() / "final").string(), ")"));
  }
  LDM_ASSIGN_OR_RETURN(ClipTokenizer tokenizer, ClipTokenizer::Load(TokenizerDir()));
  LDM_ASSIGN_OR_RETURN(AutoencoderKL vae,
                       LoadAutoencoderKL(VaeDir(), options_.device, torch::kFloat32));
  // The diffusion stage's latent cache; chunks that are missing (a work dir rebuilt from an
  // exported model's tokenizer and VAE) are encoded exactly as that stage would.
  LDM_ASSIGN_OR_RETURN(LatentCache cache, BuildLatentCache(tokenizer, vae, /*read_only=*/false));
  DiffusionTrainerOptions o = CommonDiffusionOptions(tokenizer, vae->config().scaling_factor);
  LDM_ASSIGN_OR_RETURN(o.scheduler, DiffusionScheduler(/*for_training=*/false));
  o.tuned = part;
  // Their own random streams: not a replay of the diffusion stage's (or each other's) steps.
  o.seed = options_.seed + (classes ? 2 : 4);
  // The text pass keeps the run's grounding loss, from its first step: without it, a pass that
  // sharpened single-object shapes lost two-object binding (docs/MODEL.md).
  if (!classes) o.grounding_weight = options_.grounding_weight;
  o.steps = steps;
  o.lr = LrScheduleOptions::WarmupCosine(lr, o.steps, 50, 0.1);
  // No decay (it would shrink weights that get no gradient, such as the null class row) and no
  // EMA (a short pass at a decaying LR; an EMA would also round the frozen weights): the last
  // step's weights ship.
  o.weight_decay = 0.0;
  o.ema_decay = 0.0;
  std::optional<DiffusionTrainer> trainer;
  LDM_RETURN_IF_ERROR(TorchGuard(name, [&]() -> absl::Status {
    trainer.emplace(o, &cache, tokenizer.Encode("").input_ids, dir);
    return absl::OkStatus();
  }));
  LDM_RETURN_IF_ERROR(SetTokenGrounding(o, tokenizer, cache, *trainer));
  // The float16 weights the exporter writes are the ones served, so the pass tunes those.
  LDM_RETURN_IF_ERROR(trainer->InitWeights(base / "unet.safetensors",
                                           base / "text_encoder.safetensors",
                                           /*round_to_float16=*/true));
  spdlog::info("{}: {} steps x batch {}, lr {}, grounding weight {}, from {}", name, o.steps,
               o.batch_size, o.lr.peak_lr, o.grounding_weight, base.string());
  LDM_ASSIGN_OR_RETURN(bool finished,
                       trainer->Train(options_.resume, options_.max_steps_this_call));
  if (!finished) return Stopped(name);
  return trainer->WriteFinal();
}

absl::Status TrainingRun::Export() {
  if (options_.out_dir.empty()) return absl::InvalidArgumentError("export needs --out");
  const fs::path final_dir = FinalDiffusionDir();
  if (!fs::exists(final_dir / "state.json")) {
    return absl::FailedPreconditionError(
        absl::StrCat("export: the diffusion stage has not finished (", final_dir.string(), ")"));
  }
  LDM_ASSIGN_OR_RETURN(ClipTokenizer tokenizer, ClipTokenizer::Load(TokenizerDir()));
  ExportInputs in;
  in.tokenizer_dir = TokenizerDir();
  LDM_ASSIGN_OR_RETURN(in.vae, LoadAutoencoderKL(FinalVaeDir(), options_.device, torch::kFloat32));
  const ClipTextConfig text = TextConfig(tokenizer);
  LDM_RETURN_IF_ERROR(TorchGuard("export", [&]() -> absl::Status {
    in.unet = UNet2DConditionModel(options_.configs.unet);
    in.text_encoder = ClipTextModel(text);
    LDM_ASSIGN_OR_RETURN(auto unet_file, SafeTensorsFile::Open(final_dir / "unet.safetensors"));
    LDM_RETURN_IF_ERROR(LoadStateDict(*in.unet, *unet_file));
    LDM_ASSIGN_OR_RETURN(auto text_file,
                         SafeTensorsFile::Open(final_dir / "text_encoder.safetensors"));
    LDM_RETURN_IF_ERROR(LoadStateDict(*in.text_encoder, *text_file));
    BatchBuilder builder(DataOptions(options_));
    std::vector<uint64_t> keys(static_cast<size_t>(options_.holdout_images));
    for (size_t i = 0; i < keys.size(); ++i) {
      keys[i] = TrainRng::Hash(options_.seed, RngStream::kHoldout, 1, i);
    }
    in.latent_rgb =
        LatentRgbFitter::Fit(in.vae, in.vae->config().scaling_factor, builder.Build(keys).images);
    spdlog::info("export: latent->RGB preview fit RMSE {:.4f}", in.latent_rgb.rmse);
    return absl::OkStatus();
  }));
  LDM_ASSIGN_OR_RETURN(in.scheduler, DiffusionScheduler(/*for_training=*/false));
  in.bos_token_id = tokenizer.bos_id();
  in.pad_token_id = tokenizer.pad_id();
  // How the shipped decoder was trained to decode, whatever this run's flag says.
  in.semantic_map_subcells = options_.configs.map_subcells;
  in.default_guidance_scale_map_only = options_.map_only_guidance;
  in.decode_latent_padding =
      static_cast<int>(Recorded(FinalVaeDir() / "metrics.json", "decode_latent_padding"));
  // Step counts come from what each stage recorded in the work dir, not from this call's flags
  // (an export with other flags must not relabel the weights); 0 for a stage that did not run.
  in.training = {
      {"seed", options_.seed},
      {"autoencoder_steps", RecordedSteps(VaeDir() / "metrics.json")},
      {"autoencoder_batch", options_.ae_batch},
      {"decoder_finetune_steps", RecordedSteps(DecoderDir() / "vae" / "metrics.json")},
      {"edge_decoder_finetune_steps", RecordedSteps(EdgeDecoderDir() / "vae" / "metrics.json")},
      {"text_pretrain_steps", RecordedSteps(TextPretrainDir() / "final" / "metrics.json")},
      {"diffusion_steps", RecordedSteps(DiffusionDir() / "final" / "state.json")},
      {"class_embedding_steps", RecordedSteps(ClassEmbeddingsDir() / "final" / "state.json")},
      {"text_encoder_pass_steps", RecordedSteps(TextEncoderDir() / "final" / "state.json")},
      {"diffusion_batch", options_.unet_batch}};
  LDM_RETURN_IF_ERROR(ModelExporter::Export(in, options_.out_dir));
  spdlog::info("export: wrote {}", options_.out_dir.string());
  // The exporter replaces the whole folder: put a trained classifier back in.
  if (fs::exists(ClassifierDir() / "final" / "config.json")) return ClassifierExport();
  return absl::OkStatus();
}

absl::Status TrainingRun::Classifier() {
  if (fs::exists(ClassifierDir() / "final" / "config.json")) {
    spdlog::info("classifier: done ({} exists)", (ClassifierDir() / "final").string());
    return absl::OkStatus();
  }
  // The latent cache of the diffusion stage, read only (a missing chunk is an error, not encoded).
  LDM_ASSIGN_OR_RETURN(ClipTokenizer tokenizer, ClipTokenizer::Load(TokenizerDir()));
  LDM_ASSIGN_OR_RETURN(AutoencoderKL vae,
                       LoadAutoencoderKL(VaeDir(), options_.device, torch::kFloat32));
  LDM_ASSIGN_OR_RETURN(LatentCache cache, BuildLatentCache(tokenizer, vae, /*read_only=*/true));
  ClassifierTrainerOptions o;
  o.config = options_.configs.classifier;
  LDM_ASSIGN_OR_RETURN(o.scheduler, DiffusionScheduler(/*for_training=*/false));
  o.scaling_factor = vae->config().scaling_factor;
  o.seed = options_.seed;
  o.steps = options_.clf_steps;
  o.batch_size = options_.clf_batch;
  o.lr = LrScheduleOptions::WarmupCosine(options_.clf_lr, options_.clf_steps, 100, 0.05);
  o.holdout = options_.clf_holdout;
  o.checkpoint_every_steps = options_.checkpoint_steps;
  o.checkpoint_every_seconds = options_.checkpoint_seconds;
  o.log_every = options_.log_every;
  o.device = options_.device;
  LDM_ASSIGN_OR_RETURN(std::unique_ptr<ClassifierTrainer> trainer,
                       ClassifierTrainer::Create(o, &cache, ClassifierDir()));
  int64_t params = 0;
  for (const auto& p : trainer->model()->parameters()) params += p.numel();
  spdlog::info(
      "classifier: {} parameters, {} labelled examples ({} held out), {} steps x batch {}, lr {}, "
      "scaling_factor {:.5f}",
      params, trainer->train_examples() + trainer->holdout_examples(), trainer->holdout_examples(),
      o.steps, o.batch_size, o.lr.peak_lr, o.scaling_factor);
  LDM_ASSIGN_OR_RETURN(bool finished,
                       trainer->Train(options_.resume, options_.max_steps_this_call));
  if (!finished) return Stopped("classifier");
  return trainer->WriteFinal();
}

absl::Status TrainingRun::ClassifierExport() {
  if (options_.out_dir.empty()) return absl::InvalidArgumentError("classifier-export needs --out");
  const fs::path final_dir = ClassifierDir() / "final";
  if (!fs::exists(final_dir / "config.json")) {
    return absl::FailedPreconditionError(absl::StrCat(
        "classifier-export: the classifier stage has not finished (", final_dir.string(), ")"));
  }
  if (!fs::exists(options_.out_dir / "model_index.json")) {
    return absl::FailedPreconditionError(absl::StrCat(
        "classifier-export: ", options_.out_dir.string(), " is not an exported model folder"));
  }
  // Copy, then swap in: a reader never sees a half-written classifier/.
  const fs::path dest = options_.out_dir / "classifier";
  const fs::path tmp = options_.out_dir / "classifier.tmp-export";
  std::error_code ec;
  fs::remove_all(tmp, ec);
  fs::create_directories(tmp, ec);
  for (const char* name : {"config.json", "diffusion_pytorch_model.safetensors", "metrics.json"}) {
    if (!fs::exists(final_dir / name)) continue;
    fs::copy_file(final_dir / name, tmp / name, fs::copy_options::overwrite_existing, ec);
    if (ec) {
      return absl::InternalError(
          absl::StrCat("classifier-export: copying ", name, ": ", ec.message()));
    }
  }
  fs::remove_all(dest, ec);
  fs::rename(tmp, dest, ec);
  if (ec) return absl::InternalError(absl::StrCat("classifier-export: ", ec.message()));
  spdlog::info("classifier-export: wrote {}", dest.string());
  return absl::OkStatus();
}

}  // namespace ldm::train
