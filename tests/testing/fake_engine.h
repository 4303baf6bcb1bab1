// A deterministic Engine for scheduler and RPC tests: no model, no torch work.
//
// Jobs count steps; Step records the batch composition; a prompt containing "fail-step" makes the
// job fail at its second step, "fail-create" fails CreateJob, "fail-decode" fails Decode. Decoded
// images are solid colours derived from the seed so tests can check what they got.
// Thread safety: like any Engine, one thread at a time; the recorded counters are atomic/locked.
#pragma once

#include <atomic>
#include <functional>
#include <memory>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "core/pipeline/engine.h"

namespace ldm::testing {

class FakeEngine : public Engine {
 public:
  explicit FakeEngine(ModelInfo info);

  const ModelInfo& info() const override { return info_; }
  absl::StatusOr<std::unique_ptr<Job>> CreateJob(const JobSpec& spec) override;
  std::vector<absl::Status> Step(absl::Span<Job* const> jobs) override;
  std::vector<absl::StatusOr<Image8>> Decode(absl::Span<Job* const> jobs) override;
  absl::StatusOr<Image8> Preview(const Job& job, PreviewQuality quality) override;

  // Rows of every Step call so far.
  std::vector<int> batch_rows() const;
  int step_calls() const;
  // Called at the start of every Step (e.g. to advance a fake clock or block).
  void set_on_step(std::function<void()> fn) { on_step_ = std::move(fn); }
  // Called at the start of every CreateJob (e.g. to block a worker inside admission).
  void set_on_create(std::function<void()> fn) { on_create_ = std::move(fn); }

  static ModelInfo DefaultInfo(const std::string& name = "fake");
  // A 4x super-resolution model (low_res_image conditioning, no text/class/map, guidance 1).
  static ModelInfo SuperResolutionInfo(const std::string& name = "fake-sr");

 private:
  ModelInfo info_;
  std::function<void()> on_step_;
  std::function<void()> on_create_;
  mutable absl::Mutex mu_;
  std::vector<int> batch_rows_ ABSL_GUARDED_BY(mu_);
};

}  // namespace ldm::testing
