#include "client/image_generation_client.h"

#include <grpcpp/generic/generic_stub.h>

#include <algorithm>
#include <chrono>
#include <fstream>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/notification.h"
#include "client/call_handle.h"

namespace ldm::client {
namespace {

absl::Status ToAbsl(const grpc::Status& status) {
  if (status.ok()) return absl::OkStatus();
  // gRPC and absl share the canonical code numbers; the message is kept verbatim so callers
  // see exactly what the server said.
  return absl::Status(static_cast<absl::StatusCode>(status.error_code()), status.error_message());
}

absl::StatusOr<std::string> ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return absl::NotFoundError(absl::StrCat("cannot read ", path));
  std::ostringstream bytes;
  bytes << in.rdbuf();
  return bytes.str();
}

// grpc.health.v1 has no C++ client stub in Debian's packages, so the two one-field messages are
// encoded by hand over the generic stub: HealthCheckRequest{string service = 1} and
// HealthCheckResponse{ServingStatus status = 1}.
std::string EncodeHealthRequest(const std::string& service) {
  std::string out;
  if (service.empty()) return out;
  out.push_back(0x0a);  // field 1, length-delimited
  size_t n = service.size();
  while (n >= 0x80) {
    out.push_back(static_cast<char>((n & 0x7f) | 0x80));
    n >>= 7;
  }
  out.push_back(static_cast<char>(n));
  return out + service;
}

absl::StatusOr<ServingStatus> DecodeHealthResponse(const std::string& bytes) {
  if (bytes.empty()) return ServingStatus::kUnknown;
  if (bytes.size() != 2 || bytes[0] != 0x08 || bytes[1] < 0 || bytes[1] > 3) {
    return absl::InternalError("health check: unexpected response encoding");
  }
  return static_cast<ServingStatus>(bytes[1]);
}

}  // namespace

const char* ServingStatusName(ServingStatus status) {
  switch (status) {
    case ServingStatus::kServing:
      return "SERVING";
    case ServingStatus::kNotServing:
      return "NOT_SERVING";
    case ServingStatus::kServiceUnknown:
      return "SERVICE_UNKNOWN";
    default:
      return "UNKNOWN";
  }
}

grpc::ChannelArguments ImageGenerationClient::ChannelArguments(const ClientOptions& options) {
  grpc::ChannelArguments args;
  args.SetMaxReceiveMessageSize(options.max_message_bytes);
  args.SetMaxSendMessageSize(options.max_message_bytes);
  if (options.round_robin) {
    // With a dns:/// target every A record becomes a subchannel; round_robin spreads calls
    // over them (pick_first, gRPC's default, would pin all calls to one pod).
    args.SetServiceConfigJSON(R"({"loadBalancingConfig": [{"round_robin": {}}]})");
  }
  // Our own retry loop knows when a stream has delivered events; gRPC's would not.
  args.SetInt(GRPC_ARG_ENABLE_RETRIES, 0);
  if (options.use_tls && !options.tls_server_name.empty()) {
    args.SetSslTargetNameOverride(options.tls_server_name);
  }
  return args;
}

std::shared_ptr<grpc::ChannelCredentials> ImageGenerationClient::Credentials(
    const ClientOptions& options, std::string ca_pem) {
  if (!options.use_tls) return grpc::InsecureChannelCredentials();
  grpc::SslCredentialsOptions ssl;
  ssl.pem_root_certs = std::move(ca_pem);  // empty: gRPC's default roots
  return grpc::SslCredentials(ssl);
}

absl::StatusOr<std::unique_ptr<ImageGenerationClient>> ImageGenerationClient::Create(
    ClientOptions options) {
  std::string ca_pem;
  if (options.use_tls && !options.ca_file.empty()) {
    absl::StatusOr<std::string> pem = ReadFile(options.ca_file);
    if (!pem.ok()) {
      return absl::InvalidArgumentError(absl::StrCat("--ca-file: ", pem.status().message()));
    }
    ca_pem = *std::move(pem);
  }
  std::shared_ptr<grpc::Channel> channel = grpc::CreateCustomChannel(
      options.target, Credentials(options, std::move(ca_pem)), ChannelArguments(options));
  return std::make_unique<ImageGenerationClient>(std::move(channel), std::move(options));
}

ImageGenerationClient::ImageGenerationClient(std::shared_ptr<grpc::Channel> channel,
                                             ClientOptions options)
    : options_(std::move(options)),
      channel_(std::move(channel)),
      stub_(v1::ImageGeneration::NewStub(channel_)) {}

absl::Status ImageGenerationClient::RunWithRetries(
    const CallOptions& call,
    const std::function<grpc::Status(grpc::ClientContext*, bool* delivered)>& attempt) {
  const bool has_deadline = call.timeout != absl::InfiniteDuration();
  const absl::Time deadline = absl::Now() + call.timeout;
  CallHandle* handle = call.handle.get();
  const int max_attempts = std::max(1, options_.max_attempts);
  absl::Duration backoff = options_.initial_backoff;
  absl::Status status;
  int attempts = 0;
  for (;;) {
    ++attempts;
    grpc::ClientContext context;
    if (has_deadline) context.set_deadline(absl::ToChronoTime(deadline));
    if (handle != nullptr && !handle->Attach(&context)) {
      status = absl::CancelledError("cancelled by the client");
      break;
    }
    bool delivered = false;
    const grpc::Status result = attempt(&context, &delivered);
    if (handle != nullptr) handle->Detach();
    status = ToAbsl(result);
    if (status.ok() || status.code() != absl::StatusCode::kUnavailable || delivered ||
        attempts >= max_attempts) {
      break;
    }
    // Never sleep past the deadline: the next attempt could not run anyway.
    if (has_deadline && absl::Now() + backoff >= deadline) break;
    if (handle != nullptr) {
      if (handle->SleepUnlessCancelled(backoff)) {
        status = absl::CancelledError("cancelled by the client");
        break;
      }
    } else {
      absl::SleepFor(backoff);
    }
    backoff = std::min(backoff * options_.backoff_multiplier, options_.max_backoff);
  }
  last_attempts_ = attempts;
  return status;
}

absl::StatusOr<v1::GenerateResponse> ImageGenerationClient::Generate(
    const v1::GenerateRequest& request, const CallOptions& call) {
  v1::GenerateResponse response;
  absl::Status status = RunWithRetries(call, [&](grpc::ClientContext* context, bool*) {
    response.Clear();
    return stub_->Generate(context, request, &response);
  });
  if (!status.ok()) return status;
  return response;
}

absl::Status ImageGenerationClient::StreamGenerate(const v1::GenerateRequest& request,
                                                   const EventCallback& on_event,
                                                   const CallOptions& call) {
  return RunWithRetries(call, [&](grpc::ClientContext* context, bool* delivered) {
    std::unique_ptr<grpc::ClientReader<v1::GenerateEvent>> reader =
        stub_->StreamGenerate(context, request);
    v1::GenerateEvent event;
    while (reader->Read(&event)) {
      *delivered = true;
      if (on_event) on_event(event);
    }
    return reader->Finish();
  });
}

absl::StatusOr<v1::ListModelsResponse> ImageGenerationClient::ListModels(const CallOptions& call) {
  v1::ListModelsResponse response;
  absl::Status status = RunWithRetries(call, [&](grpc::ClientContext* context, bool*) {
    response.Clear();
    return stub_->ListModels(context, v1::ListModelsRequest(), &response);
  });
  if (!status.ok()) return status;
  return response;
}

absl::StatusOr<ServingStatus> ImageGenerationClient::Health(const std::string& service,
                                                            const CallOptions& call) {
  std::string bytes;
  absl::Status status = RunWithRetries(call, [&](grpc::ClientContext* context, bool*) {
    const std::string encoded = EncodeHealthRequest(service);
    grpc::Slice slice(encoded);
    grpc::ByteBuffer in(&slice, 1);
    grpc::ByteBuffer out;
    grpc::GenericStub stub(channel_);
    absl::Notification done;
    grpc::Status result;
    // The generic stub has no blocking unary call; this thread is the caller's, not a gRPC
    // reaction, so waiting here is fine.
    stub.UnaryCall(context, "/grpc.health.v1.Health/Check", grpc::StubOptions(), &in, &out,
                   [&](grpc::Status s) {
                     result = std::move(s);
                     done.Notify();
                   });
    done.WaitForNotification();
    bytes.clear();
    if (result.ok()) {
      std::vector<grpc::Slice> slices;
      (void)out.Dump(&slices);
      for (const auto& s : slices) {
        bytes.append(reinterpret_cast<const char*>(s.begin()), s.size());
      }
    }
    return result;
  });
  if (!status.ok()) return status;
  return DecodeHealthResponse(bytes);
}

}  // namespace ldm::client
