// Options for ImageGenerationClient (per channel) and for one call.
#pragma once

#include <memory>
#include <string>

#include "absl/time/time.h"
#include "client/call_handle.h"

namespace ldm::client {

struct ClientOptions {
  // "host:port", or "dns:///host:port" to resolve every address of a (headless) service and
  // balance calls over them.
  std::string target = "localhost:50051";
  // TLS: server certificates are checked against `ca_file` (PEM), or the system roots when it is
  // empty. Off: an insecure (plaintext) channel.
  bool use_tls = false;
  std::string ca_file;
  std::string tls_server_name;  // overrides the name checked in the certificate (tests)
  // Client-side load balancing over every resolved address (round_robin); else pick_first.
  bool round_robin = true;
  // Images and semantic maps may exceed gRPC's 4 MiB default; the server allows 64 MiB.
  int max_message_bytes = 64 << 20;
  // Retries of UNAVAILABLE before any event was received (the server did not accept the request:
  // not listening, loading, draining). `max_attempts` counts the first one; 1 disables retries.
  int max_attempts = 4;
  absl::Duration initial_backoff = absl::Milliseconds(250);
  absl::Duration max_backoff = absl::Seconds(4);
  double backoff_multiplier = 2.0;
};

struct CallOptions {
  // For the whole call, retries included. Infinite: no deadline.
  absl::Duration timeout = absl::InfiniteDuration();
  // Optional: cancels the call from another thread.
  std::shared_ptr<CallHandle> handle;
};

}  // namespace ldm::client
