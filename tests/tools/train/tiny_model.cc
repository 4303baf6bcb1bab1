#include "tests/tools/train/tiny_model.h"

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

absl::Status ExportTinyModel(const std::filesystem::path& work, const std::filesystem::path& out) {
  const std::filesystem::path tok_dir = work / "tokenizer";
  LDM_RETURN_IF_ERROR(WriteTinyTokenizer(tok_dir));
  LDM_ASSIGN_OR_RETURN(ClipTokenizer tok, ClipTokenizer::Load(tok_dir));
  ToyModelConfigs c = ToyModelConfigs::Tiny();
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

}  // namespace ldm::train::testing
