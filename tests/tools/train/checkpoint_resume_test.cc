// Determinism and checkpoint/resume of both trainers on tiny configs.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <cmath>
#include <map>
#include <set>
#include <string>

#include "core/io/model_config.h"
#include "core/sampling/noise_schedule.h"
#include "tests/testing/fixtures.h"
#include "tests/tools/train/tiny_model.h"
#include "tools/train/autoencoder_trainer.h"
#include "tools/train/diffusion_trainer.h"
#include "tools/train/stop_signal.h"
#include "tools/train/toy_model_configs.h"

namespace ldm::train {
namespace {
namespace fs = std::filesystem;

void ExpectSameParameters(const torch::nn::Module& a, const torch::nn::Module& b) {
  auto pa = a.named_parameters(), pb = b.named_parameters();
  ASSERT_EQ(pa.size(), pb.size());
  for (const auto& p : pa) {
    EXPECT_TRUE(torch::equal(p.value(), pb[p.key()])) << p.key();
  }
}

AutoencoderTrainerOptions TinyAe(uint64_t seed) {
  AutoencoderTrainerOptions o;
  o.config = ToyModelConfigs::Tiny().vae;
  o.seed = seed;
  o.data.dataset.seed = seed;
  o.steps = 4;
  o.batch_size = 2;
  o.lr = {.peak_lr = 1e-3, .warmup_steps = 1, .total_steps = 4};
  o.log_every = 100;
  o.scale_images = 4;
  return o;
}

TEST(AutoencoderTrainerTest, SameSeedSameLossAndResumeIsExact) {
  StopSignal::Set(false);
  const fs::path dir = ldm::testing::TempDir("ae_resume");
  AutoencoderTrainer a(TinyAe(1), dir / "a");
  ASSERT_TRUE(*a.Train(false));
  AutoencoderTrainer same(TinyAe(1), dir / "same");
  ASSERT_TRUE(*same.Train(false));
  EXPECT_EQ(a.last_loss(), same.last_loss());
  AutoencoderTrainer other(TinyAe(2), dir / "other");
  ASSERT_TRUE(*other.Train(false));
  EXPECT_NE(a.last_loss(), other.last_loss());

  AutoencoderTrainer first(TinyAe(1), dir / "b");
  absl::StatusOr<bool> stopped = first.Train(false, /*max_steps_this_call=*/2);
  ASSERT_TRUE(stopped.ok()) << stopped.status();
  EXPECT_FALSE(*stopped);
  AutoencoderTrainer refuse(TinyAe(1), dir / "b");
  EXPECT_EQ(refuse.Train(false).status().code(), absl::StatusCode::kFailedPrecondition);
  AutoencoderTrainer resumed(TinyAe(1), dir / "b");
  ASSERT_TRUE(*resumed.Train(true));
  EXPECT_EQ(resumed.step(), 4);
  EXPECT_EQ(resumed.last_loss(), a.last_loss());
  ExpectSameParameters(*a.model(), *resumed.model());

  absl::Status fin = resumed.Finish();
  ASSERT_TRUE(fin.ok()) << fin;
  EXPECT_TRUE(fs::exists(dir / "b" / "vae" / "config.json"));
  EXPECT_TRUE(fs::exists(dir / "b" / "vae" / "diffusion_pytorch_model.safetensors"));
}

TEST(AutoencoderTrainerTest, StopSignalWritesACheckpoint) {
  const fs::path dir = ldm::testing::TempDir("ae_signal");
  StopSignal::Set(true);
  AutoencoderTrainer t(TinyAe(1), dir);
  absl::StatusOr<bool> r = t.Train(false);
  StopSignal::Set(false);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_FALSE(*r);
  EXPECT_TRUE(fs::exists(dir / "checkpoints" / "LATEST"));
}

using testing::EmptyIds;
using testing::FakeCache;
using testing::TinyDiffusion;

TEST(DiffusionTrainerTest, SameSeedSameLossAndResumeIsExact) {
  StopSignal::Set(false);
  const fs::path dir = ldm::testing::TempDir("diffusion_resume");
  LatentCache cache = FakeCache();
  DiffusionTrainer a(TinyDiffusion(1), &cache, EmptyIds(), dir / "a");
  ASSERT_TRUE(*a.Train(false));
  DiffusionTrainer same(TinyDiffusion(1), &cache, EmptyIds(), dir / "same");
  ASSERT_TRUE(*same.Train(false));
  EXPECT_EQ(a.last_loss(), same.last_loss());

  DiffusionTrainer first(TinyDiffusion(1), &cache, EmptyIds(), dir / "b");
  EXPECT_FALSE(*first.Train(false, 2));
  DiffusionTrainer resumed(TinyDiffusion(1), &cache, EmptyIds(), dir / "b");
  ASSERT_TRUE(*resumed.Train(true));
  EXPECT_EQ(resumed.last_loss(), a.last_loss());
  ExpectSameParameters(*a.model(), *resumed.model());
  for (const auto& [name, t] : a.ema().shadow()) {
    EXPECT_TRUE(torch::equal(t, resumed.ema().shadow().at(name))) << name;
  }
  absl::Status fin = resumed.WriteFinal();
  ASSERT_TRUE(fin.ok()) << fin;
  EXPECT_TRUE(fs::exists(dir / "b" / "final" / "unet.safetensors"));
}

TEST(DiffusionTrainerTest, TextLrScaleTrainsTheTextEncoderFasterAndResumesExactly) {
  StopSignal::Set(false);
  const fs::path dir = ldm::testing::TempDir("diffusion_text_lr");
  LatentCache cache = FakeCache();
  DiffusionTrainerOptions scaled = TinyDiffusion(1);
  scaled.text_lr_scale = 5.0;
  DiffusionTrainer plain(TinyDiffusion(1), &cache, EmptyIds(), dir / "plain");
  ASSERT_TRUE(*plain.Train(false));
  DiffusionTrainer a(scaled, &cache, EmptyIds(), dir / "a");
  ASSERT_TRUE(*a.Train(false));
  // Same init and batches: the text encoder moved further, the UNet's first step is the same.
  DiffusionTrainer init(TinyDiffusion(1), &cache, EmptyIds(), dir / "init");
  auto moved = [&](DiffusionTrainer& t) {
    double sum = 0;
    auto p0 = init.model()->text_encoder->parameters();
    auto p1 = t.model()->text_encoder->parameters();
    for (size_t i = 0; i < p0.size(); ++i) sum += (p1[i] - p0[i]).abs().sum().item<double>();
    return sum;
  };
  EXPECT_GT(moved(a), 2.0 * moved(plain));
  DiffusionTrainer first(scaled, &cache, EmptyIds(), dir / "b");
  EXPECT_FALSE(*first.Train(false, 2));
  DiffusionTrainer resumed(scaled, &cache, EmptyIds(), dir / "b");
  ASSERT_TRUE(*resumed.Train(true));
  EXPECT_EQ(resumed.last_loss(), a.last_loss());
  ExpectSameParameters(*a.model(), *resumed.model());
}

TEST(DiffusionTrainerTest, DroppedConditionsTakeTheirNullValues) {
  LatentCache cache = FakeCache();
  DiffusionTrainerOptions o = TinyDiffusion(1);
  o.batch_size = 8;
  o.dropout = {.drop_all_probability = 1.0, .keep_probability = 1.0};
  DiffusionTrainer t(o, &cache, EmptyIds(), ldm::testing::TempDir("diffusion_drop"));
  DiffusionBatch b = t.MakeBatch(0);
  EXPECT_TRUE(torch::all(b.class_labels == 18).item<bool>());
  EXPECT_EQ(b.sample.narrow(1, 4, 7).abs().sum().item<double>(), 0.0);
  for (int i = 0; i < 8; ++i) {
    EXPECT_TRUE(torch::equal(b.token_ids[i], torch::tensor(EmptyIds(), torch::kInt64)));
  }
  o.dropout = {.drop_all_probability = 0.0, .keep_probability = 1.0};
  DiffusionTrainer keep(o, &cache, EmptyIds(), ldm::testing::TempDir("diffusion_keep"));
  DiffusionBatch k = keep.MakeBatch(0);
  // Kept maps are count / 64 fractions that sum to 1 over the 7 channels.
  torch::Tensor sums = k.sample.narrow(1, 4, 7).sum(1);
  EXPECT_GT(sums.max().item<double>(), 0.0);
  // Classes stay as cached, with "no class" (-1) mapped to the null class.
  EXPECT_TRUE(torch::all((k.class_labels >= 0) & (k.class_labels <= 18)).item<bool>());
  EXPECT_EQ(k.timesteps.size(0), 8);
  EXPECT_TRUE(torch::all((k.timesteps >= 0) & (k.timesteps < 1000)).item<bool>());
}

TEST(DiffusionTrainerTest, SubcellMapsReachTheUNetUnshuffledAndGroundingSeesWholeCells) {
  LatentCache cache = FakeCache(/*map_subcells=*/2);
  const int64_t n = cache.size();
  // Every example gets example 0's map, except that label 1 covers only sub-cell (4, 7): the
  // top-right sub-cell of latent cell (2, 3).
  cache.map_counts = cache.map_counts.narrow(0, 0, 1).expand({n, 7, 16, 16}).clone();
  cache.map_counts.select(1, 1).zero_();
  cache.map_counts.index_put_({torch::indexing::Slice(), 1, 4, 7}, 9);
  DiffusionTrainerOptions o = TinyDiffusion(1, /*map_subcells=*/2);
  o.batch_size = 4;
  o.dropout = {.drop_all_probability = 0.0, .keep_probability = 1.0};
  o.grounding_weight = 0.5;
  DiffusionTrainer t(o, &cache, EmptyIds(), ldm::testing::TempDir("diffusion_subcells"));
  TokenGrounding::Assignment grounding{
      torch::full({n, 16}, -1, torch::kInt64),
      torch::zeros({n, TokenGrounding::kMaxObjects}, torch::kInt64)};
  grounding.token_object.narrow(1, 1, 2).fill_(0);
  grounding.object_label.select(1, 0).fill_(1);
  ASSERT_TRUE(t.SetGrounding(grounding).ok());
  DiffusionBatch b = t.MakeBatch(0);
  ASSERT_EQ(b.sample.size(1), 4 + 28);
  // Each map channel is a sub-cell's count / 16 (4x4 pixels), in pixel_unshuffle order.
  const torch::Tensor expected =
      torch::pixel_unshuffle(cache.map_counts.narrow(0, 0, 1).to(torch::kFloat32) / 16.0, 2);
  for (int64_t i = 0; i < 4; ++i) {
    EXPECT_TRUE(torch::equal(b.sample.narrow(1, 4, 28)[i], expected[0])) << i;
  }
  EXPECT_FLOAT_EQ(b.sample[0][4 + 1 * 4 + 1][2][3].item<float>(), 9.0f / 16);  // label 1, (0, 1)
  // Grounding masks stay per latent cell: object 0 (label 1) is in cell (2, 3) only.
  ASSERT_EQ(b.object_masks.sizes(), torch::IntArrayRef({4, TokenGrounding::kMaxObjects, 8, 8}));
  EXPECT_EQ(b.object_masks[0][0].sum().item<float>(), 1.0f);
  EXPECT_EQ(b.object_masks[0][0][2][3].item<float>(), 1.0f);
  ASSERT_TRUE(*t.Train(false));  // the steps run end to end
  EXPECT_TRUE(std::isfinite(t.last_loss()));
  // A UNet sized for one fraction per cell does not fit a sub-cell cache.
  EXPECT_THROW(DiffusionTrainer(TinyDiffusion(1), &cache, EmptyIds(),
                                ldm::testing::TempDir("diffusion_subcells_bad")),
               c10::Error);
}

// A pass run from `unet` / `text`, stopped after 2 steps and resumed in `dir`, ends with the
// weights and loss of `whole`, the same pass run in one go.
void ExpectPassResumesExactly(const DiffusionTrainerOptions& o, const LatentCache& cache,
                              const fs::path& unet, const fs::path& text, const fs::path& dir,
                              DiffusionTrainer& whole) {
  DiffusionTrainer first(o, &cache, EmptyIds(), dir);
  ASSERT_TRUE(first.InitWeights(unet, text, /*round_to_float16=*/true).ok());
  EXPECT_FALSE(*first.Train(false, 2));
  DiffusionTrainer resumed(o, &cache, EmptyIds(), dir);
  ASSERT_TRUE(resumed.InitWeights(unet, text, /*round_to_float16=*/true).ok());
  ASSERT_TRUE(*resumed.Train(true));
  EXPECT_EQ(resumed.last_loss(), whole.last_loss());
  ExpectSameParameters(*whole.model(), *resumed.model());
}

DiffusionTrainerOptions ClassPass(uint64_t seed) {
  DiffusionTrainerOptions o = TinyDiffusion(seed);
  o.tuned = DiffusionTrainerOptions::TunedPart::kClassEmbeddings;
  o.weight_decay = 0.0;
  o.ema_decay = 0.0;
  o.batch_size = 8;
  o.lr.peak_lr = 0.05;
  return o;
}

TEST(DiffusionTrainerTest, ClassEmbeddingPassBatchesOnlyLabelledExamplesWithClassAlone) {
  LatentCache cache = FakeCache();
  const auto labels = cache.class_label.accessor<int64_t, 1>();
  DiffusionTrainer t(ClassPass(1), &cache, EmptyIds(), ldm::testing::TempDir("class_pass_batch"));
  for (int64_t step = 0; step < 3; ++step) {
    DiffusionBatch b = t.MakeBatch(step);
    // Every example is class-labelled (none is the null class), with the empty prompt and no map.
    EXPECT_TRUE(torch::all((b.class_labels >= 0) & (b.class_labels < 18)).item<bool>());
    EXPECT_EQ(b.sample.narrow(1, 4, 7).abs().sum().item<double>(), 0.0);
    for (int64_t i = 0; i < 8; ++i) {
      EXPECT_TRUE(torch::equal(b.token_ids[i], torch::tensor(EmptyIds(), torch::kInt64)));
    }
  }
  // The labelled examples are drawn, not only the first one: more than one class appears.
  std::set<int64_t> seen;
  for (int64_t step = 0; step < 4; ++step) {
    DiffusionBatch b = t.MakeBatch(step);
    for (int64_t i = 0; i < 8; ++i) seen.insert(b.class_labels[i].item<int64_t>());
  }
  EXPECT_GT(seen.size(), 3u);
  int64_t labelled = 0;
  for (int64_t i = 0; i < cache.size(); ++i) labelled += labels[i] >= 0 ? 1 : 0;
  ASSERT_GT(labelled, 0);
  // A cache without class labels cannot feed the pass.
  LatentCache unlabelled = FakeCache();
  unlabelled.class_label.fill_(-1);
  EXPECT_THROW(DiffusionTrainer(ClassPass(1), &unlabelled, EmptyIds(),
                                ldm::testing::TempDir("class_pass_unlabelled")),
               c10::Error);
  DiffusionTrainerOptions probe = ClassPass(1);
  probe.position_probe_weight = 0.1;
  EXPECT_THROW(
      DiffusionTrainer(probe, &cache, EmptyIds(), ldm::testing::TempDir("class_pass_probe")),
      c10::Error);
}

TEST(DiffusionTrainerTest, ClassEmbeddingPassTrainsOnlyTheLabelledClassRowsAndResumesExactly) {
  StopSignal::Set(false);
  const fs::path dir = ldm::testing::TempDir("class_pass_train");
  LatentCache cache = FakeCache();
  // A base model's weights (any: the tiny untrained one) as a finished diffusion stage writes them.
  DiffusionTrainer base(TinyDiffusion(5), &cache, EmptyIds(), dir / "base");
  ASSERT_TRUE(base.WriteFinal().ok());
  const fs::path unet = dir / "base" / "final" / "unet.safetensors";
  const fs::path text = dir / "base" / "final" / "text_encoder.safetensors";

  DiffusionTrainer a(ClassPass(1), &cache, EmptyIds(), dir / "a");
  ASSERT_TRUE(a.InitWeights(unet, text, /*round_to_float16=*/true).ok());
  // The start is the base model rounded to float16, the precision the exporter ships.
  for (const auto& p : base.model()->named_parameters()) {
    if (p.key().rfind("unet.", 0) != 0 && p.key().rfind("text_encoder.", 0) != 0) continue;
    EXPECT_TRUE(torch::equal(a.model()->named_parameters()[p.key()],
                             p.value().to(torch::kHalf).to(torch::kFloat)))
        << p.key();
  }
  std::map<std::string, torch::Tensor> start;
  for (const auto& p : a.model()->named_parameters()) start[p.key()] = p.value().detach().clone();
  ASSERT_TRUE(*a.Train(false));
  for (const auto& p : a.model()->named_parameters()) {
    if (p.key() != "unet.class_embedding.weight") {
      EXPECT_TRUE(torch::equal(p.value(), start.at(p.key()))) << p.key() << " moved";
      continue;
    }
    const torch::Tensor moved = (p.value() - start.at(p.key())).abs().sum(1);
    // The null class row (18) is untouched bit for bit; the trained classes' rows moved.
    EXPECT_EQ(moved[18].item<double>(), 0.0);
    EXPECT_GT(moved.narrow(0, 0, 18).gt(0).sum().item<int64_t>(), 3);
  }
  ExpectPassResumesExactly(ClassPass(1), cache, unet, text, dir / "b", a);
  // With no EMA the final weights are the trained ones exactly.
  ASSERT_TRUE(a.WriteFinal().ok());
  DiffusionTrainer reread(ClassPass(1), &cache, EmptyIds(), dir / "c");
  ASSERT_TRUE(reread
                  .InitWeights(dir / "a" / "final" / "unet.safetensors",
                               dir / "a" / "final" / "text_encoder.safetensors", false)
                  .ok());
  ExpectSameParameters(*a.model(), *reread.model());
  // A missing file is an error that names it.
  absl::Status missing = reread.InitWeights(dir / "nope.safetensors", text, false);
  EXPECT_FALSE(missing.ok());
  EXPECT_NE(missing.message().find("nope.safetensors"), std::string::npos) << missing;
}

DiffusionTrainerOptions TextPass(uint64_t seed) {
  DiffusionTrainerOptions o = ClassPass(seed);
  o.tuned = DiffusionTrainerOptions::TunedPart::kTextEncoder;
  o.lr.peak_lr = 0.01;
  return o;
}

TEST(DiffusionTrainerTest, TextEncoderPassBatchesOnlyCaptionedExamplesWithTextAlone) {
  LatentCache cache = FakeCache();
  // Half the examples are map samples without a caption (the empty prompt's ids).
  const torch::Tensor empty = torch::tensor(EmptyIds(), torch::kInt64);
  for (int64_t i = 0; i < cache.size(); i += 2) cache.token_ids[i].copy_(empty);
  DiffusionTrainer t(TextPass(1), &cache, EmptyIds(), ldm::testing::TempDir("text_pass_batch"));
  std::set<std::vector<int64_t>> seen;
  for (int64_t step = 0; step < 4; ++step) {
    DiffusionBatch b = t.MakeBatch(step);
    // A caption every time, with the null class and no map.
    EXPECT_TRUE(torch::all(b.class_labels == 18).item<bool>());
    EXPECT_EQ(b.sample.narrow(1, 4, 7).abs().sum().item<double>(), 0.0);
    for (int64_t i = 0; i < 8; ++i) {
      EXPECT_FALSE(torch::equal(b.token_ids[i], empty)) << "step " << step << " row " << i;
      const torch::Tensor row = b.token_ids[i].contiguous();
      seen.insert(std::vector<int64_t>(row.data_ptr<int64_t>(), row.data_ptr<int64_t>() + 16));
    }
  }
  EXPECT_GT(seen.size(), 3u);  // the captioned examples are drawn, not one of them
  // A cache of map samples only cannot feed the pass.
  LatentCache uncaptioned = FakeCache();
  for (int64_t i = 0; i < uncaptioned.size(); ++i) uncaptioned.token_ids[i].copy_(empty);
  EXPECT_THROW(DiffusionTrainer(TextPass(1), &uncaptioned, EmptyIds(),
                                ldm::testing::TempDir("text_pass_uncaptioned")),
               c10::Error);
  DiffusionTrainerOptions probe = TextPass(1);
  probe.position_probe_weight = 0.1;
  EXPECT_THROW(
      DiffusionTrainer(probe, &cache, EmptyIds(), ldm::testing::TempDir("text_pass_probe")),
      c10::Error);
}

TEST(DiffusionTrainerTest, TextEncoderPassTrainsOnlyTheTextEncoderAndResumesExactly) {
  StopSignal::Set(false);
  const fs::path dir = ldm::testing::TempDir("text_pass_train");
  LatentCache cache = FakeCache();
  DiffusionTrainer base(TinyDiffusion(5), &cache, EmptyIds(), dir / "base");
  ASSERT_TRUE(base.WriteFinal().ok());
  const fs::path unet = dir / "base" / "final" / "unet.safetensors";
  const fs::path text = dir / "base" / "final" / "text_encoder.safetensors";

  DiffusionTrainer a(TextPass(1), &cache, EmptyIds(), dir / "a");
  ASSERT_TRUE(a.InitWeights(unet, text, /*round_to_float16=*/true).ok());
  std::map<std::string, torch::Tensor> start;
  for (const auto& p : a.model()->named_parameters()) start[p.key()] = p.value().detach().clone();
  ASSERT_TRUE(*a.Train(false));
  int moved = 0;
  for (const auto& p : a.model()->named_parameters()) {
    const bool text_weight = p.key().rfind("text_encoder.", 0) == 0;
    if (!text_weight) {
      EXPECT_TRUE(torch::equal(p.value(), start.at(p.key()))) << p.key() << " moved";
    } else if (!torch::equal(p.value(), start.at(p.key()))) {
      ++moved;
    }
  }
  EXPECT_GT(moved, 5);
  ExpectPassResumesExactly(TextPass(1), cache, unet, text, dir / "b", a);
}

TEST(DiffusionTrainerTest, AlphasCumprodMatchesCoresNoiseScheduleForEveryRecipe) {
  for (const char* kind : {"scaled_linear", "linear"}) {
    for (bool zero_snr : {false, true}) {
      nlohmann::json cfg = ToyModelConfigs::Default().scheduler;
      cfg["beta_schedule"] = kind;
      cfg["rescale_betas_zero_snr"] = zero_snr;
      auto schedule = NoiseSchedule::Create(ModelConfig(cfg, "test"));
      ASSERT_TRUE(schedule.ok()) << schedule.status();
      torch::Tensor mine = DiffusionTrainer::AlphasCumprod(cfg);
      ASSERT_EQ(mine.size(0), 1000);
      for (int t = 0; t < 1000; t += 37) {
        EXPECT_EQ(mine[t].item<double>(), (*schedule)->alpha_cumprod(t)) << kind << " t=" << t;
      }
      EXPECT_EQ(mine[999].item<double>() == 0.0, zero_snr) << kind;
    }
  }
}

TEST(DiffusionTrainerTest, ShippedRecipeTrainsVPredictionToPureNoiseAndSamplesFromTEqualsT) {
  const nlohmann::json cfg = ToyModelConfigs::Default().scheduler;
  auto schedule = NoiseSchedule::Create(ModelConfig(cfg, "test"));
  ASSERT_TRUE(schedule.ok()) << schedule.status();
  EXPECT_EQ((*schedule)->prediction_type(), NoiseSchedule::PredictionType::kVPrediction);
  EXPECT_EQ((*schedule)->alpha_cumprod(999), 0.0);
  EXPECT_EQ((*schedule)->IntegerTimesteps(25).front(), 999);
  // The SD recipe (the models of sessions 1-4 and toy-shapes-sr) is unchanged.
  auto sd = NoiseSchedule::Create(
      ModelConfig(ToyModelConfigs::SchedulerConfig(NoiseScheduleRecipe::kStableDiffusion), "test"));
  ASSERT_TRUE(sd.ok()) << sd.status();
  EXPECT_EQ((*sd)->prediction_type(), NoiseSchedule::PredictionType::kEpsilon);
  EXPECT_GT((*sd)->alpha_cumprod(999), 0.004);
  EXPECT_EQ(ToyModelConfigs::Default().sr_scheduler,
            ToyModelConfigs::SchedulerConfig(NoiseScheduleRecipe::kStableDiffusion));
}

TEST(DiffusionTrainerTest, TargetsInvertToTheCleanLatentAndTheNoiseAsSamplersDo) {
  torch::manual_seed(3);
  torch::Tensor z0 = torch::randn({4, 4, 8, 8}), eps = torch::randn({4, 4, 8, 8});
  torch::Tensor ab = torch::tensor({0.0, 0.3, 0.9, 0.9999}).view({4, 1, 1, 1});
  torch::Tensor zt = ab.sqrt() * z0 + (1.0 - ab).sqrt() * eps;
  using P = NoiseSchedule::PredictionType;
  EXPECT_TRUE(torch::equal(DiffusionTrainer::Target(P::kEpsilon, z0, eps, ab), eps));
  EXPECT_TRUE(torch::equal(DiffusionTrainer::Target(P::kSample, z0, eps, ab), z0));
  // What DDIM/Euler do with a v prediction: x0 = sqrt(ab) x_t - sqrt(1-ab) v,
  // eps = sqrt(1-ab) x_t + sqrt(ab) v (diffusers' DDIMScheduler.step).
  torch::Tensor v = DiffusionTrainer::Target(P::kVPrediction, z0, eps, ab);
  EXPECT_TRUE(torch::allclose(ab.sqrt() * zt - (1.0 - ab).sqrt() * v, z0, 1e-5, 1e-5));
  EXPECT_TRUE(torch::allclose((1.0 - ab).sqrt() * zt + ab.sqrt() * v, eps, 1e-5, 1e-5));
  // At zero SNR the v target is -x0: the model must produce the clean latent from the condition.
  EXPECT_TRUE(torch::allclose(v[0], -z0[0]));
}

TEST(DiffusionTrainerTest, HighNoiseFractionDrawsThatShareOfTimestepsFromTheTop) {
  LatentCache cache = FakeCache();
  auto timesteps = [&](double fraction) {
    DiffusionTrainerOptions o = TinyDiffusion(1);
    o.batch_size = 2000;
    o.high_noise_fraction = fraction;
    o.high_noise_min_t = 900;
    return DiffusionTrainer(o, &cache, EmptyIds(), "/nonexistent").MakeBatch(0).timesteps;
  };
  DiffusionTrainerOptions uniform = TinyDiffusion(1);
  uniform.batch_size = 2000;
  const torch::Tensor plain =
      DiffusionTrainer(uniform, &cache, EmptyIds(), "/nonexistent").MakeBatch(0).timesteps;
  // Off: exactly the uniform draw of a run without the option.
  EXPECT_TRUE(torch::equal(timesteps(0.0), plain));
  EXPECT_GE(timesteps(1.0).min().item<int64_t>(), 900);
  EXPECT_LE(timesteps(1.0).max().item<int64_t>(), 999);
  // Half from [900, 1000), half uniform (10% of which also land there): 55% at the top.
  const double top = timesteps(0.5).ge(900).to(torch::kFloat64).mean().item<double>();
  EXPECT_NEAR(top, 0.55, 0.04);
  DiffusionTrainerOptions bad = TinyDiffusion(1);
  bad.high_noise_fraction = 0.5;
  bad.high_noise_min_t = 1000;
  EXPECT_THROW(DiffusionTrainer(bad, &cache, EmptyIds(), "/nonexistent"), c10::Error);
}

TEST(DiffusionTrainerTest, HighNoiseFractionAppliesInItsStepWindowOnly) {
  LatentCache cache = FakeCache();
  DiffusionTrainerOptions uniform = TinyDiffusion(1);
  uniform.batch_size = 2000;
  DiffusionTrainerOptions late = uniform;
  late.high_noise_fraction = 1.0;
  late.high_noise_min_t = 900;
  late.high_noise_start_step = 5;
  late.high_noise_end_step = 8;
  DiffusionTrainer plain(uniform, &cache, EmptyIds(), "/nonexistent");
  DiffusionTrainer curriculum(late, &cache, EmptyIds(), "/nonexistent");
  // Before the start and from the end on: the uniform run's exact batch (timesteps, noise and all).
  for (int64_t step : {0, 4, 8, 11}) {
    DiffusionBatch a = plain.MakeBatch(step), b = curriculum.MakeBatch(step);
    EXPECT_TRUE(torch::equal(a.timesteps, b.timesteps)) << step;
    EXPECT_TRUE(torch::equal(a.sample, b.sample)) << step;
  }
  // Inside the window: every timestep from the top.
  for (int64_t step : {5, 7}) {
    EXPECT_GE(curriculum.MakeBatch(step).timesteps.min().item<int64_t>(), 900) << step;
  }
  DiffusionTrainerOptions bad = late;
  bad.high_noise_start_step = -3;
  EXPECT_THROW(DiffusionTrainer(bad, &cache, EmptyIds(), "/nonexistent"), c10::Error);
}

TEST(DiffusionTrainerTest, BatchTargetFollowsThePredictionType) {
  // Same draws, two prediction types: the epsilon batch's target is the noise and the v batch's
  // target differs from it (except where ab makes them coincide, which uniform t never does).
  LatentCache cache = FakeCache();
  const fs::path dir = ldm::testing::TempDir("diffusion_target");
  DiffusionTrainerOptions eps_options = TinyDiffusion(1);
  eps_options.scheduler["prediction_type"] = "epsilon";
  DiffusionTrainerOptions v_options = TinyDiffusion(1);
  v_options.scheduler["prediction_type"] = "v_prediction";
  DiffusionTrainer eps_trainer(eps_options, &cache, EmptyIds(), dir / "e");
  DiffusionTrainer v_trainer(v_options, &cache, EmptyIds(), dir / "v");
  DiffusionBatch e = eps_trainer.MakeBatch(5), v = v_trainer.MakeBatch(5);
  EXPECT_TRUE(torch::equal(e.sample, v.sample));
  EXPECT_FALSE(torch::allclose(e.target, v.target));
}

}  // namespace
}  // namespace ldm::train
