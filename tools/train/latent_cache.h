// LatentCache: a fixed pool of encoded training examples for the diffusion stage.
//
// Encoding images with the frozen VAE costs as much as a third of a UNet step on the CPU, and the
// VAE does not change during diffusion training, so the pool is encoded once (as LDM does when it
// trains on precomputed first-stage encodings). Each entry holds the VAE posterior (mean, std;
// the trainer draws z = mean + std * noise every time, so the noise differs per epoch), the
// caption's token ids, the class label (-1: none) and the label map as one-hot area fractions of
// r x r sub-cells per latent cell (r = map_subcells, the model's semantic_map_subcells), stored as
// counts of image pixels (exact: a fraction is count / (f / r)^2).
//
// Build() encodes in chunks written to <dir>/chunk-NNNN.pt; a rebuilt cache skips chunks already
// on disk, so an interrupted build resumes. Example i of the pool is BatchBuilder key i.
// Not thread-safe.
#pragma once

#include <torch/types.h>

#include <cstdint>
#include <filesystem>

#include "absl/status/statusor.h"
#include "core/nn/autoencoder_kl.h"
#include "core/text/clip_tokenizer.h"
#include "tools/train/batch_builder.h"

namespace ldm::train {

struct LatentCacheOptions {
  int64_t size = 65536;
  int64_t chunk_size = 2048;
  int64_t encode_batch = 128;
  int64_t num_labels = 7;
  // Map sub-cells per latent cell side; must divide the VAE's downsampling factor. A cache on
  // disk built with another value is FAILED_PRECONDITION (the maps would not fit the UNet).
  int64_t map_subcells = 1;
  // Load only: a missing chunk is FAILED_PRECONDITION instead of being encoded (for readers of
  // another stage's cache, e.g. the classifier stage).
  bool read_only = false;
};

class LatentCache {
 public:
  // Encodes (or loads) the pool. CANCELLED when StopSignal interrupts the build (finished chunks
  // are kept).
  static absl::StatusOr<LatentCache> Build(const LatentCacheOptions& options,
                                           const BatchBuilder& builder, AutoencoderKL& vae,
                                           const ClipTokenizer& tokenizer,
                                           const std::filesystem::path& dir, torch::Device device);

  int64_t size() const { return mean.size(0); }

  torch::Tensor mean;         // [N, C, h, w] float32 (CPU)
  torch::Tensor std;          // [N, C, h, w] float32
  torch::Tensor token_ids;    // [N, L] int64
  torch::Tensor class_label;  // [N] int64, -1: none
  // [N, K, h * r, w * r] uint8: image pixels of each label per map sub-cell (r = map_subcells).
  torch::Tensor map_counts;
  int64_t pixels_per_cell = 1;  // image pixels per map sub-cell: (f / r)^2
  int64_t map_subcells = 1;
};

}  // namespace ldm::train
