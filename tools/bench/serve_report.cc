#include "tools/bench/serve_report.h"

#include <map>

#include "absl/strings/str_format.h"
#include "tools/bench/latency_summary.h"

namespace ldm::bench {
namespace {

constexpr int kErrorMessagesKept = 5;

// "-" for missing values (null in JSON).
std::string Fmt(const nlohmann::json& v, const char* format = "%.3f") {
  if (!v.is_number()) return "-";
  return absl::StrFormat(format, v.get<double>());
}

}  // namespace

nlohmann::json ServeReport::Summarize(const LoadRun& run) {
  std::vector<double> latency, queue, client_queue, ttfp, ttfp_steps, started_ttfp, step, rows;
  int images = 0, ok = 0;
  for (int i : run.counted) {
    const RequestRecord& r = run.records[i];
    if (!r.ok()) continue;
    ++ok;
    images += r.images;
    latency.push_back(r.done - r.sent);
    if (r.server_queue_seconds >= 0) queue.push_back(r.server_queue_seconds);
    if (r.started >= 0) client_queue.push_back(r.started - r.sent);
    const double step_seconds = r.StepSeconds();
    if (step_seconds > 0) step.push_back(step_seconds);
    if (r.first_preview >= 0 && r.Admitted() >= 0) {
      const double t = r.first_preview - r.Admitted();
      ttfp.push_back(t);
      if (step_seconds > 0) ttfp_steps.push_back(t / step_seconds);
    }
    if (r.first_preview >= 0 && r.started >= 0) started_ttfp.push_back(r.first_preview - r.started);
    rows.push_back(r.batch_rows_max);
  }
  std::map<std::string, int> by_code;
  nlohmann::json messages = nlohmann::json::array();
  int errors = 0, abandoned = 0;
  for (const RequestRecord& r : run.records) {
    if (r.abandoned) {
      ++abandoned;
      continue;
    }
    if (r.ok()) continue;
    ++errors;
    ++by_code[absl::StatusCodeToString(r.code)];
    if (static_cast<int>(messages.size()) < kErrorMessagesKept) {
      messages.push_back(r.request_id + ": " + r.message);
    }
  }
  const double window = run.window_end - run.window_start;
  nlohmann::json point = {
      {"kind", run.kind},
      {"concurrency", run.concurrency},
      {"rate", run.kind == "open" ? nlohmann::json(run.rate) : nlohmann::json()},
      {"warmup", run.warmup},
      {"measured", run.measured},
      {"requests", run.counted.size()},
      {"ok", ok},
      {"images", images},
      {"errors", errors},
      {"errors_by_code", by_code},
      {"error_messages", messages},
      {"abandoned", abandoned},
      {"window_seconds", window},
      {"wall_seconds", run.wall_seconds},
      {"images_per_second", window > 0 ? nlohmann::json(images / window) : nlohmann::json()},
      {"requests_per_second", window > 0 ? nlohmann::json(ok / window) : nlohmann::json()},
      {"latency_seconds", LatencySummary::Of(latency).ToJson()},
      {"queue_wait_seconds", LatencySummary::Of(queue).ToJson()},
      {"client_queue_wait_seconds", LatencySummary::Of(client_queue).ToJson()},
      {"time_to_first_preview_seconds", LatencySummary::Of(ttfp).ToJson()},
      {"time_to_first_preview_steps", LatencySummary::Of(ttfp_steps).ToJson()},
      {"started_to_first_preview_seconds", LatencySummary::Of(started_ttfp).ToJson()},
      {"step_seconds", LatencySummary::Of(step).ToJson()},
      {"batch_rows_max", LatencySummary::Of(rows).ToJson()},
  };
  return point;
}

std::string ServeReport::Table(const std::vector<nlohmann::json>& points) {
  std::string out = absl::StrFormat("%-10s %6s %5s %8s %8s %8s %8s %8s %8s %8s %7s %8s %6s\n",
                                    "kind", "conc", "reqs", "img/s", "p50 s", "p95 s", "p99 s",
                                    "queue50", "ttfp50", "ttfp95", "ttfp-st", "step50", "errors");
  for (const nlohmann::json& p : points) {
    const std::string load = p["kind"] == "open"
                                 ? Fmt(p["rate"], "%.2f/s")
                                 : absl::StrFormat("%d", p["concurrency"].get<int>());
    absl::StrAppendFormat(&out, "%-10s %6s %5d %8s %8s %8s %8s %8s %8s %8s %7s %8s %6d\n",
                          p["kind"].get<std::string>(), load, p["requests"].get<int>(),
                          Fmt(p["images_per_second"]), Fmt(p["latency_seconds"]["p50"]),
                          Fmt(p["latency_seconds"]["p95"]), Fmt(p["latency_seconds"]["p99"]),
                          Fmt(p["queue_wait_seconds"]["p50"]),
                          Fmt(p["time_to_first_preview_seconds"]["p50"]),
                          Fmt(p["time_to_first_preview_seconds"]["p95"]),
                          Fmt(p["time_to_first_preview_steps"]["p50"], "%.2f"),
                          Fmt(p["step_seconds"]["p50"], "%.4f"), p["errors"].get<int>());
  }
  return out;
}

int ServeReport::ErrorCount(const std::vector<nlohmann::json>& points) {
  int n = 0;
  for (const nlohmann::json& p : points) n += p["errors"].get<int>();
  return n;
}

}  // namespace ldm::bench
