// EvalReport: ldm-eval's output: a table per guidance scale, a guidance sweep (accuracy and
// diversity against guidance, the classifier-free guidance trade-off), the acceptance targets of
// issue 4 with pass/fail, and the same as JSON.
#pragma once

#include <string>

#include "nlohmann/json.hpp"
#include "tools/eval/shapes_evaluator.h"

namespace ldm::eval {

class EvalReport {
 public:
  static std::string Text(const EvalResult& result);
  static nlohmann::json Json(const EvalResult& result);
};

}  // namespace ldm::eval
