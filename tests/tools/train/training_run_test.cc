// The whole ldm-train run (all stages, tiny model, a couple of steps each) -> Pipeline::Load.
#include "tools/train/training_run.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

#include <fstream>

#include "core/io/safetensors_file.h"
#include "core/pipeline/pipeline.h"
#include "nlohmann/json.hpp"
#include "tests/testing/fixtures.h"
#include "tools/train/stop_signal.h"

namespace ldm::train {
namespace {
namespace fs = std::filesystem;

TrainingRunOptions Tiny(const fs::path& dir) { return testing::TinyRunOptions(dir); }

// A tensor of a safetensors file, as float32.
torch::Tensor SavedWeight(const fs::path& file, const std::string& name) {
  return SafeTensorsFile::Open(file).value()->Get(name).value().to(torch::kFloat32);
}

// A tensor of a VAE folder's weights, as float32.
torch::Tensor VaeWeight(const fs::path& vae_dir, const std::string& name) {
  return SavedWeight(vae_dir / "diffusion_pytorch_model.safetensors", name);
}

TEST(TrainingRunTest, AllStagesProduceALoadableModel) {
  StopSignal::Set(false);
  const fs::path dir = ldm::testing::TempDir("training_run_all");
  TrainingRun run(Tiny(dir));
  absl::Status s = run.Run("all");
  ASSERT_TRUE(s.ok()) << s;
  auto p = Pipeline::Load(dir / "model");
  ASSERT_TRUE(p.ok()) << p.status();
  EXPECT_EQ((*p)->info().max_prompt_tokens, 16);
  std::ifstream in(dir / "work" / "autoencoder" / "vae" / "metrics.json");
  nlohmann::json metrics = nlohmann::json::parse(in);
  EXPECT_GT(metrics["scaling_factor"].get<double>(), 0.0);
  // Decoder fine-tuning and the class-embedding and text-encoder passes are off by default.
  EXPECT_FALSE(fs::exists(dir / "work" / "decoder"));
  EXPECT_FALSE(fs::exists(dir / "work" / "class-embeddings"));
  EXPECT_FALSE(fs::exists(dir / "work" / "text-encoder"));
  EXPECT_EQ(run.FinalDiffusionDir(), dir / "work" / "diffusion" / "final");
  // Finished stages are skipped on a rerun; export runs again.
  TrainingRun again(Tiny(dir));
  s = again.Run("all");
  EXPECT_TRUE(s.ok()) << s;
}

TEST(TrainingRunTest, UnknownStageIsRefusedNamingEveryStage) {
  const fs::path dir = ldm::testing::TempDir("training_run_unknown_stage");
  absl::Status s = TrainingRun(Tiny(dir)).Run("unet");
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument) << s;
  EXPECT_NE(s.message().find("--stage unet must be all, tokenizer, "), std::string::npos) << s;
  for (const std::string& stage : TrainingRun::Stages()) {
    EXPECT_NE(s.message().find(stage), std::string::npos) << stage << ": " << s;
  }
  EXPECT_NE(s.message().find(" or classifier-export"), std::string::npos) << s;
}

TEST(TrainingRunTest, DiffusionPinsItsScheduleForResumeAndExport) {
  StopSignal::Set(false);
  const fs::path dir = ldm::testing::TempDir("training_run_schedule");
  TrainingRunOptions o = Tiny(dir);
  o.configs.scheduler = ToyModelConfigs::SchedulerConfig(NoiseScheduleRecipe::kStableDiffusion);
  ASSERT_TRUE(TrainingRun(o).Run("tokenizer").ok());
  ASSERT_TRUE(TrainingRun(o).Run("autoencoder").ok());
  o.max_steps_this_call = 1;
  ASSERT_EQ(TrainingRun(o).Run("diffusion").code(), absl::StatusCode::kCancelled);
  // Resuming the epsilon UNet with the default (v-prediction) recipe is refused, naming the flag.
  TrainingRunOptions other = o;
  other.resume = true;
  other.max_steps_this_call = -1;
  other.configs.scheduler = ToyModelConfigs::Tiny().scheduler;
  absl::Status s = TrainingRun(other).Run("diffusion");
  EXPECT_EQ(s.code(), absl::StatusCode::kFailedPrecondition) << s;
  EXPECT_NE(s.message().find("--noise-schedule"), std::string::npos) << s;
  // The same recipe resumes; the export (even from a run with the other flag) ships the schedule
  // the UNet was trained with.
  o.resume = true;
  o.max_steps_this_call = -1;
  s = TrainingRun(o).Run("diffusion");
  ASSERT_TRUE(s.ok()) << s;
  s = TrainingRun(other).Run("export");
  ASSERT_TRUE(s.ok()) << s;
  std::ifstream in(dir / "model" / "scheduler" / "scheduler_config.json");
  nlohmann::json shipped = nlohmann::json::parse(in);
  EXPECT_EQ(shipped["prediction_type"], "epsilon");
  EXPECT_EQ(shipped["timestep_spacing"], "leading");
}

TEST(TrainingRunTest, DecoderStageFineTunesTheExportedVaeAfterDiffusion) {
  StopSignal::Set(false);
  const fs::path dir = ldm::testing::TempDir("training_run_decoder");
  TrainingRunOptions o = Tiny(dir);
  o.decoder_steps = 2;
  absl::Status s = TrainingRun(o).Run("all");
  ASSERT_TRUE(s.ok()) << s;
  const fs::path tuned = dir / "work" / "decoder" / "vae";
  EXPECT_EQ(TrainingRun(o).FinalVaeDir(), tuned);
  // The shipped VAE is the fine-tuned one: its decoder differs from the autoencoder stage's.
  auto conv_out = [](const fs::path& vae_dir) {
    return VaeWeight(vae_dir, "decoder.conv_out.weight");
  };
  const torch::Tensor shipped = conv_out(dir / "model" / "vae");
  EXPECT_TRUE(torch::allclose(shipped, conv_out(tuned), 1e-3, 1e-3));
  EXPECT_FALSE(torch::equal(conv_out(tuned), conv_out(dir / "work" / "autoencoder" / "vae")));
  EXPECT_TRUE(Pipeline::Load(dir / "model").ok());
}

TEST(TrainingRunTest, ClassEmbeddingStageTunesTheFinishedUNetsClassRowsAndIsShipped) {
  StopSignal::Set(false);
  const fs::path dir = ldm::testing::TempDir("training_run_class_embeddings");
  TrainingRunOptions o = Tiny(dir);
  o.class_embedding_steps = 2;
  o.class_embedding_lr = 0.05;
  // Not before the diffusion stage has finished.
  ASSERT_TRUE(TrainingRun(o).Run("tokenizer").ok());
  ASSERT_TRUE(TrainingRun(o).Run("autoencoder").ok());
  absl::Status s = TrainingRun(o).Run("class-embeddings");
  EXPECT_EQ(s.code(), absl::StatusCode::kFailedPrecondition) << s;
  EXPECT_NE(s.message().find("diffusion"), std::string::npos) << s;
  s = TrainingRun(o).Run("all");
  ASSERT_TRUE(s.ok()) << s;
  const fs::path tuned = dir / "work" / "class-embeddings" / "final";
  const fs::path base = dir / "work" / "diffusion" / "final";
  EXPECT_EQ(TrainingRun(o).FinalDiffusionDir(), tuned);
  const fs::path shipped = dir / "model" / "unet" / "diffusion_pytorch_model.safetensors";
  const std::string table = "class_embedding.weight";
  // The class rows moved, the null row and every other weight are the base's (as float16).
  const torch::Tensor rows = SavedWeight(tuned / "unet.safetensors", table);
  const torch::Tensor base_rows = SavedWeight(base / "unet.safetensors", table).to(torch::kHalf);
  EXPECT_FALSE(torch::equal(rows.narrow(0, 0, 18).to(torch::kHalf), base_rows.narrow(0, 0, 18)));
  EXPECT_TRUE(torch::equal(rows[18].to(torch::kHalf), base_rows[18]));
  EXPECT_TRUE(torch::equal(SavedWeight(tuned / "unet.safetensors", "conv_in.weight"),
                           SavedWeight(base / "unet.safetensors", "conv_in.weight")
                               .to(torch::kHalf)
                               .to(torch::kFloat32)));
  // The export ships the tuned rows and records the pass.
  EXPECT_TRUE(torch::equal(SavedWeight(shipped, table).to(torch::kHalf), rows.to(torch::kHalf)));
  const nlohmann::json extras =
      nlohmann::json::parse(std::ifstream(dir / "model" / "ldm_model.json"));
  EXPECT_EQ(extras["training"]["class_embedding_steps"], 2);
  EXPECT_EQ(extras["training"]["diffusion_steps"], o.unet_steps);
  EXPECT_TRUE(Pipeline::Load(dir / "model").ok());
  // A finished pass is skipped on a rerun.
  EXPECT_TRUE(TrainingRun(o).Run("class-embeddings").ok());
}

// Every tensor of `file` equals the one of the same name in `base` rounded to float16 (a pass
// starts from the float16 weights the export ships).
void ExpectSameAsFloat16(const fs::path& file, const fs::path& base) {
  auto tensors = SafeTensorsFile::Open(file).value();
  ASSERT_GT(tensors->Names().size(), 10u) << file;
  for (const std::string& name : tensors->Names()) {
    EXPECT_TRUE(torch::equal(SavedWeight(file, name),
                             SavedWeight(base, name).to(torch::kHalf).to(torch::kFloat32)))
        << file << ": " << name;
  }
}

TEST(TrainingRunTest, TextEncoderStageTunesTheTextEncoderBeforeTheClassPassAndIsShipped) {
  StopSignal::Set(false);
  const fs::path dir = ldm::testing::TempDir("training_run_text_encoder");
  TrainingRunOptions o = Tiny(dir);
  o.text_encoder_steps = 2;
  o.text_encoder_lr = 0.01;
  o.grounding_weight = 0.1;  // the pass keeps the run's grounding loss
  o.class_embedding_steps = 2;
  o.class_embedding_lr = 0.05;
  ASSERT_TRUE(TrainingRun(o).Run("tokenizer").ok());
  ASSERT_TRUE(TrainingRun(o).Run("autoencoder").ok());
  absl::Status s = TrainingRun(o).Run("text-encoder");
  EXPECT_EQ(s.code(), absl::StatusCode::kFailedPrecondition) << s;
  EXPECT_NE(s.message().find("diffusion"), std::string::npos) << s;
  s = TrainingRun(o).Run("all");
  ASSERT_TRUE(s.ok()) << s;
  const fs::path base = dir / "work" / "diffusion" / "final";
  const fs::path text = dir / "work" / "text-encoder" / "final";
  const fs::path classes = dir / "work" / "class-embeddings" / "final";
  EXPECT_EQ(TrainingRun(o).FinalDiffusionDir(), classes);
  // The text pass keeps the diffusion stage's UNet (as float16) and moves the text encoder; the
  // class pass starts from it and keeps its text encoder.
  ExpectSameAsFloat16(text / "unet.safetensors", base / "unet.safetensors");
  const std::string embedding = "text_model.embeddings.token_embedding.weight";
  const torch::Tensor w = SavedWeight(text / "text_encoder.safetensors", embedding);
  EXPECT_FALSE(
      torch::equal(w.to(torch::kHalf),
                   SavedWeight(base / "text_encoder.safetensors", embedding).to(torch::kHalf)));
  ExpectSameAsFloat16(classes / "text_encoder.safetensors", text / "text_encoder.safetensors");
  const std::string table = "class_embedding.weight";
  EXPECT_FALSE(torch::equal(SavedWeight(classes / "unet.safetensors", table).to(torch::kHalf),
                            SavedWeight(text / "unet.safetensors", table).to(torch::kHalf)));
  // The export ships both.
  const fs::path shipped = dir / "model" / "text_encoder" / "model.safetensors";
  EXPECT_TRUE(torch::equal(SavedWeight(shipped, embedding).to(torch::kHalf), w.to(torch::kHalf)));
  const nlohmann::json extras =
      nlohmann::json::parse(std::ifstream(dir / "model" / "ldm_model.json"));
  EXPECT_EQ(extras["training"]["text_encoder_pass_steps"], 2);
  EXPECT_EQ(extras["training"]["class_embedding_steps"], 2);
  EXPECT_TRUE(Pipeline::Load(dir / "model").ok());
  EXPECT_TRUE(TrainingRun(o).Run("text-encoder").ok());  // finished: skipped
}

TEST(TrainingRunTest, EdgeDecoderStageContinuesFromTheDecoderStageAndIsShipped) {
  StopSignal::Set(false);
  const fs::path dir = ldm::testing::TempDir("training_run_edge_decoder");
  TrainingRunOptions o = Tiny(dir);
  o.decoder_steps = 2;
  o.edge_decoder_steps = 2;
  o.decode_latent_padding = 1;  // the edge pass decodes with a one-cell margin
  absl::Status s = TrainingRun(o).Run("all");
  ASSERT_TRUE(s.ok()) << s;
  const fs::path edges = dir / "work" / "decoder-edges" / "vae";
  EXPECT_EQ(TrainingRun(o).FinalVaeDir(), edges);
  const fs::path decoder = dir / "work" / "decoder" / "vae";
  // Decoder-only again: the encoder is the decoder stage's (and the autoencoder's), the decoder
  // moved on from it, and the export ships it.
  EXPECT_TRUE(torch::equal(VaeWeight(edges, "encoder.conv_in.weight"),
                           VaeWeight(decoder, "encoder.conv_in.weight")));
  EXPECT_FALSE(torch::equal(VaeWeight(edges, "decoder.conv_out.weight"),
                            VaeWeight(decoder, "decoder.conv_out.weight")));
  EXPECT_TRUE(torch::allclose(VaeWeight(dir / "model" / "vae", "decoder.conv_out.weight"),
                              VaeWeight(edges, "decoder.conv_out.weight"), 1e-3, 1e-3));
  const nlohmann::json extras =
      nlohmann::json::parse(std::ifstream(dir / "model" / "ldm_model.json"));
  EXPECT_EQ(extras["training"]["edge_decoder_finetune_steps"], 2);
  // The model decodes the way its final decoder was trained to; the decoder stage had no margin.
  EXPECT_EQ(extras["decode_latent_padding"], 1);
  auto metrics = [](const fs::path& vae_dir) {
    return nlohmann::json::parse(std::ifstream(vae_dir / "metrics.json"));
  };
  EXPECT_EQ(metrics(edges)["decode_latent_padding"], 1);
  EXPECT_EQ(metrics(decoder)["decode_latent_padding"], 0);
  auto shipped = Pipeline::Load(dir / "model");
  ASSERT_TRUE(shipped.ok()) << shipped.status();
  EXPECT_EQ((*shipped)->extras().decode_latent_padding, 1);
  // A finished stage is skipped on a rerun.
  EXPECT_TRUE(TrainingRun(o).Run("decoder-edges").ok());
  // Re-exporting with other step flags does not relabel the weights: the counts are the ones the
  // stages recorded.
  TrainingRunOptions relabel = o;
  relabel.ae_steps += 100;
  relabel.decoder_steps = 99;
  relabel.edge_decoder_steps = 98;
  relabel.unet_steps += 77;
  relabel.decode_latent_padding = 0;
  ASSERT_TRUE(TrainingRun(relabel).Run("export").ok());
  const nlohmann::json again =
      nlohmann::json::parse(std::ifstream(dir / "model" / "ldm_model.json"));
  EXPECT_EQ(again["training"]["autoencoder_steps"], o.ae_steps);
  EXPECT_EQ(again["training"]["decoder_finetune_steps"], 2);
  EXPECT_EQ(again["training"]["edge_decoder_finetune_steps"], 2);
  EXPECT_EQ(again["training"]["diffusion_steps"], o.unet_steps);
  EXPECT_EQ(again["training"]["text_pretrain_steps"], 0);
  EXPECT_EQ(again["decode_latent_padding"], 1);  // recorded by the stage, not the flag
}

TEST(TrainingRunTest, FinishedDiffusionContinuesWhenUnetStepsGrow) {
  StopSignal::Set(false);
  const fs::path dir = ldm::testing::TempDir("training_run_extend");
  TrainingRunOptions o = Tiny(dir);
  ASSERT_TRUE(TrainingRun(o).Run("tokenizer").ok());
  ASSERT_TRUE(TrainingRun(o).Run("autoencoder").ok());
  ASSERT_TRUE(TrainingRun(o).Run("diffusion").ok());
  const fs::path state = dir / "work" / "diffusion" / "final" / "state.json";
  auto steps = [&] {
    std::ifstream in(state);
    return nlohmann::json::parse(in)["steps"].get<int64_t>();
  };
  ASSERT_EQ(steps(), 2);
  // More steps: continues from the step-2 checkpoint (so it needs --resume) and rewrites final/.
  TrainingRunOptions longer = o;
  longer.unet_steps = 4;
  longer.unet_lr_steps = 2;  // steps 2-3 at the schedule's final LR
  EXPECT_EQ(TrainingRun(longer).Run("diffusion").code(), absl::StatusCode::kFailedPrecondition);
  longer.resume = true;
  ASSERT_TRUE(TrainingRun(longer).Run("diffusion").ok());
  EXPECT_EQ(steps(), 4);
  // As many or fewer steps than final/ has: done, nothing trained.
  const auto written = fs::last_write_time(state);
  ASSERT_TRUE(TrainingRun(longer).Run("diffusion").ok());
  ASSERT_TRUE(TrainingRun(o).Run("diffusion").ok());
  EXPECT_EQ(steps(), 4);
  EXPECT_EQ(fs::last_write_time(state), written);
}

TEST(TrainingRunTest, MapSubcellsAndMapGuidanceReachTheExportedModelAndAWorkDirKeepsItsSubcells) {
  StopSignal::Set(false);
  const fs::path dir = ldm::testing::TempDir("training_run_subcells");
  TrainingRunOptions o = Tiny(dir);
  o.configs.SetMapSubcells(2);
  o.map_only_guidance = 1.5;
  ASSERT_EQ(o.configs.unet.in_channels, 4 + 7 * 4);
  absl::Status s = TrainingRun(o).Run("all");
  ASSERT_TRUE(s.ok()) << s;
  auto p = Pipeline::Load(dir / "model");
  ASSERT_TRUE(p.ok()) << p.status();
  EXPECT_EQ((*p)->info().semantic_map_subcells, 2);
  EXPECT_EQ((*p)->info().semantic_channels, 7);
  EXPECT_EQ((*p)->info().default_guidance_map_only, 1.5);
  std::ifstream in(dir / "model" / "ldm_model.json");
  const nlohmann::json extras = nlohmann::json::parse(in);
  EXPECT_EQ(extras["semantic_map_subcells"].get<int>(), 2);
  // The map-only default guidance the run was given, not the exporter's 2.
  EXPECT_EQ(extras["default_guidance_scale_map_only"].get<double>(), 1.5);
  // The latent cache stores the maps at 2x2 sub-cells per latent cell: a run with another value
  // in the same work dir is refused, naming both, instead of training on mismatched maps.
  TrainingRunOptions other = Tiny(dir);
  other.unet_steps = 3;
  other.resume = true;
  s = TrainingRun(other).Run("diffusion");
  EXPECT_EQ(s.code(), absl::StatusCode::kFailedPrecondition) << s;
  EXPECT_NE(s.message().find("stores maps with 2 sub-cells per latent cell side; --map-subcells 1"),
            std::string::npos)
      << s;
}

TEST(TrainingRunTest, SignalStopsWithCancelledAndResumeFinishes) {
  const fs::path dir = ldm::testing::TempDir("training_run_signal");
  TrainingRunOptions o = Tiny(dir);
  ASSERT_TRUE(TrainingRun(o).Run("tokenizer").ok());
  StopSignal::Set(true);
  absl::Status s = TrainingRun(o).Run("autoencoder");
  StopSignal::Set(false);
  EXPECT_TRUE(absl::IsCancelled(s)) << s;
  o.resume = true;
  s = TrainingRun(o).Run("autoencoder");
  EXPECT_TRUE(s.ok()) << s;
  EXPECT_EQ(TrainingRun(o).Run("bogus").code(), absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace ldm::train
