#include "tools/train/batch_builder.h"

#include <ATen/Parallel.h>
#include <torch/torch.h>

#include "tools/train/train_rng.h"

namespace ldm::train {

BatchBuilder::BatchBuilder(BatchBuilderOptions options)
    : options_(options), dataset_(options.dataset) {}

bool BatchBuilder::IsMapExample(uint64_t key) const {
  return TrainRng::Uniform(options_.dataset.seed, RngStream::kSampleKind, key) <
         options_.map_fraction;
}

shapes::ShapesSample BatchBuilder::Example(uint64_t key) const {
  return IsMapExample(key) ? dataset_.MapSample(key) : dataset_.Sample(key);
}

torch::Tensor BatchBuilder::ImageToTensor(const std::vector<uint8_t>& rgb, int width, int height) {
  torch::Tensor hwc =
      torch::from_blob(const_cast<uint8_t*>(rgb.data()), {height, width, 3}, torch::kUInt8);
  return hwc.permute({2, 0, 1}).to(torch::kFloat32).div(127.5).sub(1.0).contiguous();
}

ImageBatch BatchBuilder::Build(const std::vector<uint64_t>& keys) const {
  const int64_t n = static_cast<int64_t>(keys.size());
  const int64_t r = options_.dataset.resolution;
  std::vector<shapes::ShapesSample> samples(keys.size());
  // Rendering is pure per key, so the order of work does not affect the result.
  at::parallel_for(0, n, 1, [&](int64_t begin, int64_t end) {
    for (int64_t i = begin; i < end; ++i) samples[i] = Example(keys[i]);
  });
  ImageBatch batch;
  batch.images = torch::empty({n, 3, r, r}, torch::kFloat32);
  batch.labels = torch::empty({n, r, r}, torch::kUInt8);
  for (int64_t i = 0; i < n; ++i) {
    const shapes::ShapesSample& s = samples[i];
    TORCH_CHECK(s.width == r && s.height == r, "unexpected sample size");
    batch.images[i].copy_(ImageToTensor(s.rgb, s.width, s.height));
    batch.labels[i].copy_(
        torch::from_blob(const_cast<uint8_t*>(s.label_map.data()), {r, r}, torch::kUInt8));
    batch.captions.push_back(s.caption);
    batch.class_labels.push_back(s.class_label);
  }
  return batch;
}

}  // namespace ldm::train
