#include "tests/tools/train/tiny_model.h"

#include <torch/torch.h>

#include "core/common/status_macros.h"
#include "core/text/clip_tokenizer.h"
#include "tools/shapes/clip_bpe_trainer.h"
#include "tools/shapes/shapes_dataset.h"
#include "tools/train/model_exporter.h"
#include "tools/train/toy_model_configs.h"
#include "tools/train/training_run.h"

namespace ldm::train::testing {

absl::Status WriteTinyTokenizer(const std::filesystem::path& dir) {
  shapes::ShapesDataset dataset;
  shapes::ClipBpeTrainer trainer(
      {.num_merges = 200, .min_pair_frequency = 1, .model_max_length = 16});
  trainer.AddTexts(dataset.CaptionCorpus(300));
  trainer.Train();
  return trainer.WriteTokenizerDir(dir.string());
}

absl::StatusOr<ExportInputs> TinyExportInputs(const std::filesystem::path& work, int map_subcells) {
  const std::filesystem::path tok_dir = work / "tokenizer";
  LDM_RETURN_IF_ERROR(WriteTinyTokenizer(tok_dir));
  LDM_ASSIGN_OR_RETURN(ClipTokenizer tok, ClipTokenizer::Load(tok_dir));
  ToyModelConfigs c = ToyModelConfigs::Tiny();
  c.SetMapSubcells(map_subcells);
  c.text.vocab_size = tok.vocab_size();
  c.text.eos_token_id = tok.eos_id();
  c.text.max_position_embeddings = tok.model_max_length();
  c.vae.scaling_factor = 0.5;
  torch::manual_seed(7);
  ExportInputs in;
  in.tokenizer_dir = tok_dir;
  in.vae = AutoencoderKL(c.vae);
  in.unet = UNet2DConditionModel(c.unet);
  in.text_encoder = ClipTextModel(c.text);
  in.scheduler = c.scheduler;
  in.bos_token_id = tok.bos_id();
  in.pad_token_id = tok.pad_id();
  in.latent_rgb.factors.assign(4, {0.1, 0.2, 0.3});
  in.latent_rgb.bias = {0, 0, 0};
  in.semantic_map_subcells = map_subcells;
  return in;
}

absl::Status ExportTinyModel(const std::filesystem::path& work, const std::filesystem::path& out,
                             int map_subcells) {
  LDM_ASSIGN_OR_RETURN(ExportInputs in, TinyExportInputs(work, map_subcells));
  return ModelExporter::Export(in, out);
}

TrainingRunOptions TinyRunOptions(const std::filesystem::path& dir) {
  TrainingRunOptions o;
  o.work_dir = dir / "work";
  o.out_dir = dir / "model";
  o.configs = ToyModelConfigs::Tiny();
  o.corpus_size = 300;
  o.max_length = 16;
  o.ae_steps = 2;
  o.ae_batch = 2;
  o.unet_steps = 2;
  o.unet_batch = 2;
  o.cache_size = 24;
  o.holdout_images = 8;
  o.log_every = 1;
  return o;
}

LatentCache FakeCache(int map_subcells) {
  torch::manual_seed(11);
  LatentCache c;
  const int64_t n = 16, r = map_subcells;
  c.mean = torch::randn({n, 4, 8, 8});
  c.std = torch::rand({n, 4, 8, 8}) * 0.1;
  c.token_ids = torch::randint(0, 500, {n, 16}, torch::kInt64);
  c.class_label = torch::randint(-1, 18, {n}, torch::kInt64);
  c.pixels_per_cell = (8 / r) * (8 / r);
  c.map_counts = torch::randint(0, c.pixels_per_cell + 1, {n, 7, 8 * r, 8 * r}, torch::kInt64)
                     .to(torch::kUInt8);
  c.map_subcells = r;
  return c;
}

DiffusionTrainerOptions TinyDiffusion(uint64_t seed, int map_subcells) {
  ToyModelConfigs m = ToyModelConfigs::Tiny();
  m.SetMapSubcells(map_subcells);
  DiffusionTrainerOptions o;
  o.unet = m.unet;
  o.text = m.text;
  o.text.vocab_size = 600;
  o.text.max_position_embeddings = 16;
  o.scheduler = m.scheduler;
  o.scaling_factor = 0.7;
  o.seed = seed;
  o.steps = 4;
  o.batch_size = 3;
  o.lr = {.peak_lr = 1e-3, .warmup_steps = 1, .total_steps = 4};
  o.log_every = 100;
  return o;
}

GroundedCache GroundedFakeCache() {
  GroundedCache g{.cache = FakeCache()};
  const int64_t n = g.cache.size(), len = g.cache.token_ids.size(1);
  g.cache.map_counts.select(1, 1).zero_();
  g.cache.map_counts.select(1, 1).narrow(1, 0, 2).narrow(2, 0, 2).fill_(40);
  g.assignment = {torch::full({n, len}, -1, torch::kInt64),
                  torch::zeros({n, TokenGrounding::kMaxObjects}, torch::kInt64)};
  g.assignment.token_object.narrow(1, 1, 2).fill_(0);
  g.assignment.object_label.select(1, 0).fill_(1);
  return g;
}

std::vector<int64_t> EmptyIds() {
  std::vector<int64_t> ids(16, 599);
  ids[0] = 598;
  return ids;
}

}  // namespace ldm::train::testing
