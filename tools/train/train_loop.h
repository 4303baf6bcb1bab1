// TrainLoop: the resumable optimisation loop of a training stage: restore the latest checkpoint
// (--resume), run steps, log a progress line every log_every steps, checkpoint every N steps /
// M seconds / at the end, and stop cleanly (checkpoint first) on SIGINT/SIGTERM (StopSignal) or
// after max_steps_this_call steps. Used by every trainer of tools/train (autoencoder, decoder
// fine-tunings, diffusion, classifier, super-resolution).
//
// The step function advances the caller's step counter itself (so EMA updates see the new
// count) and returns the loss; a non-finite loss stops the run with INTERNAL. Not thread-safe.
#pragma once

#include <torch/nn/module.h>
#include <torch/optim/optimizer.h>

#include <cstdint>
#include <filesystem>
#include <functional>
#include <string>
#include <utility>

#include "absl/status/statusor.h"
#include "tools/train/checkpoint.h"
#include "tools/train/ema_weights.h"
#include "tools/train/lr_schedule.h"

namespace ldm::train {

struct TrainLoopOptions {
  std::string name = "train";  // log prefix
  int64_t steps = 1000;
  int64_t batch_size = 1;  // for the img/s figure
  LrScheduleOptions lr;    // for the logged learning rate
  int64_t checkpoint_every_steps = 500;
  double checkpoint_every_seconds = 600;
  int64_t log_every = 10;

  // The loop settings of a stage's options struct (steps, batch_size, lr, checkpoint_every_steps,
  // checkpoint_every_seconds, log_every: the fields every trainer's options share).
  template <typename StageOptions>
  static TrainLoopOptions From(std::string name, const StageOptions& o) {
    return {.name = std::move(name),
            .steps = o.steps,
            .batch_size = o.batch_size,
            .lr = o.lr,
            .checkpoint_every_steps = o.checkpoint_every_steps,
            .checkpoint_every_seconds = o.checkpoint_every_seconds,
            .log_every = o.log_every};
  }
};

class TrainLoop {
 public:
  TrainLoop(TrainLoopOptions options, std::filesystem::path checkpoint_dir);

  // Restores (resume) into module/optimizer/ema and *step, then steps until options.steps.
  // Returns true when finished, false when stopped after a checkpoint. FAILED_PRECONDITION when a
  // checkpoint exists without resume.
  absl::StatusOr<bool> Run(torch::nn::Module& module, torch::optim::Optimizer& optimizer,
                           EmaWeights* ema, int64_t* step, bool resume, int64_t max_steps_this_call,
                           const std::function<double()>& train_step);

  double last_loss() const { return last_loss_; }

 private:
  TrainLoopOptions options_;
  Checkpoint checkpoint_;
  double last_loss_ = 0;
};

}  // namespace ldm::train
