// ClassifierTrainer on a synthetic latent cache (deterministic batches, held-out split, resume,
// learning, final folder), and the classifier / classifier-export stages of ldm-train on the tiny
// model through to a Pipeline that reports has_classifier.
#include "tools/train/classifier_trainer.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

#include <fstream>

#include "core/pipeline/pipeline.h"
#include "tests/testing/fixtures.h"
#include "tests/testing/tensor_matchers.h"
#include "tests/tools/train/tiny_model.h"
#include "tools/train/stop_signal.h"
#include "tools/train/toy_model_configs.h"
#include "tools/train/training_run.h"

namespace ldm::train {
namespace classifier_trainer_test {
namespace fs = std::filesystem;

// 64 entries: labels 0..2 for most (class c has latent mean c - 1), -1 (no class) for every 4th.
LatentCache SyntheticCache() {
  torch::manual_seed(4);
  LatentCache c;
  const int64_t n = 64;
  std::vector<int64_t> labels(n);
  for (int64_t i = 0; i < n; ++i) labels[i] = i % 4 == 3 ? -1 : i % 3;
  c.class_label = torch::tensor(labels, torch::kInt64);
  c.mean = c.class_label.clamp_min(0)
               .sub(1)
               .to(torch::kFloat32)
               .view({n, 1, 1, 1})
               .expand({n, 4, 4, 4}) +
           0.1 * torch::randn({n, 4, 4, 4});
  c.mean = c.mean.contiguous();
  c.std = torch::full({n, 4, 4, 4}, 0.05);
  c.token_ids = torch::zeros({n, 4}, torch::kInt64);
  c.map_counts = torch::zeros({n, 7, 4, 4}, torch::kUInt8);
  return c;
}

ClassifierTrainerOptions Options(int64_t steps) {
  ClassifierTrainerOptions o;
  o.config = ToyModelConfigs::Tiny().classifier;
  o.config.num_classes = 3;
  o.scheduler = ToyModelConfigs::Tiny().scheduler;
  o.steps = steps;
  o.batch_size = 16;
  o.holdout = 8;
  o.lr = {.peak_lr = 3e-3, .warmup_steps = 2, .total_steps = steps, .final_fraction = 0.1};
  o.checkpoint_every_steps = 1000;
  o.log_every = 1000;
  return o;
}

TEST(ClassifierTrainerTest, BatchesAreDeterministicLabelledAndNeverHeldOut) {
  LatentCache cache = SyntheticCache();
  LDM_ASSERT_OK_AND_ASSIGN(
      auto a, ClassifierTrainer::Create(Options(10), &cache, ldm::testing::TempDir("clf_batch_a")));
  LDM_ASSERT_OK_AND_ASSIGN(
      auto b, ClassifierTrainer::Create(Options(10), &cache, ldm::testing::TempDir("clf_batch_b")));
  EXPECT_EQ(a->train_examples() + a->holdout_examples(), 48);
  EXPECT_EQ(a->holdout_examples(), 8);
  ClassifierBatch x = a->MakeBatch(3), y = b->MakeBatch(3);
  EXPECT_TRUE(ldm::testing::AllClose(x.sample, y.sample, 0, 0));
  EXPECT_TRUE(x.labels.equal(y.labels));
  EXPECT_FALSE(a->MakeBatch(4).timesteps.equal(x.timesteps));
  EXPECT_EQ(x.sample.sizes(), torch::IntArrayRef({16, 4, 4, 4}));
  EXPECT_GE(x.labels.min().item<int64_t>(), 0);
  EXPECT_LT(x.labels.max().item<int64_t>(), 3);
  EXPECT_GE(x.timesteps.min().item<int64_t>(), 0);
  EXPECT_LT(x.timesteps.max().item<int64_t>(), 1000);
}

TEST(ClassifierTrainerTest, TooFewLabelledExamplesOrBadLabelsAreRejected) {
  LatentCache cache = SyntheticCache();
  ClassifierTrainerOptions o = Options(1);
  o.holdout = 48;
  EXPECT_EQ(ClassifierTrainer::Create(o, &cache, ldm::testing::TempDir("clf_few")).status().code(),
            absl::StatusCode::kInvalidArgument);
  o = Options(1);
  o.config.num_classes = 2;  // label 2 is out of range
  EXPECT_EQ(ClassifierTrainer::Create(o, &cache, ldm::testing::TempDir("clf_lbl")).status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST(ClassifierTrainerTest, ResumedRunIsIdenticalToAnUninterruptedOne) {
  StopSignal::Set(false);
  LatentCache cache = SyntheticCache();
  const fs::path whole_dir = ldm::testing::TempDir("clf_whole");
  const fs::path split_dir = ldm::testing::TempDir("clf_split");
  LDM_ASSERT_OK_AND_ASSIGN(auto whole, ClassifierTrainer::Create(Options(6), &cache, whole_dir));
  LDM_ASSERT_OK_AND_ASSIGN(bool done, whole->Train(false));
  EXPECT_TRUE(done);
  {
    LDM_ASSERT_OK_AND_ASSIGN(auto first, ClassifierTrainer::Create(Options(6), &cache, split_dir));
    LDM_ASSERT_OK_AND_ASSIGN(bool finished, first->Train(false, 2));
    EXPECT_FALSE(finished);
  }
  LDM_ASSERT_OK_AND_ASSIGN(auto again, ClassifierTrainer::Create(Options(6), &cache, split_dir));
  EXPECT_EQ(again->Train(false).status().code(), absl::StatusCode::kFailedPrecondition);
  LDM_ASSERT_OK_AND_ASSIGN(bool finished, again->Train(true));
  EXPECT_TRUE(finished);
  EXPECT_EQ(again->step(), 6);
  auto wp = whole->model()->parameters(), sp = again->model()->parameters();
  ASSERT_EQ(wp.size(), sp.size());
  for (size_t i = 0; i < wp.size(); ++i) EXPECT_TRUE(wp[i].equal(sp[i])) << "parameter " << i;
}

TEST(ClassifierTrainerTest, LearnsTheClassesAtLowNoiseAndWritesALoadableComponent) {
  StopSignal::Set(false);
  LatentCache cache = SyntheticCache();
  const fs::path dir = ldm::testing::TempDir("clf_learn");
  LDM_ASSERT_OK_AND_ASSIGN(auto trainer, ClassifierTrainer::Create(Options(150), &cache, dir));
  LDM_ASSERT_OK_AND_ASSIGN(bool done, trainer->Train(false));
  ASSERT_TRUE(done);
  LDM_ASSERT_OK_AND_ASSIGN(std::vector<ClassifierAccuracy> acc, trainer->Evaluate({0, 999}));
  ASSERT_EQ(acc.size(), 2u);
  EXPECT_EQ(acc[0].examples, 8);
  EXPECT_GE(acc[0].accuracy, 0.75) << "class means -1, 0, 1 are easy to tell apart at t = 0";
  EXPECT_GT(acc[0].alpha_cumprod, acc[1].alpha_cumprod);
  EXPECT_EQ(trainer->Evaluate({1000}).status().code(), absl::StatusCode::kInvalidArgument);

  LDM_ASSERT_OK(trainer->WriteFinal());
  LDM_ASSERT_OK_AND_ASSIGN(NoisyLatentClassifier loaded,
                           LoadNoisyLatentClassifier(dir / "final", torch::kCPU, torch::kFloat32));
  EXPECT_EQ(loaded->config().num_classes, 3);
  std::ifstream in(dir / "final" / "metrics.json");
  nlohmann::json metrics = nlohmann::json::parse(in);
  EXPECT_EQ(metrics["holdout_accuracy"].size(), 5u);
  EXPECT_EQ(metrics["steps"], 150);
}

TEST(ClassifierTrainerTest, TrainingRunStagesTrainAndExportTheClassifierIntoTheModel) {
  StopSignal::Set(false);
  const fs::path dir = ldm::testing::TempDir("clf_training_run");
  TrainingRunOptions o = testing::TinyRunOptions(dir);
  o.cache_size = 96;
  o.clf_steps = 3;
  o.clf_batch = 4;
  o.clf_holdout = 4;
  o.log_every = 1;
  // Before the diffusion stage there is no latent cache: the classifier stage must not build one.
  LDM_ASSERT_OK(TrainingRun(o).Run("tokenizer"));
  LDM_ASSERT_OK(TrainingRun(o).Run("autoencoder"));
  absl::Status early = TrainingRun(o).Run("classifier");
  EXPECT_EQ(early.code(), absl::StatusCode::kFailedPrecondition) << early;
  EXPECT_FALSE(fs::exists(o.work_dir / "latents" / "chunk-0000-96.pt"));

  LDM_ASSERT_OK(TrainingRun(o).Run("all"));
  EXPECT_EQ(TrainingRun(o).Run("classifier-export").code(), absl::StatusCode::kFailedPrecondition);
  LDM_ASSERT_OK(TrainingRun(o).Run("classifier"));
  LDM_ASSERT_OK(TrainingRun(o).Run("classifier-export"));
  EXPECT_TRUE(fs::exists(o.out_dir / "classifier" / "metrics.json"));
  LDM_ASSERT_OK_AND_ASSIGN(auto p, Pipeline::Load(o.out_dir));
  EXPECT_TRUE(p->info().has_classifier);
  // A full re-export keeps the classifier.
  LDM_ASSERT_OK(TrainingRun(o).Run("export"));
  LDM_ASSERT_OK_AND_ASSIGN(auto again, Pipeline::Load(o.out_dir));
  EXPECT_TRUE(again->info().has_classifier);
  // A classifier-guided generation runs on the exported model.
  GenerateOptions g;
  g.spec.request_id = "cg";
  g.spec.class_label = 4;
  g.spec.classifier_scale = 3.0;
  g.spec.steps = 2;
  g.spec.width = g.spec.height = 64;
  g.spec.seed = 1;
  LDM_ASSERT_OK_AND_ASSIGN(std::vector<Image8> images, again->Generate(g));
  EXPECT_EQ(images.size(), 1u);
}

}  // namespace classifier_trainer_test
}  // namespace ldm::train
