#include "tools/train/train_loop.h"

#include <spdlog/spdlog.h>

#include <chrono>
#include <cmath>

#include "absl/strings/str_cat.h"
#include "core/common/status_macros.h"
#include "core/common/torch_guard.h"
#include "tools/train/stop_signal.h"

namespace ldm::train {

TrainLoop::TrainLoop(TrainLoopOptions options, std::filesystem::path checkpoint_dir)
    : options_(std::move(options)), checkpoint_(std::move(checkpoint_dir)) {}

absl::StatusOr<bool> TrainLoop::Run(torch::nn::Module& module, torch::optim::Optimizer& optimizer,
                                    EmaWeights* ema, int64_t* step, bool resume,
                                    int64_t max_steps_this_call,
                                    const std::function<double()>& train_step) {
  const std::string& name = options_.name;
  if (checkpoint_.Latest().has_value()) {
    if (!resume) {
      return absl::FailedPreconditionError(absl::StrCat(
          "a checkpoint exists in ", checkpoint_.dir().string(), "; pass --resume or remove it"));
    }
    LDM_ASSIGN_OR_RETURN(nlohmann::json state, checkpoint_.Restore(module, optimizer, ema));
    *step = state["step"].get<int64_t>();
    spdlog::info("{}: resumed from step {}", name, *step);
  }
  using Clock = std::chrono::steady_clock;
  auto last_checkpoint = Clock::now();
  auto window_start = Clock::now();
  int64_t window_steps = 0, steps_this_call = 0;
  double window_loss = 0;
  const LrSchedule lr(options_.lr);
  while (*step < options_.steps) {
    if (StopSignal::Requested() ||
        (max_steps_this_call >= 0 && steps_this_call >= max_steps_this_call)) {
      LDM_RETURN_IF_ERROR(checkpoint_.Save(*step, module, optimizer, ema));
      spdlog::info("{}: stopped at step {} (checkpoint written)", name, *step);
      return false;
    }
    absl::StatusOr<double> loss = TorchGuard(absl::StrCat(name, " step"), train_step);
    if (!loss.ok()) return loss.status();
    if (!std::isfinite(*loss)) {
      return absl::InternalError(absl::StrCat(name, " loss is not finite at step ", *step));
    }
    last_loss_ = *loss;
    window_loss += *loss;
    ++window_steps;
    ++steps_this_call;
    if (*step % options_.log_every == 0 || *step == options_.steps) {
      const double secs = std::chrono::duration<double>(Clock::now() - window_start).count();
      spdlog::info("{} step {}/{} loss {:.5f} lr {:.2e} {:.1f} img/s {:.2f} s/step", name, *step,
                   options_.steps, window_loss / window_steps, lr.At(*step - 1),
                   window_steps * options_.batch_size / std::max(secs, 1e-9), secs / window_steps);
      window_start = Clock::now();
      window_steps = 0;
      window_loss = 0;
    }
    const double since = std::chrono::duration<double>(Clock::now() - last_checkpoint).count();
    if (*step % options_.checkpoint_every_steps == 0 ||
        since >= options_.checkpoint_every_seconds || *step == options_.steps) {
      LDM_RETURN_IF_ERROR(checkpoint_.Save(*step, module, optimizer, ema));
      last_checkpoint = Clock::now();
    }
  }
  return true;
}

}  // namespace ldm::train
