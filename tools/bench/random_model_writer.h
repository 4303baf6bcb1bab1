// RandomModelWriter: writes a diffusers model folder with random weights (ldm-bench make-model),
// so that the engine's speed can be measured at a real model's shapes without downloading it.
//
// Architectures:
//   sd15   Stable Diffusion 1.5: UNet [320, 640, 1280, 1280], 2 layers per block, 8 heads,
//          cross-attention 768, 3 CrossAttnDownBlock2D + DownBlock2D (mirrored up), sample 64;
//          VAE [128, 256, 512, 512], 2 layers per block, 4 latent channels, scaling 0.18215,
//          sample 512; CLIP ViT-L/14 text encoder (768 hidden, 12 layers, 12 heads, 3072
//          intermediate, quick_gelu, 77 positions, 49408 tokens). Plain diffusers folder (no
//          ldm_model.json), DDIM scheduler with SD's betas.
//   toy    the shipped toy-shapes model's architecture (tools/train ToyModelConfigs::Default;
//          text, 18 classes + null class, 7-label semantic maps, fast previews), with the CLIP
//          vocabulary instead of the learned one, truncated to the same 32 token positions.
//   tiny   the same layout at a few thousand UNet parameters (ToyModelConfigs::Tiny), for tests.
// The folder is written by tools/train's ModelExporter (the layout ldm::Pipeline::Load reads);
// the tokenizer files (vocab.json, merges.txt, tokenizer_config.json, special_tokens_map.json)
// are copied from `tokenizer_dir`, by default the CLIP tokenizer of the conformance fixtures
// ($LDM_FIXTURES_DIR/tokenizer, else ../shared/fixtures/tokenizer beside the repository).
// Weights: every weight matrix / kernel with fan-in n is drawn from N(0, 1/n) (LeCun normal:
// activations keep their scale through the normalised blocks), vectors (norms, biases) keep their
// constructor values; torch's generator is seeded with `seed`, so a (arch, seed) pair gives the
// same weights. `dtype` fp16 stores the UNet and text encoder in float16 (the VAE stays float32,
// as diffusers runs it); the pipeline casts on load.
// Errors: INVALID_ARGUMENT for an unknown arch or dtype; NOT_FOUND when the tokenizer files are
// missing; FAILED_PRECONDITION when `out` exists and is not a model folder; INTERNAL for I/O.
// Thread safety: uses torch's global generator; one call at a time.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "absl/status/status.h"

namespace ldm::bench {

struct MakeModelOptions {
  std::string arch = "tiny";  // sd15, toy, tiny
  std::filesystem::path out;
  std::string dtype = "fp32";  // fp32 or fp16
  uint64_t seed = 0;
  std::filesystem::path tokenizer_dir;  // empty: DefaultTokenizerDir()
};

class RandomModelWriter {
 public:
  static absl::Status Write(const MakeModelOptions& options);
  static std::vector<std::string> Archs();
  static std::filesystem::path DefaultTokenizerDir();
};

}  // namespace ldm::bench
