// Test helpers: a tiny tokenizer and untrained tiny model exported as a diffusers folder.
#pragma once

#include <filesystem>

#include "absl/status/status.h"
#include "tools/train/training_run.h"

namespace ldm::train::testing {

// Learns a small BPE tokenizer (model_max_length 16) into `dir`.
absl::Status WriteTinyTokenizer(const std::filesystem::path& dir);
// Exports an untrained ToyModelConfigs::Tiny() model (tokenizer included) to `out`.
absl::Status ExportTinyModel(const std::filesystem::path& work, const std::filesystem::path& out);
// TrainingRunOptions for a whole ldm-train run of the tiny model in seconds: work dir
// `dir`/work, output `dir`/model, a couple of steps per stage, a 24-example latent cache.
TrainingRunOptions TinyRunOptions(const std::filesystem::path& dir);

}  // namespace ldm::train::testing
