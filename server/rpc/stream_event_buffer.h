// The events of one StreamGenerate call waiting for the wire, with one write in flight at a
// time and coalescing of progress for slow readers.
//
// Policy: events leave in the order they came. A progress event that arrives while another
// progress event is still waiting (not yet being written) replaces it: the latest step wins and
// the latest previews are kept (preview_step says which step they show), so a slow client gets
// fewer, fresher progress events and a worker never waits. queued/started/image/done events are
// never dropped or merged; a stream holds at most a handful of them (one per image).
// Thread safety: none; the owning reactor serialises access under its mutex.
#pragma once

#include <deque>
#include <optional>

#include "ldm/v1/image_generation.pb.h"

namespace ldm::server {

class StreamEventBuffer {
 public:
  void Push(v1::GenerateEvent event);

  // The next event to write, when none is in flight; it is then in flight until WriteDone().
  // The returned pointer stays valid until WriteDone() or Clear().
  const v1::GenerateEvent* StartNext();
  void WriteDone();
  // Drops everything waiting (the reader is gone). An event in flight stays in flight.
  void Clear();

  bool write_in_flight() const { return in_flight_.has_value(); }
  bool empty() const { return waiting_.empty(); }
  // Nothing waiting and nothing in flight.
  bool idle() const { return waiting_.empty() && !in_flight_.has_value(); }
  // Progress events merged into a later one so far.
  int coalesced() const { return coalesced_; }

 private:
  std::deque<v1::GenerateEvent> waiting_;
  std::optional<v1::GenerateEvent> in_flight_;
  int coalesced_ = 0;
};

}  // namespace ldm::server
