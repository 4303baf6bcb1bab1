#include "tools/train/lr_schedule.h"

#include <algorithm>
#include <cmath>
#include <numbers>

namespace ldm::train {

LrScheduleOptions LrScheduleOptions::WarmupCosine(double peak_lr, int64_t total_steps,
                                                  int64_t max_warmup, double final_fraction) {
  return {.peak_lr = peak_lr,
          .warmup_steps = std::min(max_warmup, total_steps / 10),
          .total_steps = total_steps,
          .final_fraction = final_fraction};
}

double LrSchedule::At(int64_t step) const {
  const LrScheduleOptions& o = options_;
  if (step < o.warmup_steps) {
    return o.peak_lr * static_cast<double>(step + 1) / static_cast<double>(o.warmup_steps);
  }
  const int64_t span = std::max<int64_t>(1, o.total_steps - o.warmup_steps);
  const double progress =
      std::clamp(static_cast<double>(step - o.warmup_steps) / static_cast<double>(span), 0.0, 1.0);
  // Cosine annealing (Loshchilov & Hutter 2017, SGDR eq. 5) without restarts.
  const double cosine = 0.5 * (1.0 + std::cos(std::numbers::pi * progress));
  return o.peak_lr * (o.final_fraction + (1.0 - o.final_fraction) * cosine);
}

}  // namespace ldm::train
