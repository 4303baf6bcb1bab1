// A model folder with a random noise-aware classifier, for classifier-guidance tests (no trained
// weights needed).
//
// CopyModelWithRandomClassifier copies a diffusers folder (e.g. the ldm-cond-tiny fixture) and
// adds classifier/ (config.json + diffusion_pytorch_model.safetensors): a NoisyLatentClassifier
// with levels [8, 16] (groups 4) over `in_channels` latent channels and `num_classes` classes,
// weights random from `seed`. The header has no torch, so server tests without torch can use it.
#pragma once

#include <cstdint>
#include <filesystem>

#include "absl/status/status.h"

namespace ldm::testing {

// Writes a random classifier component to `dir` (created). Errors: I/O failures.
absl::Status WriteRandomClassifier(const std::filesystem::path& dir, int in_channels,
                                   int num_classes, uint64_t seed);

// Copies `source` (recursively) to `dest` (replaced) and writes dest/classifier/.
absl::Status CopyModelWithRandomClassifier(const std::filesystem::path& source,
                                           const std::filesystem::path& dest, int in_channels,
                                           int num_classes, uint64_t seed);

}  // namespace ldm::testing
