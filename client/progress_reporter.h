// ldm-client's progress output for a streaming generation, written to stderr (stdout stays free
// for the data a script wants).
//
// Interactive (stderr is a terminal): one bar line redrawn in place,
//   [##########----------] 10/20  elapsed 1.2s  ETA 1.1s
// with other lines (queued, started, image written, done) printed above it.
// Not interactive (a pipe, a log file, CI): plain lines, no carriage returns or escape codes,
//   step 10/20 elapsed 1.2s eta 1.1s
// at most one line per 5% of the steps (and the last step) so that logs stay short.
// The ETA extrapolates the time per step since the request started running.
// Thread safety: none; one call's events arrive on one thread.
#pragma once

#include <cstdint>
#include <ostream>
#include <string>

#include "absl/time/time.h"
#include "ldm/v1/image_generation.pb.h"

namespace ldm::client {

class ProgressReporter {
 public:
  ProgressReporter(std::ostream& out, bool interactive, absl::Time start);

  void OnEvent(const v1::GenerateEvent& event, absl::Time now);
  // A line of its own (e.g. "wrote out-0.png"), printed without breaking the bar.
  void Line(const std::string& text);
  // Ends the bar line (interactive mode); call once when the stream ends.
  void Finish();

  // Whether file descriptor 2 is a terminal.
  static bool StderrIsTerminal();
  static std::string FormatSeconds(absl::Duration d);

 private:
  void OnProgress(uint32_t step, uint32_t total, absl::Time now);
  void ClearBar();

  std::ostream& out_;
  bool interactive_;
  absl::Time start_;
  absl::Time run_start_ = absl::InfinitePast();
  bool bar_shown_ = false;
  int last_bucket_ = -1;  // non-interactive: the last 5% bucket printed
};

}  // namespace ldm::client
