#include "tools/train/sr_pair_builder.h"

#include <ATen/Parallel.h>
#include <torch/torch.h>

#include "tools/shapes/box_downsampler.h"
#include "tools/train/train_rng.h"

namespace ldm::train {
namespace {

BatchBuilderOptions PairData(const SrPairOptions& o, int resolution) {
  BatchBuilderOptions data;
  data.dataset.seed = o.seed;
  data.dataset.resolution = resolution;
  data.map_fraction = o.map_fraction;
  return data;
}

}  // namespace

SrPairBuilder::SrPairBuilder(SrPairOptions options)
    : options_(options),
      direct_(PairData(options, options.resolution)),
      zoomed_(PairData(options, 2 * options.resolution)) {}

std::vector<uint8_t> SrPairBuilder::HighRes(uint64_t key) const {
  const int r = options_.resolution;
  if (TrainRng::Uniform(options_.seed, RngStream::kSrZoom, key) >= options_.zoom_fraction) {
    return direct_.Example(key).rgb;
  }
  const shapes::ShapesSample big = zoomed_.Example(key);
  const uint64_t h = TrainRng::Hash(options_.seed, RngStream::kSrZoom, key, 1);
  const int x0 = static_cast<int>(h % static_cast<uint64_t>(r + 1));
  const int y0 = static_cast<int>((h >> 32) % static_cast<uint64_t>(r + 1));
  return shapes::BoxDownsampler::Crop(big.rgb, big.width, x0, y0, r, r);
}

torch::Tensor SrPairBuilder::ToChw(const std::vector<uint8_t>& rgb, int width, int height) {
  return torch::from_blob(const_cast<uint8_t*>(rgb.data()), {height, width, 3}, torch::kUInt8)
      .permute({2, 0, 1})
      .clone();
}

SrPairBatch SrPairBuilder::Build(const std::vector<uint64_t>& keys) const {
  const int64_t n = static_cast<int64_t>(keys.size());
  const int r = options_.resolution, lr = r / options_.upscale_factor;
  std::vector<std::vector<uint8_t>> high(keys.size()), low(keys.size());
  at::parallel_for(0, n, 1, [&](int64_t begin, int64_t end) {
    for (int64_t i = begin; i < end; ++i) {
      high[i] = HighRes(keys[i]);
      low[i] = shapes::BoxDownsampler::Downsample(high[i], r, r, options_.upscale_factor);
    }
  });
  SrPairBatch batch;
  batch.images = torch::empty({n, 3, r, r}, torch::kFloat32);
  batch.low_res = torch::empty({n, 3, lr, lr}, torch::kUInt8);
  for (int64_t i = 0; i < n; ++i) {
    batch.images[i].copy_(BatchBuilder::ImageToTensor(high[i], r, r));
    batch.low_res[i].copy_(ToChw(low[i], lr, lr));
  }
  return batch;
}

}  // namespace ldm::train
