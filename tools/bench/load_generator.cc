#include "tools/bench/load_generator.h"

#include <algorithm>
#include <map>
#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "tools/bench/poisson_arrivals.h"

namespace ldm::bench {
namespace {

double SecondsSince(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

absl::Status CheckCounts(int warmup, int measured) {
  if (warmup < 0) return absl::InvalidArgumentError(absl::StrCat("warmup = ", warmup, " < 0"));
  if (measured < 1) {
    return absl::InvalidArgumentError(absl::StrCat("requests = ", measured, " must be >= 1"));
  }
  return absl::OkStatus();
}

// Sorts the records by completion time and returns the indices of the non-abandoned ones in
// that order.
std::vector<int> ByCompletion(std::vector<RequestRecord>& records) {
  std::stable_sort(records.begin(), records.end(),
                   [](const RequestRecord& a, const RequestRecord& b) { return a.done < b.done; });
  std::vector<int> order;
  for (size_t i = 0; i < records.size(); ++i) {
    if (!records[i].abandoned) order.push_back(static_cast<int>(i));
  }
  return order;
}

}  // namespace

LoadGenerator::LoadGenerator(client::ImageGenerationClient* client, const RequestMix* mix,
                             LoadGeneratorOptions options)
    : client_(client), mix_(mix), options_(std::move(options)) {}

LoadRun LoadGenerator::NewRun(const std::string& kind, int warmup, int measured) {
  ++run_number_;
  LoadRun run;
  run.kind = kind;
  run.warmup = warmup;
  run.measured = measured;
  return run;
}

RequestRecord LoadGenerator::RunOne(int index, const std::shared_ptr<client::CallHandle>& handle,
                                    TimePoint start) {
  RequestRecord rec;
  rec.index = index;
  const v1::GenerateRequest request =
      mix_->Make(index, absl::StrCat(options_.id_prefix, "-r", run_number_));
  rec.request_id = request.request_id();
  client::CallOptions call;
  call.timeout = options_.request_timeout;
  call.handle = handle;
  rec.sent = SecondsSince(start);
  const absl::Status status = client_->StreamGenerate(
      request,
      [&](const v1::GenerateEvent& event) {
        const double now = SecondsSince(start);
        switch (event.event_case()) {
          case v1::GenerateEvent::kQueued:
            rec.queued = now;
            break;
          case v1::GenerateEvent::kStarted:
            rec.started = now;
            break;
          case v1::GenerateEvent::kProgress:
            if (rec.first_progress < 0) {
              rec.first_progress = now;
              rec.first_step = static_cast<int>(event.progress().step());
            }
            if (rec.first_preview < 0 && event.progress().previews_size() > 0) {
              rec.first_preview = now;
            }
            rec.last_progress = now;
            rec.last_step = static_cast<int>(event.progress().step());
            rec.total_steps = static_cast<int>(event.progress().total());
            break;
          case v1::GenerateEvent::kImage:
            ++rec.images;
            break;
          case v1::GenerateEvent::kDone:
            rec.server_queue_seconds = event.done().timings().queue_seconds();
            rec.server_run_seconds = event.done().timings().run_seconds();
            rec.batch_rows_max = static_cast<int>(event.done().timings().batch_rows_max());
            if (rec.total_steps == 0)
              rec.total_steps = static_cast<int>(event.done().timings().steps());
            break;
          default:
            break;
        }
      },
      call);
  rec.done = SecondsSince(start);
  rec.code = status.code();
  rec.message = std::string(status.message());
  return rec;
}

absl::StatusOr<LoadRun> LoadGenerator::RunClosedLoop(int concurrency, int warmup, int measured) {
  if (concurrency < 1) {
    return absl::InvalidArgumentError(absl::StrCat("concurrency = ", concurrency, " must be >= 1"));
  }
  if (absl::Status s = CheckCounts(warmup, measured); !s.ok()) return s;
  LoadRun run = NewRun("closed", warmup, measured);
  run.concurrency = concurrency;
  const int target = warmup + measured;

  absl::Mutex mu;
  int next_index = 0;
  int ended = 0;
  bool stop = false;
  std::map<int, std::shared_ptr<client::CallHandle>> in_flight;
  const TimePoint start = std::chrono::steady_clock::now();
  auto stream = [&]() {
    while (true) {
      int index;
      auto handle = std::make_shared<client::CallHandle>();
      {
        absl::MutexLock lock(&mu);
        if (stop) return;
        index = next_index++;
        in_flight[index] = handle;
      }
      RequestRecord rec = RunOne(index, handle, start);
      absl::MutexLock lock(&mu);
      in_flight.erase(index);
      // Cancelled by us after the run's last counted completion: not part of the run (a request
      // that succeeded just before the cancellation still counts).
      rec.abandoned = handle->cancelled() && !rec.ok();
      run.records.push_back(std::move(rec));
      if (run.records.back().abandoned) continue;
      if (++ended == target) {
        stop = true;
        for (auto& [i, h] : in_flight) h->Cancel();
      }
    }
  };
  std::vector<std::thread> threads;
  for (int i = 0; i < concurrency; ++i) threads.emplace_back(stream);
  for (std::thread& t : threads) t.join();
  run.wall_seconds = SecondsSince(start);

  const std::vector<int> order = ByCompletion(run.records);
  run.counted.assign(order.begin() + std::min<size_t>(warmup, order.size()),
                     order.begin() + std::min<size_t>(target, order.size()));
  run.window_start = warmup > 0 ? run.records[order[warmup - 1]].done : 0.0;
  run.window_end = run.records[order[std::min<size_t>(target, order.size()) - 1]].done;
  return run;
}

absl::StatusOr<LoadRun> LoadGenerator::RunOpenLoop(double rate, int warmup, int measured,
                                                   uint64_t seed) {
  if (absl::Status s = CheckCounts(warmup, measured); !s.ok()) return s;
  absl::StatusOr<PoissonArrivals> arrivals = PoissonArrivals::Create(rate, seed);
  if (!arrivals.ok()) return arrivals.status();
  LoadRun run = NewRun("open", warmup, measured);
  run.rate = rate;
  const std::vector<double> times = arrivals->Times(warmup + measured);

  absl::Mutex mu;
  std::vector<std::thread> threads;
  const TimePoint start = std::chrono::steady_clock::now();
  for (int i = 0; i < static_cast<int>(times.size()); ++i) {
    std::this_thread::sleep_until(start + std::chrono::duration_cast<std::chrono::nanoseconds>(
                                              std::chrono::duration<double>(times[i])));
    threads.emplace_back([&, i]() {
      RequestRecord rec = RunOne(i, std::make_shared<client::CallHandle>(), start);
      absl::MutexLock lock(&mu);
      run.records.push_back(std::move(rec));
    });
  }
  for (std::thread& t : threads) t.join();
  run.wall_seconds = SecondsSince(start);

  ByCompletion(run.records);
  run.window_start = -1;
  for (size_t i = 0; i < run.records.size(); ++i) {
    const RequestRecord& r = run.records[i];
    if (r.index < warmup) continue;
    run.counted.push_back(static_cast<int>(i));
    if (run.window_start < 0 || r.sent < run.window_start) run.window_start = r.sent;
    run.window_end = std::max(run.window_end, r.done);
  }
  return run;
}

}  // namespace ldm::bench
