// Test helpers: a tiny tokenizer and untrained tiny model exported as a diffusers folder.
#pragma once

#include <cstdint>
#include <filesystem>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "tools/train/diffusion_trainer.h"
#include "tools/train/latent_cache.h"
#include "tools/train/model_exporter.h"
#include "tools/train/token_grounding.h"
#include "tools/train/training_run.h"

namespace ldm::train::testing {

// Learns a small BPE tokenizer (model_max_length 16) into `dir`.
absl::Status WriteTinyTokenizer(const std::filesystem::path& dir);
// The inputs of an untrained ToyModelConfigs::Tiny() model, its tokenizer learned into
// `work`/tokenizer, its map encoding set with ToyModelConfigs::SetMapSubcells(map_subcells).
absl::StatusOr<ExportInputs> TinyExportInputs(const std::filesystem::path& work,
                                              int map_subcells = 1);
// Exports them (tokenizer included) to `out`.
absl::Status ExportTinyModel(const std::filesystem::path& work, const std::filesystem::path& out,
                             int map_subcells = 1);
// TrainingRunOptions for a whole ldm-train run of the tiny model in seconds: work dir
// `dir`/work, output `dir`/model, a couple of steps per stage, a 24-example latent cache.
TrainingRunOptions TinyRunOptions(const std::filesystem::path& dir);

// DiffusionTrainer fixtures without a VAE: a 16-example random latent cache (8x8x4 latents,
// 16-token ids, 7 map labels at r x r sub-cells per latent cell), DiffusionTrainerOptions of the
// tiny model (4 steps, batch 3; TinyDiffusion(seed, r) sizes the UNet for r) and the matching
// 16-token empty prompt.
LatentCache FakeCache(int map_subcells = 1);
// FakeCache() in which every example's tokens 1-2 name object 0, of label 1, which covers the
// top-left 2x2 cells, and that token grounding assignment.
struct GroundedCache {
  LatentCache cache;
  TokenGrounding::Assignment assignment;
};
GroundedCache GroundedFakeCache();
DiffusionTrainerOptions TinyDiffusion(uint64_t seed, int map_subcells = 1);
std::vector<int64_t> EmptyIds();

}  // namespace ldm::train::testing
