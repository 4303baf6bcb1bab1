// RequestMix: the GenerateRequests of a benchmark run, deterministic in (options, index).
//
// Each dimension is a list and request i picks one entry of each with a std::mt19937_64 seeded
// from (seed, i) (the engine's output is fixed by the C++ standard, so runs repeat exactly):
//   samplers      sampler names ("" or "default" = the model's own)
//   steps         sampler steps (0 = the model's default)
//   guidance      guidance scales (<= 1 runs one UNet row per image instead of two)
//   conditioning  kinds joined by '+': text, class, map, or none (e.g. "text", "class+map")
//   sizes         "64" or "WIDTHxHEIGHT" (0 = the model's native size)
// Prompts cycle through `prompts` distinct captions (the server caches prompt embeddings, so few
// distinct prompts mean cache hits); class labels cycle through the model's classes; maps are
// latent-resolution rectangles of one label on background. Image i of a request has seed
// seed + index * 1000 + i; request ids are "<id_prefix>-<index>".
// Errors: Create() returns INVALID_ARGUMENT naming the flag for unknown samplers or kinds, bad
// sizes, and conditioning the model does not take.
// Thread safety: Make() is const and safe from many threads.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "ldm/v1/image_generation.pb.h"
#include "nlohmann/json.hpp"

namespace ldm::bench {

struct MixOptions {
  std::string model;  // "" = the server's default model
  std::vector<std::string> samplers = {""};
  std::vector<int> steps = {0};
  std::vector<double> guidance = {5.0};
  std::vector<std::string> conditioning = {"text"};
  std::vector<std::string> sizes = {"0"};
  int prompts = 8;
  int num_images = 1;
  int preview_every = 0;
  uint64_t seed = 1;

  nlohmann::json ToJson() const;
};

class RequestMix {
 public:
  // `model` describes the model the requests go to (from ListModels).
  static absl::StatusOr<RequestMix> Create(const MixOptions& options,
                                           const v1::ModelDescription& model);

  v1::GenerateRequest Make(int index, const std::string& id_prefix) const;
  const MixOptions& options() const { return options_; }

 private:
  struct Size {
    uint32_t width = 0;
    uint32_t height = 0;
  };
  struct Kind {
    bool text = false;
    bool class_label = false;
    bool map = false;
  };

  RequestMix() = default;
  void AddMap(int index, v1::GenerateRequest& request) const;

  MixOptions options_;
  std::vector<v1::Sampler> samplers_;
  std::vector<Kind> kinds_;
  std::vector<Size> sizes_;
  int num_classes_ = 0;
  int num_labels_ = 0;
  int size_multiple_ = 8;
  uint32_t native_width_ = 0;
  uint32_t native_height_ = 0;
};

}  // namespace ldm::bench
