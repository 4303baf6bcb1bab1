#include "server/rpc/stream_event_buffer.h"

#include <utility>

namespace ldm::server {

void StreamEventBuffer::Push(v1::GenerateEvent event) {
  if (event.has_progress() && event.progress().previews_size() > 0 &&
      event.progress().preview_step() == 0) {
    event.mutable_progress()->set_preview_step(event.progress().step());
  }
  if (event.has_progress() && !waiting_.empty() && waiting_.back().has_progress()) {
    // Only the tail can be a progress event that a later one may replace: anything pushed after
    // it (image, done) must keep its place behind it, and progress never follows an image.
    v1::ProgressEvent* old = waiting_.back().mutable_progress();
    v1::ProgressEvent* fresh = event.mutable_progress();
    if (fresh->previews_size() == 0 && old->previews_size() > 0) {
      fresh->mutable_previews()->Swap(old->mutable_previews());
      fresh->set_preview_step(old->preview_step());
    }
    waiting_.back() = std::move(event);
    ++coalesced_;
    return;
  }
  waiting_.push_back(std::move(event));
}

const v1::GenerateEvent* StreamEventBuffer::StartNext() {
  if (in_flight_.has_value() || waiting_.empty()) return nullptr;
  in_flight_ = std::move(waiting_.front());
  waiting_.pop_front();
  return &*in_flight_;
}

void StreamEventBuffer::WriteDone() { in_flight_.reset(); }

void StreamEventBuffer::Clear() { waiting_.clear(); }

}  // namespace ldm::server
