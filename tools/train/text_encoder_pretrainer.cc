#include "tools/train/text_encoder_pretrainer.h"

#include <torch/torch.h>

#include <cmath>
#include <fstream>
#include <limits>

#include "absl/strings/str_cat.h"
#include "core/common/status_macros.h"
#include "core/common/torch_guard.h"
#include "core/io/safetensors_writer.h"
#include "core/io/state_dict_loader.h"
#include "nlohmann/json.hpp"
#include "tools/train/optimizer_step.h"
#include "tools/train/train_loop.h"
#include "tools/train/train_rng.h"

namespace ldm::train {
namespace fs = std::filesystem;

namespace {

int64_t NumLogits() {
  int64_t n = 0;
  for (int s : TextEncoderPretrainer::kHeadSizes) n += s;
  return n;
}

}  // namespace

TextPretrainModelImpl::TextPretrainModelImpl(const ClipTextConfig& text, int64_t num_logits) {
  text_encoder = register_module("text_encoder", ClipTextModel(text));
  heads = register_module("heads", torch::nn::Linear(text.hidden_size, num_logits));
}

std::array<int64_t, TextEncoderPretrainer::kNumHeads> TextEncoderPretrainer::Targets(
    const shapes::ParsedCaption& caption) {
  std::array<int64_t, kNumHeads> t;
  t.fill(-1);
  if (caption.objects.empty()) return t;
  t[0] = static_cast<int64_t>(caption.objects.size()) - 1;
  if (caption.background) t[1] = static_cast<int>(*caption.background);
  for (size_t k = 0; k < caption.objects.size() && k < 2; ++k) {
    const shapes::ParsedObject& o = caption.objects[k];
    const size_t base = 2 + 4 * k;
    t[base] = static_cast<int>(o.shape);
    t[base + 1] = static_cast<int>(o.color);
    if (o.size) t[base + 2] = static_cast<int>(*o.size);
    if (o.position) t[base + 3] = static_cast<int>(*o.position);
  }
  return t;
}

TextEncoderPretrainer::TextEncoderPretrainer(TextEncoderPretrainerOptions options, fs::path dir)
    : options_(std::move(options)), dir_(std::move(dir)) {}

absl::StatusOr<std::unique_ptr<TextEncoderPretrainer>> TextEncoderPretrainer::Create(
    TextEncoderPretrainerOptions options, torch::Tensor token_ids, torch::Tensor targets,
    fs::path dir) {
  std::unique_ptr<TextEncoderPretrainer> t(
      new TextEncoderPretrainer(std::move(options), std::move(dir)));
  const TextEncoderPretrainerOptions& o = t->options_;
  if (token_ids.dim() != 2 || targets.dim() != 2 || targets.size(1) != kNumHeads ||
      token_ids.size(0) != targets.size(0)) {
    return absl::InvalidArgumentError(absl::StrCat("text-pretrain: token_ids ", token_ids.dim(),
                                                   "-D and targets ", targets.dim(),
                                                   "-D must be [N, L] and [N, ", kNumHeads, "]"));
  }
  if (token_ids.size(0) <= o.holdout) {
    return absl::InvalidArgumentError(absl::StrCat("text-pretrain: ", token_ids.size(0),
                                                   " captions leave none to train on after ",
                                                   o.holdout, " held out"));
  }
  targets = targets.to(torch::kLong).contiguous();
  for (int h = 0; h < kNumHeads; ++h) {
    torch::Tensor col = targets.select(1, h);
    if ((col < -1).any().item<bool>() || (col >= kHeadSizes[h]).any().item<bool>()) {
      return absl::InvalidArgumentError(absl::StrCat(
          "text-pretrain: targets of head ", kHeadNames[h], " outside [-1, ", kHeadSizes[h], ")"));
    }
  }
  t->token_ids_ = token_ids.to(torch::kLong).contiguous();
  t->targets_ = targets;
  t->train_size_ = token_ids.size(0) - o.holdout;
  LDM_RETURN_IF_ERROR(TorchGuard("text-pretrain: model", [&]() {
    torch::manual_seed(TrainRng::Hash(o.seed, RngStream::kInit, 4));
    t->model_ = TextPretrainModel(o.text, NumLogits());
    t->model_->to(o.device);
    t->model_->train();
    t->optimizer_ = std::make_unique<torch::optim::AdamW>(
        t->model_->parameters(),
        torch::optim::AdamWOptions(o.lr.peak_lr).betas({0.9, 0.999}).weight_decay(o.weight_decay));
  }));
  return t;
}

torch::Tensor TextEncoderPretrainer::Logits(const torch::Tensor& index) {
  torch::Tensor ids = token_ids_.index_select(0, index).to(options_.device);
  return model_->heads->forward(model_->text_encoder->forward(ids).pooler_output);
}

torch::Tensor TextEncoderPretrainer::Loss(const torch::Tensor& index) {
  torch::Tensor logits = Logits(index);
  torch::Tensor y = targets_.index_select(0, index).to(options_.device);
  torch::Tensor loss = torch::zeros({}, logits.options());
  int64_t offset = 0;
  for (int h = 0; h < kNumHeads; ++h) {
    torch::Tensor yh = y.select(1, h);
    torch::Tensor stated = yh >= 0;
    // Each head averages over the rows that state its fact; a head no row states adds nothing
    // (a plain ignore_index mean would be 0/0 there).
    torch::Tensor ce = torch::nn::functional::cross_entropy(
        logits.narrow(1, offset, kHeadSizes[h]), yh.clamp_min(0),
        torch::nn::functional::CrossEntropyFuncOptions().reduction(torch::kNone));
    loss = loss + (ce * stated).sum() / stated.sum().clamp_min(1);
    offset += kHeadSizes[h];
  }
  return loss;
}

double TextEncoderPretrainer::TrainStep() {
  const int64_t b = options_.batch_size;
  std::vector<int64_t> index(static_cast<size_t>(b));
  for (int64_t i = 0; i < b; ++i) {
    index[static_cast<size_t>(i)] = static_cast<int64_t>(
        TrainRng::Hash(options_.seed, RngStream::kTextPretrainIndex, step_, i) %
        static_cast<uint64_t>(train_size_));
  }
  OptimizerStep::Begin(*optimizer_, LrSchedule(options_.lr).At(step_));
  torch::Tensor loss = Loss(torch::tensor(index, torch::kInt64));
  OptimizerStep::Finish(*optimizer_, loss, model_->parameters(), options_.grad_clip);
  ++step_;
  return loss.item<double>();
}

absl::StatusOr<bool> TextEncoderPretrainer::Train(bool resume, int64_t max_steps_this_call) {
  TrainLoop loop(TrainLoopOptions::From("text-pretrain", options_), dir_ / "checkpoints");
  absl::StatusOr<bool> finished = loop.Run(*model_, *optimizer_, nullptr, &step_, resume,
                                           max_steps_this_call, [this] { return TrainStep(); });
  last_loss_ = loop.last_loss();
  return finished;
}

absl::StatusOr<std::array<double, TextEncoderPretrainer::kNumHeads>>
TextEncoderPretrainer::Evaluate() {
  return TorchGuard("text-pretrain: evaluate", [&]() -> std::array<double, kNumHeads> {
    c10::InferenceMode guard;
    model_->eval();
    torch::Tensor index = torch::arange(train_size_, token_ids_.size(0), torch::kInt64);
    torch::Tensor logits = Logits(index);
    torch::Tensor y = targets_.index_select(0, index).to(options_.device);
    model_->train();
    std::array<double, kNumHeads> accuracy;
    int64_t offset = 0;
    for (int h = 0; h < kNumHeads; ++h) {
      torch::Tensor yh = y.select(1, h);
      torch::Tensor stated = yh >= 0;
      torch::Tensor right = (logits.narrow(1, offset, kHeadSizes[h]).argmax(1) == yh) & stated;
      const int64_t n = stated.sum().item<int64_t>();
      accuracy[h] = n == 0 ? std::numeric_limits<double>::quiet_NaN()
                           : static_cast<double>(right.sum().item<int64_t>()) / n;
      offset += kHeadSizes[h];
    }
    return accuracy;
  });
}

absl::Status TextEncoderPretrainer::WriteFinal() {
  LDM_ASSIGN_OR_RETURN(auto accuracy, Evaluate());
  return TorchGuard("text-pretrain final weights", [&]() -> absl::Status {
    const fs::path out = dir_ / "final";
    fs::create_directories(out);
    LDM_RETURN_IF_ERROR(
        WriteSafeTensors(out / "text_encoder.safetensors", StateDictOf(*model_->text_encoder)));
    nlohmann::json metrics = {{"steps", step_},
                              {"holdout_captions", token_ids_.size(0) - train_size_}};
    for (int h = 0; h < kNumHeads; ++h) {
      metrics["holdout_accuracy"][kHeadNames[h]] =
          std::isnan(accuracy[h]) ? nlohmann::json(nullptr) : nlohmann::json(accuracy[h]);
    }
    std::ofstream(out / "metrics.json") << metrics.dump(2) << "\n";
    return absl::OkStatus();
  });
}

}  // namespace ldm::train
