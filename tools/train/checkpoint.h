// Checkpoint: the resumable state of one training stage, in <dir>/step-NNNNNNNN/:
//   weights.safetensors    the trained module tree (exact float32 values)
//   ema.safetensors        the EMA shadow weights (stages that keep one)
//   optimizer.pt           the optimizer state (torch::save archive: moments, step counts)
//   state.json             {"step": N, ...stage extras}
// plus <dir>/LATEST naming the newest complete checkpoint. LATEST is replaced atomically (write
// and rename) only after every file of the new checkpoint is written, so a crash at any moment
// leaves a loadable checkpoint. Older checkpoints beyond `keep` are deleted.
//
// Random state: the trainers draw everything from TrainRng as a function of (seed, step), so the
// step number IS the RNG state; a resumed run continues bit-identically.
// Not thread-safe (one trainer owns a checkpoint dir).
#pragma once

#include <torch/nn/module.h>
#include <torch/optim/optimizer.h>

#include <cstdint>
#include <filesystem>
#include <optional>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "nlohmann/json.hpp"
#include "tools/train/ema_weights.h"

namespace ldm::train {

class Checkpoint {
 public:
  Checkpoint(std::filesystem::path dir, int keep = 2);

  // Writes a checkpoint for `step` (the number of optimizer steps done). `state` is stored in
  // state.json next to "step". INTERNAL on I/O failure.
  absl::Status Save(int64_t step, const torch::nn::Module& module,
                    torch::optim::Optimizer& optimizer, const EmaWeights* ema,
                    nlohmann::json state = nlohmann::json::object()) const;

  // The newest complete checkpoint's folder, or nullopt when there is none.
  std::optional<std::filesystem::path> Latest() const;

  // Loads the newest checkpoint into module/optimizer/ema and returns its state.json.
  // NOT_FOUND when there is none; INVALID_ARGUMENT when it does not fit the module.
  absl::StatusOr<nlohmann::json> Restore(torch::nn::Module& module,
                                         torch::optim::Optimizer& optimizer, EmaWeights* ema) const;

  const std::filesystem::path& dir() const { return dir_; }

 private:
  std::filesystem::path dir_;
  int keep_;
};

}  // namespace ldm::train
