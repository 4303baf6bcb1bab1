#include "client/progress_reporter.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <sstream>

#include "absl/strings/match.h"
#include "absl/strings/str_split.h"

namespace ldm::client {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

v1::GenerateEvent Progress(uint32_t step, uint32_t total) {
  v1::GenerateEvent e;
  e.mutable_progress()->set_step(step);
  e.mutable_progress()->set_total(total);
  return e;
}

v1::GenerateEvent Started() {
  v1::GenerateEvent e;
  e.mutable_started()->set_model("fake");
  e.mutable_started()->set_device("cpu");
  return e;
}

TEST(ProgressReporterTest, PlainLinesWithoutEscapesAndAtMostOnePerFivePercent) {
  std::ostringstream out;
  const absl::Time t0 = absl::FromUnixSeconds(1000);
  ProgressReporter reporter(out, /*interactive=*/false, t0);
  v1::GenerateEvent queued;
  queued.mutable_queued()->set_position(2);
  reporter.OnEvent(queued, t0);
  reporter.OnEvent(Started(), t0 + absl::Seconds(1));
  for (uint32_t step = 1; step <= 100; ++step) {
    reporter.OnEvent(Progress(step, 100), t0 + absl::Seconds(1) + absl::Milliseconds(100) * step);
  }
  v1::GenerateEvent done;
  done.mutable_done()->set_request_id("r1");
  done.mutable_done()->mutable_timings()->set_total_seconds(11);
  reporter.OnEvent(done, t0 + absl::Seconds(11));
  reporter.Finish();
  const std::string text = out.str();
  EXPECT_THAT(text, Not(HasSubstr("\r")));
  EXPECT_THAT(text, Not(HasSubstr("\033")));
  EXPECT_THAT(text, HasSubstr("queued (2 ahead)"));
  EXPECT_THAT(text, HasSubstr("started on fake (cpu)"));
  // Step 50 at 6 s: 5 s of running for 50 steps, so 5 s to go.
  EXPECT_THAT(text, HasSubstr("step 50/100 elapsed 6.0s eta 5.0s"));
  EXPECT_THAT(text, HasSubstr("step 100/100 elapsed 11.0s eta 0.0s"));
  EXPECT_THAT(text, HasSubstr("done r1 in 11.0s"));
  int step_lines = 0;
  for (absl::string_view line : absl::StrSplit(text, '\n')) {
    if (absl::StartsWith(line, "step ")) ++step_lines;
  }
  EXPECT_EQ(step_lines, 21);  // one per 5% bucket (0..19) and the last step
}

TEST(ProgressReporterTest, InteractiveRedrawsOneBarLine) {
  std::ostringstream out;
  const absl::Time t0 = absl::FromUnixSeconds(1000);
  ProgressReporter reporter(out, /*interactive=*/true, t0);
  reporter.OnEvent(Started(), t0);
  reporter.OnEvent(Progress(5, 20), t0 + absl::Seconds(1));
  reporter.Line("wrote a.png");
  reporter.OnEvent(Progress(10, 20), t0 + absl::Seconds(2));
  reporter.Finish();
  const std::string text = out.str();
  EXPECT_THAT(text, HasSubstr("\r\033[K[#####---------------] 5/20  elapsed 1.0s  ETA 3.0s"));
  EXPECT_THAT(text, HasSubstr("\r\033[Kwrote a.png\n"));
  EXPECT_THAT(text, HasSubstr("[##########----------] 10/20  elapsed 2.0s  ETA 2.0s\n"));
}

TEST(ProgressReporterTest, FormatsMinutes) {
  EXPECT_EQ(ProgressReporter::FormatSeconds(absl::Seconds(2.25)), "2.2s");
  EXPECT_EQ(ProgressReporter::FormatSeconds(absl::Seconds(125)), "2m05s");
  EXPECT_EQ(ProgressReporter::FormatSeconds(-absl::Seconds(1)), "0.0s");
}

}  // namespace
}  // namespace ldm::client
