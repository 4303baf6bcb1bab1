// Test helpers: a tiny tokenizer and untrained tiny model exported as a diffusers folder.
#pragma once

#include <cstdint>
#include <filesystem>
#include <vector>

#include "absl/status/status.h"
#include "tools/train/diffusion_trainer.h"
#include "tools/train/latent_cache.h"
#include "tools/train/token_grounding.h"
#include "tools/train/training_run.h"

namespace ldm::train::testing {

// Learns a small BPE tokenizer (model_max_length 16) into `dir`.
absl::Status WriteTinyTokenizer(const std::filesystem::path& dir);
// Exports an untrained ToyModelConfigs::Tiny() model (tokenizer included) to `out`.
absl::Status ExportTinyModel(const std::filesystem::path& work, const std::filesystem::path& out);
// TrainingRunOptions for a whole ldm-train run of the tiny model in seconds: work dir
// `dir`/work, output `dir`/model, a couple of steps per stage, a 24-example latent cache.
TrainingRunOptions TinyRunOptions(const std::filesystem::path& dir);

// DiffusionTrainer fixtures without a VAE: a 16-example random latent cache (8x8x4 latents,
// 16-token ids, 7 map labels), DiffusionTrainerOptions of the tiny model (4 steps, batch 3) and
// the matching 16-token empty prompt.
LatentCache FakeCache();
// FakeCache() in which every example's tokens 1-2 name object 0, of label 1, which covers the
// top-left 2x2 cells, and that token grounding assignment.
struct GroundedCache {
  LatentCache cache;
  TokenGrounding::Assignment assignment;
};
GroundedCache GroundedFakeCache();
DiffusionTrainerOptions TinyDiffusion(uint64_t seed);
std::vector<int64_t> EmptyIds();

}  // namespace ldm::train::testing
