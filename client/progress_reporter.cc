#include "client/progress_reporter.h"

#include <unistd.h>

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace ldm::client {
namespace {
constexpr int kBarWidth = 20;
constexpr int kPlainBuckets = 20;  // plain lines: one per 5% of the steps
}  // namespace

ProgressReporter::ProgressReporter(std::ostream& out, bool interactive, absl::Time start)
    : out_(out), interactive_(interactive), start_(start) {}

bool ProgressReporter::StderrIsTerminal() { return isatty(STDERR_FILENO) == 1; }

std::string ProgressReporter::FormatSeconds(absl::Duration d) {
  const double s = std::max(0.0, absl::ToDoubleSeconds(d));
  if (s < 60) return absl::StrFormat("%.1fs", s);
  const int64_t whole = static_cast<int64_t>(s);
  return absl::StrFormat("%dm%02ds", whole / 60, whole % 60);
}

void ProgressReporter::ClearBar() {
  if (interactive_ && bar_shown_) {
    out_ << "\r\033[K";
    bar_shown_ = false;
  }
}

void ProgressReporter::Line(const std::string& text) {
  ClearBar();
  out_ << text << "\n";
  out_.flush();
}

void ProgressReporter::Finish() {
  if (interactive_ && bar_shown_) {
    out_ << "\n";
    bar_shown_ = false;
  }
  out_.flush();
}

void ProgressReporter::OnEvent(const v1::GenerateEvent& event, absl::Time now) {
  switch (event.event_case()) {
    case v1::GenerateEvent::kQueued:
      Line(absl::StrCat("queued (", event.queued().position(), " ahead)"));
      break;
    case v1::GenerateEvent::kStarted:
      run_start_ = now;
      Line(absl::StrCat("started on ", event.started().model(), " (", event.started().device(),
                        ") after ", FormatSeconds(now - start_)));
      break;
    case v1::GenerateEvent::kProgress:
      OnProgress(event.progress().step(), event.progress().total(), now);
      break;
    case v1::GenerateEvent::kDone:
      Line(absl::StrCat(
          "done ", event.done().request_id(), " in ",
          FormatSeconds(absl::Seconds(event.done().timings().total_seconds())), " (queue ",
          FormatSeconds(absl::Seconds(event.done().timings().queue_seconds())), ", run ",
          FormatSeconds(absl::Seconds(event.done().timings().run_seconds())), ")"));
      break;
    default:
      // Images are reported by the caller once written (it knows the path).
      break;
  }
}

void ProgressReporter::OnProgress(uint32_t step, uint32_t total, absl::Time now) {
  if (total == 0) return;
  step = std::min(step, total);
  // A started event always precedes progress; this covers a server that skipped it.
  if (run_start_ == absl::InfinitePast()) run_start_ = now;
  const absl::Duration elapsed = now - start_;
  std::string eta = "?";
  if (step > 0) {
    const absl::Duration per_step = (now - run_start_) / static_cast<int64_t>(step);
    eta = FormatSeconds(per_step * static_cast<int64_t>(total - step));
  }
  if (interactive_) {
    const int filled = static_cast<int>(static_cast<uint64_t>(step) * kBarWidth / total);
    out_ << "\r\033[K[" << std::string(filled, '#') << std::string(kBarWidth - filled, '-') << "] "
         << step << "/" << total << "  elapsed " << FormatSeconds(elapsed) << "  ETA " << eta;
    out_.flush();
    bar_shown_ = true;
    return;
  }
  const int bucket = static_cast<int>(static_cast<uint64_t>(step) * kPlainBuckets / total);
  if (bucket == last_bucket_ && step != total) return;
  if (step == total && last_bucket_ == kPlainBuckets + 1) return;  // last step already printed
  last_bucket_ = step == total ? kPlainBuckets + 1 : bucket;
  out_ << "step " << step << "/" << total << " elapsed " << FormatSeconds(elapsed) << " eta " << eta
       << "\n";
  out_.flush();
}

}  // namespace ldm::client
