// SrLatentCache: the encoded pool of super-resolution training pairs (SrPairBuilder), encoded
// once with the frozen VAE like LatentCache: the posterior (mean, std) of the high-resolution
// image at latent resolution and the uint8 low-resolution image. Pair i is SrPairBuilder key i.
//
// Build() writes chunks to <dir>/sr-chunk-NNNN-<n>.pt and skips chunks already there, so an
// interrupted build resumes. Not thread-safe.
#pragma once

#include <torch/types.h>

#include <cstdint>
#include <filesystem>

#include "absl/status/statusor.h"
#include "core/nn/autoencoder_kl.h"
#include "tools/train/sr_pair_builder.h"

namespace ldm::train {

struct SrLatentCacheOptions {
  int64_t size = 8192;
  int64_t chunk_size = 1024;
  int64_t encode_batch = 64;
};

class SrLatentCache {
 public:
  // CANCELLED when StopSignal interrupts the build (finished chunks are kept).
  static absl::StatusOr<SrLatentCache> Build(const SrLatentCacheOptions& options,
                                             const SrPairBuilder& builder, AutoencoderKL& vae,
                                             const std::filesystem::path& dir,
                                             torch::Device device);

  int64_t size() const { return mean.size(0); }

  torch::Tensor mean;     // [N, C, h, w] float32 (CPU)
  torch::Tensor std;      // [N, C, h, w] float32
  torch::Tensor low_res;  // [N, 3, R/u, R/u] uint8
};

}  // namespace ldm::train
