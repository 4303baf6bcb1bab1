// FailureLog: keeps the evaluated images that miss what their condition states, for looking at
// what a model gets wrong (ldm-eval --failures DIR).
//
// For every scene image (class and caption kinds) whose check is not all right, Record writes
// DIR/<kind>-w<guidance>-c<condition>-i<image>.png and appends a line to DIR/failures.tsv:
//   file  kind  guidance  condition  asked  found  missed
// where `asked` is the condition's prompt or class name, `found` the analyzer's objects with
// their inclusive pixel bounding boxes ("large red circle at top left [3-30 x 2-29]; ...",
// largest first; a thin box at x = 0 is a border stripe) and `missed` the failed facts (count,
// color, shape, size, position, background). Map kinds are not recorded (their score is an IoU,
// not a pass/fail). Creates DIR on construction (Open). Not thread-safe.
#pragma once

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <string>

#include "absl/status/statusor.h"
#include "core/pipeline/job_spec.h"
#include "tools/eval/eval_metrics.h"
#include "tools/eval/eval_suite.h"
#include "tools/shapes/shapes_analyzer.h"

namespace ldm::eval {

class FailureLog {
 public:
  // Creates `dir` (and parents) and starts failures.tsv with its header, replacing an old one.
  // INTERNAL if either cannot be written.
  static absl::StatusOr<FailureLog> Open(const std::filesystem::path& dir);

  // Records `image` when `findings` (EvalMetrics::ScoreImage's for this image and condition)
  // say not everything stated holds; returns whether it did. Map kinds are ignored (false).
  // INTERNAL if the PNG or the line cannot be written.
  absl::StatusOr<bool> Record(const EvalCondition& condition, size_t condition_index,
                              double guidance, int image_index, const Image8& image,
                              const SceneFindings& findings);

  int recorded() const { return recorded_; }

  // "large red circle at top left [3-30 x 2-29]; small blue square at center [25-40 x 24-39]"
  // (boxes: x range x y range, inclusive pixels; no objects: "nothing").
  static std::string Describe(const shapes::ImageAnalysis& analysis);
  // The failed facts of `check`, comma-separated ("count,shape"); empty when all are right.
  static std::string Missed(const shapes::CaptionCheck& check);

 private:
  explicit FailureLog(std::filesystem::path dir) : dir_(std::move(dir)) {}

  std::filesystem::path dir_;
  int recorded_ = 0;
};

}  // namespace ldm::eval
