// EmaWeights: an exponential moving average of a module's parameters (Polyak averaging), the
// weights diffusion models are evaluated and shipped with (DDPM, Ho et al. 2020, App. B: decay
// 0.9999; a short run uses a smaller decay with the warm-up below).
//
// Update after each optimizer step: ema = d * ema + (1 - d) * param, with
// d = min(decay, (1 + n) / (10 + n)) for the n-th update, so early averages are not dominated by
// the random initialisation. Shadow tensors live on the parameters' device, in float32.
// Not thread-safe.
#pragma once

#include <torch/nn/module.h>

#include <cstdint>
#include <filesystem>
#include <map>
#include <string>

#include "absl/status/status.h"

namespace ldm::train {

class EmaWeights {
 public:
  EmaWeights(const torch::nn::Module& module, double decay);

  void Update(const torch::nn::Module& module, int64_t num_updates);
  // Copies the averages into the module's parameters.
  void CopyTo(torch::nn::Module& module) const;
  const std::map<std::string, torch::Tensor>& shadow() const { return shadow_; }

  absl::Status Save(const std::filesystem::path& file) const;
  // INVALID_ARGUMENT when the file's names or shapes differ from the shadow's.
  absl::Status Load(const std::filesystem::path& file);

 private:
  double decay_;
  std::map<std::string, torch::Tensor> shadow_;
};

}  // namespace ldm::train
