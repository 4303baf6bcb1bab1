// TextEncoderPretrainer: pre-trains the CLIPTextModel of the toy-shapes model to state, in its
// pooled (EOS) output, every fact a caption gives (object count, background, and per object in
// caption order: shape, color, size, position), before the diffusion stage trains it jointly with
// the UNet.
//
// Why (docs/MODEL.md, "The text path"): trained from scratch only through the UNet's
// cross-attention, the text encoder learned colors (a global attribute any attention pattern can
// carry) but not positions: the model's x0 estimate at t = T is the same centred blob for "at the
// top left" and "at the bottom right". Binding a position word to image locations needs keys
// that distinguish the words and queries that distinguish the locations, and neither gets a
// gradient while the other is random. This stage makes the text side informative first.
//
// Objective: softmax cross-entropy of linear heads on the pooled output, one head per fact
// (kHeadSizes), a fact the caption does not state (size, position, background, the second object
// of a one-object caption) is ignored (target -1). Each head's loss is the mean over the batch
// rows that state it; the step loss is the sum over heads.
// Held-out split: the last `holdout` captions are never trained on; Evaluate() reports each
// head's accuracy on them. AdamW, warm-up + cosine LR, gradient clipping, no EMA.
// Outputs under `dir`: checkpoints/ and final/ (text_encoder.safetensors with diffusers'
// CLIPTextModel names, metrics.json). Deterministic given the seed; not thread-safe.
#pragma once

#include <torch/nn/module.h>
#include <torch/nn/modules/linear.h>
#include <torch/optim/adamw.h>
#include <torch/types.h>

#include <array>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "core/text/clip_text_model.h"
#include "tools/shapes/shapes_types.h"
#include "tools/train/lr_schedule.h"

namespace ldm::train {

struct TextEncoderPretrainerOptions {
  ClipTextConfig text;
  uint64_t seed = 0;
  int64_t steps = 1500;
  int64_t batch_size = 256;
  LrScheduleOptions lr{
      .peak_lr = 1e-3, .warmup_steps = 100, .total_steps = 1500, .final_fraction = 0.05};
  double weight_decay = 0.01;
  double grad_clip = 1.0;
  int64_t holdout = 2048;  // captions kept for evaluation
  int64_t checkpoint_every_steps = 250;
  double checkpoint_every_seconds = 600;
  int64_t log_every = 10;
  torch::Device device = torch::kCPU;
};

// The text encoder plus the fact heads ("text_encoder.*", "heads.*").
class TextPretrainModelImpl : public torch::nn::Module {
 public:
  TextPretrainModelImpl(const ClipTextConfig& text, int64_t num_logits);
  ClipTextModel text_encoder{nullptr};
  torch::nn::Linear heads{nullptr};
};
TORCH_MODULE(TextPretrainModel);

class TextEncoderPretrainer {
 public:
  // The facts, in target order: count (1 or 2 objects), background, then for objects 0 and 1
  // shape, color, size, position.
  static constexpr int kNumHeads = 10;
  static constexpr std::array<int, kNumHeads> kHeadSizes = {2, 3, 3, 6, 2, 9, 3, 6, 2, 9};
  static constexpr std::array<const char*, kNumHeads> kHeadNames = {
      "count",     "background", "shape0", "color0", "size0",
      "position0", "shape1",     "color1", "size1",  "position1"};

  // The target row of a parsed caption (-1 where it states nothing).
  static std::array<int64_t, kNumHeads> Targets(const shapes::ParsedCaption& caption);

  // token_ids [N, L] int64 (the tokenizer's padded encodings) and targets [N, kNumHeads] int64.
  // INVALID_ARGUMENT when the shapes disagree, N <= holdout, or a target is outside its head.
  static absl::StatusOr<std::unique_ptr<TextEncoderPretrainer>> Create(
      TextEncoderPretrainerOptions options, torch::Tensor token_ids, torch::Tensor targets,
      std::filesystem::path dir);

  // As DiffusionTrainer::Train.
  absl::StatusOr<bool> Train(bool resume, int64_t max_steps_this_call = -1);
  // Held-out accuracy of each head over the captions that state its fact (NaN when none do).
  absl::StatusOr<std::array<double, kNumHeads>> Evaluate();
  // Writes dir/final/text_encoder.safetensors and metrics.json (held-out accuracy per head).
  absl::Status WriteFinal();

  // Step loss of rows `index` (exposed for tests).
  torch::Tensor Loss(const torch::Tensor& index);
  TextPretrainModel& model() { return model_; }
  int64_t step() const { return step_; }
  double last_loss() const { return last_loss_; }

 private:
  TextEncoderPretrainer(TextEncoderPretrainerOptions options, std::filesystem::path dir);
  double TrainStep();
  // The heads' logits [rows, sum(kHeadSizes)] for caption rows `index`.
  torch::Tensor Logits(const torch::Tensor& index);

  TextEncoderPretrainerOptions options_;
  std::filesystem::path dir_;
  torch::Tensor token_ids_, targets_;
  int64_t train_size_ = 0;
  TextPretrainModel model_{nullptr};
  std::unique_ptr<torch::optim::AdamW> optimizer_;
  int64_t step_ = 0;
  double last_loss_ = 0;
};

}  // namespace ldm::train
