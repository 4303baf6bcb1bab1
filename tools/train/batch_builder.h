// BatchBuilder: renders shapes-dataset examples into training tensors.
//
// An example is named by a 64-bit key: the key decides (by hash) whether it is a scene sample
// (ShapesDataset::Sample: caption, class label for single objects, its own label map) or a map
// sample (ShapesDataset::MapSample: random labeled regions, no caption, no class), and is the
// dataset index. The same key always gives the same example, so batches are a pure function of
// the keys a trainer draws (see TrainRng).
//
// Thread safety: const methods are thread-safe; Build renders its examples in parallel on
// torch's intra-op thread pool.
#pragma once

#include <torch/types.h>

#include <cstdint>
#include <string>
#include <vector>

#include "tools/shapes/shapes_dataset.h"

namespace ldm::train {

struct BatchBuilderOptions {
  shapes::ShapesDatasetOptions dataset;
  // Fraction of examples that are map samples (arbitrary region shapes, map-only conditioning).
  double map_fraction = 0.3;
};

struct ImageBatch {
  torch::Tensor images;               // [B, 3, H, W] float32 in [-1, 1]
  torch::Tensor labels;               // [B, H, W] uint8 label map (0 background, 1 + color)
  std::vector<std::string> captions;  // "" for map samples
  std::vector<int> class_labels;      // -1: none (two objects, map samples)
};

class BatchBuilder {
 public:
  explicit BatchBuilder(BatchBuilderOptions options);

  const BatchBuilderOptions& options() const { return options_; }
  const shapes::ShapesDataset& dataset() const { return dataset_; }

  bool IsMapExample(uint64_t key) const;
  shapes::ShapesSample Example(uint64_t key) const;
  ImageBatch Build(const std::vector<uint64_t>& keys) const;

  // HWC uint8 RGB -> [3, H, W] float in [-1, 1].
  static torch::Tensor ImageToTensor(const std::vector<uint8_t>& rgb, int width, int height);

 private:
  BatchBuilderOptions options_;
  shapes::ShapesDataset dataset_;
};

}  // namespace ldm::train
