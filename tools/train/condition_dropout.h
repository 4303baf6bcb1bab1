// ConditionDropout: which conditions (text, class, map) a training example keeps.
//
// Classifier-free guidance (Ho & Salimans 2022) needs the unconditional model, which is trained by
// dropping the condition. ldm's users give text, a class or a map ALONE or in any combination, and
// at inference every missing condition takes its "null" value (empty prompt, null class, zero
// map). So the model must see every subset of conditions, not only "all" and "none".
//
// Rule: with probability drop_all_probability every condition is dropped (the pure unconditional
// case the guidance formula subtracts); otherwise each condition is kept independently with
// keep_probability. With the defaults (0.1, 0.5) the eight subsets are equally likely (1/8 each)
// outside the 10% drop-all, so each single condition, each pair, all three, and none are all
// common: P(all dropped) = 0.1 + 0.9/8 = 0.21; each condition is dropped with probability 0.55.
// The "dropped independently about 10% of the time" would make single-condition examples
// rare (0.9 * 0.1 * 0.1 = 0.9% text-only), which is exactly what the guidance-alone use cases need,
// so the drop-all part keeps the 10% and the per-condition part is the independent 50%.
//
// Decisions are a pure function of (seed, step, item) (see TrainRng). Thread-safe.
#pragma once

#include <cstdint>

namespace ldm::train {

struct ConditionDropoutOptions {
  double drop_all_probability = 0.1;
  double keep_probability = 0.5;
};

struct ConditionKeep {
  bool text = true;
  bool class_label = true;
  bool map = true;
};

class ConditionDropout {
 public:
  explicit ConditionDropout(ConditionDropoutOptions options = {}) : options_(options) {}
  ConditionKeep Draw(uint64_t seed, uint64_t step, uint64_t item) const;
  const ConditionDropoutOptions& options() const { return options_; }

 private:
  ConditionDropoutOptions options_;
};

}  // namespace ldm::train
