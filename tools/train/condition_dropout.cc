#include "tools/train/condition_dropout.h"

#include "tools/train/train_rng.h"

namespace ldm::train {

ConditionKeep ConditionDropout::Draw(uint64_t seed, uint64_t step, uint64_t item) const {
  // Four sub-draws from item-derived counters; each uniform is independent of the others.
  auto u = [&](uint64_t k) {
    return TrainRng::Uniform(seed, RngStream::kDiffusionDropout, step, item * 4 + k);
  };
  ConditionKeep keep;
  if (u(0) < options_.drop_all_probability) {
    keep.text = keep.class_label = keep.map = false;
    return keep;
  }
  keep.text = u(1) < options_.keep_probability;
  keep.class_label = u(2) < options_.keep_probability;
  keep.map = u(3) < options_.keep_probability;
  return keep;
}

}  // namespace ldm::train
