// ldm-client: generate images, list models and check health against an ldm server.
// Exit codes: see client/exit_code.h (also printed by --help).
#include <CLI/CLI.hpp>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <memory>
#include <optional>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/clock.h"
#include "client/exit_code.h"
#include "client/image_generation_client.h"
#include "client/interrupt_watcher.h"
#include "client/output_path_pattern.h"
#include "client/progress_reporter.h"
#include "client/request_builder.h"

namespace ldm::client {
namespace {

constexpr const char* kExitCodeHelp =
    "Exit codes: 0 ok, 1 other error, 2 usage, 3 invalid argument, 4 not found (model), "
    "5 unavailable or resource exhausted (retry later), 6 deadline exceeded, 7 cancelled, "
    "8 health: not serving.";

struct ConnectionFlags {
  std::string target = "localhost:50051";
  bool tls = false;
  std::string ca_file;
  std::string tls_server_name;
  int attempts = 4;
  double deadline_seconds = 0;
};

struct GenerateCliFlags {
  GenerateFlags request;
  std::string out = "ldm-{i}.png";
  std::string previews_dir;
  bool unary = false;
  bool quiet = false;
};

int Fail(const absl::Status& status) {
  std::cerr << "ldm-client: error: " << absl::StatusCodeToString(status.code()) << ": "
            << status.message() << "\n";
  return ExitCodeFor(status);
}

CallOptions MakeCallOptions(const ConnectionFlags& flags, double default_seconds) {
  CallOptions call;
  const double seconds = flags.deadline_seconds > 0 ? flags.deadline_seconds : default_seconds;
  if (seconds > 0) call.timeout = absl::Seconds(seconds);
  return call;
}

absl::Status WriteFile(const std::string& path, const std::string& bytes) {
  const std::filesystem::path parent = std::filesystem::path(path).parent_path();
  std::error_code ec;
  if (!parent.empty()) std::filesystem::create_directories(parent, ec);
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  out.close();
  if (!out) return absl::InternalError(absl::StrCat("cannot write ", path));
  return absl::OkStatus();
}

int RunGenerate(ImageGenerationClient& client, const ConnectionFlags& connection,
                GenerateCliFlags flags, InterruptWatcher& interrupts) {
  if (!flags.previews_dir.empty() && flags.request.preview_every == 0) {
    flags.request.preview_every = 5;
  }
  absl::StatusOr<v1::GenerateRequest> request = RequestBuilder::Build(flags.request);
  if (!request.ok()) {
    std::cerr << "ldm-client: " << request.status().message() << "\n";
    return kExitUsage;  // a bad flag value or an unreadable input file
  }
  const OutputPathPattern paths(flags.out, std::max<uint32_t>(1, flags.request.num_images));
  CallOptions call = MakeCallOptions(connection, 0);
  call.handle = std::make_shared<CallHandle>();
  std::shared_ptr<CallHandle> handle = call.handle;
  interrupts.Start([handle] { handle->Cancel(); });
  auto interrupted = [&](const absl::Status& status) {
    if (!interrupts.interrupted() || status.code() != absl::StatusCode::kCancelled) return false;
    std::cerr << "ldm-client: interrupted; the request was cancelled\n";
    return true;
  };

  if (flags.unary) {
    absl::StatusOr<v1::GenerateResponse> response = client.Generate(*request, call);
    if (interrupted(response.status())) return kExitCancelled;
    if (!response.ok()) return Fail(response.status());
    for (const v1::GeneratedImage& image : response->images()) {
      const std::string path = paths.PathFor(image.index(), image.seed());
      if (absl::Status s = WriteFile(path, image.png()); !s.ok()) return Fail(s);
      std::cout << path << "\n";
    }
    return kExitOk;
  }

  ProgressReporter reporter(std::cerr, ProgressReporter::StderrIsTerminal(), absl::Now());
  absl::Status write_error;
  auto on_event = [&](const v1::GenerateEvent& event) {
    if (!write_error.ok()) return;
    if (!flags.quiet) reporter.OnEvent(event, absl::Now());
    if (event.has_image()) {
      const std::string path = paths.PathFor(event.image().index(), event.image().seed());
      write_error = WriteFile(path, event.image().png());
      if (write_error.ok()) {
        if (!flags.quiet) {
          reporter.Line(absl::StrCat("wrote ", path, " (seed ", event.image().seed(), ")"));
        }
        std::cout << path << "\n";
      }
    } else if (event.has_progress() && !flags.previews_dir.empty()) {
      for (const v1::Preview& preview : event.progress().previews()) {
        const std::string path =
            absl::StrCat(flags.previews_dir, "/step", event.progress().preview_step(), "-",
                         preview.index(), ".png");
        write_error = WriteFile(path, preview.png());
        if (!write_error.ok()) break;
      }
    }
    // Stop the server's work for us: there is nowhere to put the images.
    if (!write_error.ok()) call.handle->Cancel();
  };
  absl::Status status = client.StreamGenerate(*request, on_event, call);
  reporter.Finish();
  if (!write_error.ok()) return Fail(write_error);
  if (interrupted(status)) return kExitCancelled;
  if (!status.ok()) return Fail(status);
  return kExitOk;
}

int RunModels(ImageGenerationClient& client, const ConnectionFlags& connection) {
  absl::StatusOr<v1::ListModelsResponse> models =
      client.ListModels(MakeCallOptions(connection, 30));
  if (!models.ok()) return Fail(models.status());
  for (const v1::ModelDescription& m : models->models()) {
    std::vector<std::string> samplers;
    for (int s : m.samplers()) samplers.push_back(RequestBuilder::SamplerName(v1::Sampler(s)));
    std::cout << m.name() << (m.is_default() ? " (default)" : "") << "\n"
              << "  size: " << m.native_width() << "x" << m.native_height() << " (" << m.min_size()
              << ".." << m.max_size() << ", multiple of " << m.size_multiple() << ")\n"
              << "  conditioning: " << absl::StrJoin(m.conditioning(), ", ") << "\n";
    if (m.class_names_size() > 0) {
      std::cout << "  classes: " << absl::StrJoin(m.class_names(), ", ") << "\n";
    }
    if (m.semantic_labels_size() > 0) {
      std::cout << "  semantic labels: " << absl::StrJoin(m.semantic_labels(), ", ") << "\n";
    }
    std::cout << "  samplers: " << absl::StrJoin(samplers, ", ") << " (default "
              << RequestBuilder::SamplerName(m.default_sampler()) << ")\n"
              << "  defaults: steps " << m.default_steps() << ", guidance "
              << m.default_guidance_scale();
    if (m.has_default_guidance_scale_map_only()) {
      std::cout << " (map-only requests " << m.default_guidance_scale_map_only() << ")";
    }
    std::cout << ", eta " << m.default_eta() << "\n";
  }
  return kExitOk;
}

int RunHealth(ImageGenerationClient& client, const ConnectionFlags& connection,
              const std::string& service) {
  absl::StatusOr<ServingStatus> health = client.Health(service, MakeCallOptions(connection, 10));
  if (!health.ok()) return Fail(health.status());
  std::cout << ServingStatusName(*health) << "\n";
  return *health == ServingStatus::kServing ? kExitOk : kExitNotServing;
}

int Main(int argc, char** argv) {
  CLI::App app{"ldm-client: generate images with an ldm server (see docs/API.md)", "ldm-client"};
  app.footer(kExitCodeHelp);
  app.set_version_flag("--version", std::string(LDM_VERSION));
  app.require_subcommand(1);
  app.fallthrough();
  ConnectionFlags connection;
  app.add_option("--target", connection.target,
                 "Server address host:port, or dns:///host:port to balance over every address")
      ->envname("LDM_TARGET")
      ->capture_default_str();
  app.add_flag("--tls", connection.tls, "Use TLS (default: plaintext)");
  app.add_option("--ca-file", connection.ca_file, "PEM CA certificates for --tls")
      ->check(CLI::ExistingFile);
  app.add_option("--tls-server-name", connection.tls_server_name,
                 "Name expected in the server certificate (default: the target's host)");
  app.add_option("--attempts", connection.attempts,
                 "Attempts while the server is UNAVAILABLE before accepting the call (1 = no "
                 "retries)")
      ->check(CLI::Range(1, 100))
      ->capture_default_str();
  app.add_option("--deadline", connection.deadline_seconds,
                 "Seconds for the whole call, retries included; 0 = none (models/health: 30/10)")
      ->check(CLI::Range(0.0, 1e7));

  GenerateCliFlags gen;
  CLI::App* generate = app.add_subcommand("generate", "Generate images (streams progress)");
  GenerateFlags& r = gen.request;
  generate->add_option("--model", r.model, "Model name (default: the server's default)");
  generate->add_option("--prompt,-p", r.prompt, "Text prompt");
  generate->add_option("--negative-prompt", r.negative_prompt, "Negative prompt");
  generate->add_option("--class", r.class_condition, "Class label: an index or a class name");
  generate->add_option("--semantic-map", r.semantic_map_png,
                       "Semantic map PNG (palette indices or gray values = labels)");
  generate->add_option("--width", r.width, "Width (0 = the model's)");
  generate->add_option("--height", r.height, "Height (0 = the model's)");
  generate->add_option("--n,-n", r.num_images, "Number of images")->capture_default_str();
  generate->add_option("--steps", r.steps, "Denoising steps (0 = the model's)");
  generate->add_option("--guidance", r.guidance_scale,
                       "Guidance scale (default: the model's; <= 1 disables guidance)");
  generate->add_option("--eta", r.eta,
                       "DDIM stochasticity in [0, 1] (default: the model's default_eta)");
  generate->add_option("--sampler", r.sampler,
                       "ddpm, ddim, pndm, euler, euler_ancestral, dpmpp_2m, dpmpp_2m_karras");
  generate->add_option("--seed", r.seed, "Seed (0 = random); image i uses seed + i");
  generate->add_option("--request-id", r.request_id, "Request id echoed in server logs");
  generate
      ->add_option("--out,-o", gen.out,
                   "Output file or pattern with {i} (index) and {seed}; several images "
                   "without a pattern get -{i} before the extension")
      ->capture_default_str();
  generate->add_option("--previews", gen.previews_dir, "Write previews into this directory");
  generate->add_option("--preview-every", r.preview_every,
                       "A preview every k steps (default with --previews: 5)");
  generate->add_option("--preview-quality", r.preview_quality,
                       "fast (latent-resolution projection, default) or full (a VAE decode)");
  generate->add_option("--classifier-scale", r.classifier_scale,
                       "Classifier guidance strength (needs --class and a model classifier)");
  generate->add_option("--low-res-image", r.low_res_image_png,
                       "PNG to upscale (super-resolution models)");
  generate->add_flag("--upscale", r.upscale,
                     "Upscale the generated images with a super-resolution model");
  generate->add_option("--upscale-model", r.upscale_model,
                       "Super-resolution model for --upscale (default: the server's first)");
  generate->add_option("--upscale-steps", r.upscale_steps,
                       "Steps of the upscaler (0 = its default)");
  generate->add_flag("--unary", gen.unary, "Use the unary Generate call (no progress)");
  generate->add_flag("--quiet,-q", gen.quiet, "No progress output");

  CLI::App* models = app.add_subcommand("models", "List the server's models");
  std::string service;
  CLI::App* health = app.add_subcommand("health", "Check grpc.health.v1 (exit 0 when SERVING)");
  health->add_option("--service", service, "Service name (default: the whole server)");

  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    app.exit(e);
    return kExitUsage;
  }

  // Before the channel exists: gRPC's threads must inherit the blocked signals. Only generate
  // runs long enough to be worth cancelling; the other commands keep the default Ctrl-C.
  std::optional<InterruptWatcher> interrupts;
  if (*generate) interrupts.emplace();
  ClientOptions options;
  options.target = connection.target;
  options.use_tls = connection.tls;
  options.ca_file = connection.ca_file;
  options.tls_server_name = connection.tls_server_name;
  options.max_attempts = connection.attempts;
  absl::StatusOr<std::unique_ptr<ImageGenerationClient>> client =
      ImageGenerationClient::Create(options);
  if (!client.ok()) {
    std::cerr << "ldm-client: " << client.status().message() << "\n";
    return kExitUsage;
  }
  if (*generate) return RunGenerate(**client, connection, gen, *interrupts);
  if (*models) return RunModels(**client, connection);
  if (*health) return RunHealth(**client, connection, service);
  return kExitUsage;
}

}  // namespace
}  // namespace ldm::client

int main(int argc, char** argv) { return ldm::client::Main(argc, argv); }
