#include "server/rpc/proto_events.h"

#include <chrono>

#include "absl/strings/str_cat.h"

namespace ldm::server {

v1::Timings ToProto(const RequestTimings& t) {
  v1::Timings out;
  out.set_queue_seconds(t.queue_seconds);
  out.set_run_seconds(t.run_seconds);
  out.set_total_seconds(t.total_seconds);
  out.set_steps(static_cast<uint32_t>(t.steps));
  out.set_batch_rows_max(static_cast<uint32_t>(t.batch_rows_max));
  return out;
}

v1::GenerateEvent QueuedEvent(int position) {
  v1::GenerateEvent e;
  e.mutable_queued()->set_position(static_cast<uint32_t>(position));
  return e;
}

v1::GenerateEvent StartedEvent(const std::string& model, const std::string& device) {
  v1::GenerateEvent e;
  e.mutable_started()->set_model(model);
  e.mutable_started()->set_device(device);
  return e;
}

v1::GenerateEvent ProgressEvent(int step, int total, std::vector<PreviewImage> previews) {
  v1::GenerateEvent e;
  v1::ProgressEvent* p = e.mutable_progress();
  p->set_step(static_cast<uint32_t>(step));
  p->set_total(static_cast<uint32_t>(total));
  for (PreviewImage& preview : previews) {
    v1::Preview* out = p->add_previews();
    out->set_index(static_cast<uint32_t>(preview.index));
    out->set_png(std::move(preview.png));
  }
  if (!previews.empty()) p->set_preview_step(static_cast<uint32_t>(step));
  return e;
}

v1::GenerateEvent ImageEvent(int index, std::string png, uint64_t seed, int width, int height) {
  v1::GenerateEvent e;
  v1::ImageEvent* image = e.mutable_image();
  image->set_index(static_cast<uint32_t>(index));
  image->set_png(std::move(png));
  image->set_seed(seed);
  image->set_width(static_cast<uint32_t>(width));
  image->set_height(static_cast<uint32_t>(height));
  return e;
}

v1::GenerateEvent DoneEvent(const std::string& request_id, const RequestTimings& timings) {
  v1::GenerateEvent e;
  e.mutable_done()->set_request_id(request_id);
  *e.mutable_done()->mutable_timings() = ToProto(timings);
  return e;
}

std::optional<absl::Time> CallDeadline(const grpc::ServerContextBase& context) {
  const std::chrono::system_clock::time_point deadline = context.deadline();
  // gRPC reports "no deadline" as time_point::max(); anything beyond a year is as good as none
  // and would overflow absl's conversion.
  if (deadline >= std::chrono::system_clock::now() + std::chrono::hours(24 * 365)) {
    return std::nullopt;
  }
  return absl::FromChrono(deadline);
}

absl::Status CancellationStatus(const std::string& request_id, std::optional<absl::Time> deadline,
                                const std::string& why) {
  if (deadline.has_value() && absl::Now() >= *deadline) {
    return absl::DeadlineExceededError(
        absl::StrCat("request ", request_id, ": the call's deadline passed"));
  }
  return absl::CancelledError(absl::StrCat("request ", request_id, ": ", why));
}

}  // namespace ldm::server
