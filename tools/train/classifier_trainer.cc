#include "tools/train/classifier_trainer.h"

#include <spdlog/spdlog.h>
#include <torch/torch.h>

#include <cmath>
#include <fstream>

#include "absl/strings/str_cat.h"
#include "core/common/status_macros.h"
#include "core/common/torch_guard.h"
#include "core/io/safetensors_writer.h"
#include "core/io/state_dict_loader.h"
#include "tools/train/diffusion_trainer.h"
#include "tools/train/optimizer_step.h"
#include "tools/train/train_loop.h"
#include "tools/train/train_rng.h"

namespace ldm::train {
namespace fs = std::filesystem;

ClassifierTrainer::ClassifierTrainer(ClassifierTrainerOptions options, const LatentCache* cache,
                                     fs::path dir)
    : options_(std::move(options)), cache_(cache), dir_(std::move(dir)) {}

absl::StatusOr<std::unique_ptr<ClassifierTrainer>> ClassifierTrainer::Create(
    ClassifierTrainerOptions options, const LatentCache* cache, fs::path dir) {
  std::unique_ptr<ClassifierTrainer> t(new ClassifierTrainer(std::move(options), cache, dir));
  const ClassifierTrainerOptions& o = t->options_;
  LDM_RETURN_IF_ERROR(o.config.Validate());
  std::vector<int64_t> labelled;
  LDM_RETURN_IF_ERROR(TorchGuard("classifier: cache labels", [&]() -> absl::Status {
    torch::Tensor labels = cache->class_label.to(torch::kCPU, torch::kLong).contiguous();
    const int64_t* y = labels.data_ptr<int64_t>();
    for (int64_t i = 0; i < labels.numel(); ++i) {
      if (y[i] < 0) continue;  // multi-object scenes and map samples have no class
      if (y[i] >= o.config.num_classes) {
        return absl::InvalidArgumentError(absl::StrCat("classifier: cache entry ", i, " has label ",
                                                       y[i], " >= num_classes ",
                                                       o.config.num_classes));
      }
      labelled.push_back(i);
    }
    return absl::OkStatus();
  }));
  if (static_cast<int64_t>(labelled.size()) <= o.holdout) {
    return absl::InvalidArgumentError(absl::StrCat("classifier: the latent cache has ",
                                                   labelled.size(), " labelled examples; holdout ",
                                                   o.holdout, " leaves none to train on"));
  }
  const size_t split = labelled.size() - static_cast<size_t>(o.holdout);
  t->train_index_.assign(labelled.begin(), labelled.begin() + static_cast<int64_t>(split));
  t->holdout_index_.assign(labelled.begin() + static_cast<int64_t>(split), labelled.end());
  LDM_RETURN_IF_ERROR(TorchGuard("classifier: model", [&]() {
    t->alphas_cumprod_ = DiffusionTrainer::AlphasCumprod(o.scheduler);
    torch::manual_seed(TrainRng::Hash(o.seed, RngStream::kInit, 3));
    t->model_ = NoisyLatentClassifier(o.config);
    t->model_->to(o.device);
    t->model_->train();
    t->optimizer_ = std::make_unique<torch::optim::AdamW>(
        t->model_->parameters(),
        torch::optim::AdamWOptions(o.lr.peak_lr).betas({0.9, 0.999}).weight_decay(o.weight_decay));
  }));
  return t;
}

torch::Tensor ClassifierTrainer::Noised(const torch::Tensor& index, const torch::Tensor& t,
                                        torch::Generator& gen) const {
  torch::Tensor mean = cache_->mean.index_select(0, index);
  torch::Tensor std = cache_->std.index_select(0, index);
  torch::Tensor z0 =
      (mean + std * torch::randn(mean.sizes(), gen, torch::kFloat32)) * options_.scaling_factor;
  torch::Tensor eps = torch::randn(z0.sizes(), gen, torch::kFloat32);
  torch::Tensor ab =
      alphas_cumprod_.index_select(0, t).to(torch::kFloat32).view({index.size(0), 1, 1, 1});
  return ab.sqrt() * z0 + (1.0 - ab).sqrt() * eps;
}

ClassifierBatch ClassifierTrainer::MakeBatch(int64_t step) const {
  const int64_t b = options_.batch_size;
  const uint64_t n = train_index_.size();
  std::vector<int64_t> index(static_cast<size_t>(b));
  for (int64_t i = 0; i < b; ++i) {
    index[static_cast<size_t>(i)] =
        train_index_[TrainRng::Hash(options_.seed, RngStream::kClassifierIndex, step, i) % n];
  }
  torch::Tensor idx = torch::tensor(index, torch::kInt64);
  torch::Generator gen = TrainRng::Generator(options_.seed, RngStream::kClassifierNoise, step);
  torch::Tensor t = torch::randint(0, alphas_cumprod_.size(0), {b}, gen, torch::kInt64);
  ClassifierBatch out;
  out.sample = Noised(idx, t, gen);
  out.timesteps = t;
  out.labels = cache_->class_label.index_select(0, idx).to(torch::kLong);
  return out;
}

double ClassifierTrainer::TrainStep() {
  ClassifierBatch batch = MakeBatch(step_);
  const torch::Device d = options_.device;
  OptimizerStep::Begin(*optimizer_, LrSchedule(options_.lr).At(step_));
  torch::Tensor logits = model_->forward(batch.sample.to(d), batch.timesteps.to(d));
  torch::Tensor loss = torch::cross_entropy_loss(logits, batch.labels.to(d));
  OptimizerStep::Finish(*optimizer_, loss, model_->parameters(), options_.grad_clip);
  ++step_;
  return loss.item<double>();
}

absl::StatusOr<bool> ClassifierTrainer::Train(bool resume, int64_t max_steps_this_call) {
  TrainLoop loop(TrainLoopOptions::From("classifier", options_), dir_ / "checkpoints");
  return loop.Run(*model_, *optimizer_, /*ema=*/nullptr, &step_, resume, max_steps_this_call,
                  [this]() { return TrainStep(); });
}

absl::StatusOr<std::vector<ClassifierAccuracy>> ClassifierTrainer::Evaluate(
    const std::vector<int64_t>& timesteps) {
  std::vector<ClassifierAccuracy> out;
  const int64_t num_t = alphas_cumprod_.size(0);
  for (int64_t t : timesteps) {
    if (t < 0 || t >= num_t) {
      return absl::InvalidArgumentError(
          absl::StrCat("classifier evaluation: timestep ", t, " outside [0, ", num_t, ")"));
    }
  }
  LDM_RETURN_IF_ERROR(TorchGuard("classifier evaluation", [&]() {
    torch::NoGradGuard no_grad;
    model_->eval();
    torch::Tensor idx = torch::tensor(holdout_index_, torch::kInt64);
    torch::Tensor labels = cache_->class_label.index_select(0, idx).to(torch::kLong);
    const int64_t n = idx.size(0);
    for (int64_t t : timesteps) {
      torch::Generator gen = TrainRng::Generator(options_.seed, RngStream::kHoldout, 1000 + t);
      torch::Tensor ts = torch::full({n}, t, torch::kInt64);
      torch::Tensor zt = Noised(idx, ts, gen);
      int64_t correct = 0;
      for (int64_t s = 0; s < n; s += 512) {
        const int64_t m = std::min<int64_t>(512, n - s);
        torch::Tensor logits = model_->forward(zt.narrow(0, s, m).to(options_.device),
                                               ts.narrow(0, s, m).to(options_.device));
        correct += logits.argmax(1).cpu().eq(labels.narrow(0, s, m)).sum().item<int64_t>();
      }
      out.push_back({t, alphas_cumprod_[t].item<double>(),
                     static_cast<double>(correct) / static_cast<double>(n), n});
    }
    model_->train();
  }));
  return out;
}

absl::Status ClassifierTrainer::WriteComponent(NoisyLatentClassifier& classifier,
                                               const fs::path& out) {
  return TorchGuard("writing the classifier", [&]() -> absl::Status {
    fs::create_directories(out);
    std::map<std::string, torch::Tensor> weights;
    for (auto& [name, tensor] : StateDictOf(*classifier)) {
      weights[name] = tensor.detach().to(torch::kCPU, torch::kFloat32).contiguous();
    }
    LDM_RETURN_IF_ERROR(WriteSafeTensors(out / "diffusion_pytorch_model.safetensors", weights));
    std::ofstream(out / "config.json") << classifier->config().ToJson().dump(2) << "\n";
    return absl::OkStatus();
  });
}

absl::Status ClassifierTrainer::WriteFinal() {
  LDM_ASSIGN_OR_RETURN(std::vector<ClassifierAccuracy> acc, Evaluate({0, 250, 500, 750, 999}));
  const fs::path out = dir_ / "final";
  LDM_RETURN_IF_ERROR(WriteComponent(model_, out));
  nlohmann::json metrics = {{"steps", step_},
                            {"train_examples", train_examples()},
                            {"holdout_examples", holdout_examples()},
                            {"holdout_accuracy", nlohmann::json::array()}};
  for (const ClassifierAccuracy& a : acc) {
    metrics["holdout_accuracy"].push_back(
        {{"timestep", a.timestep}, {"alpha_cumprod", a.alpha_cumprod}, {"accuracy", a.accuracy}});
    spdlog::info("classifier: held-out accuracy at t={} (alpha_bar {:.4f}): {:.4f} ({} examples)",
                 a.timestep, a.alpha_cumprod, a.accuracy, a.examples);
  }
  std::ofstream(out / "metrics.json") << metrics.dump(2) << "\n";
  return absl::OkStatus();
}

}  // namespace ldm::train
