// EvalSuite: the held-out conditions ldm-eval generates from.
//
//   class     each of the 18 classes, class label only (text "", no map)
//   caption1  captions of held-out single-object scenes (text only), stating shape and color and
//             a random subset of size, position, background
//   caption2  captions of held-out two-object scenes (text only)
//   map       held-out MapSample label maps (map only)
//   hand_map  HandDrawnMapSample maps, a stream unlike the training maps (map only)
// Held-out: the suite's dataset seed differs from the training seed, so its scenes and maps are
// not the training examples. Deterministic given the options. Thread-safe (pure).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/pipeline/job_spec.h"
#include "tools/shapes/shapes_types.h"

namespace ldm::eval {

enum class EvalKind { kClass, kCaption1, kCaption2, kMap, kHandMap };
const char* EvalKindName(EvalKind kind);

struct EvalCondition {
  EvalKind kind = EvalKind::kClass;
  std::string name;  // class name, caption, or "map #i"
  std::string prompt;
  std::optional<int> class_label;
  std::optional<LabelMap> map;
  // What the image must show (class and caption kinds).
  shapes::ParsedCaption expected;
  // The map the image must follow (map kinds), 64x64 labels.
  std::vector<uint8_t> truth_map;
};

struct EvalSuiteOptions {
  uint64_t seed = 1000003;  // dataset seed of the held-out conditions
  int caption1 = 24;
  int caption2 = 24;
  int maps = 17;
  int hand_maps = 17;
  bool include_classes = true;
};

class EvalSuite {
 public:
  static std::vector<EvalCondition> Build(const EvalSuiteOptions& options);
};

}  // namespace ldm::eval
