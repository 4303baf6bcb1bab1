// LrSchedule: linear warm-up followed by cosine decay to a floor, as a pure function of the step
// (so a resumed run continues the schedule exactly).
#pragma once

#include <cstdint>

namespace ldm::train {

struct LrScheduleOptions {
  double peak_lr = 1e-4;
  int64_t warmup_steps = 0;
  int64_t total_steps = 1;
  // The final learning rate as a fraction of peak_lr.
  double final_fraction = 0.1;

  // The recipe's schedules: warm-up over a tenth of total_steps but at most max_warmup steps,
  // then cosine decay to final_fraction.
  static LrScheduleOptions WarmupCosine(double peak_lr, int64_t total_steps, int64_t max_warmup,
                                        double final_fraction);
};

class LrSchedule {
 public:
  explicit LrSchedule(LrScheduleOptions options) : options_(options) {}
  // Learning rate for the update made at `step` (0-based).
  double At(int64_t step) const;

 private:
  LrScheduleOptions options_;
};

}  // namespace ldm::train
