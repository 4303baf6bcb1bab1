// SrEvaluator: the super-resolution acceptance metrics (issue 7) of a low_res_image model.
//
// Held-out data: scene samples of a dataset seed the trainer never used, rendered at the
// model's training resolution (128x128, the ground truth) and box-downsampled by the upscale
// factor (32x32, the input; tools/shapes/box_downsampler.h, as in training). For each method the
// report gives PSNR against the ground truth (pooled over all images: 10 log10(255^2 / mean
// squared error)) and the color / shape accuracy of ShapesAnalyzer on the output, scored against
// the scene's true objects (CheckCaption with every fact stated):
//   ground truth      the 128x128 render itself (the analyzer's own ceiling)
//   nearest, bicubic  torch interpolate of the 32x32 input (bicubic: a = -0.75, as PIL/torch)
//   VAE round trip    encode (posterior mean) + decode of the ground truth: the latent model's
//                     ceiling, also with back-projection onto the input
//   <model>           the super-resolution model (Pipeline jobs with low_res_image): its latents
//                     decoded raw, and its output as shipped (the pipeline back-projects when
//                     ldm_model.json asks; else the evaluator does, back_projection iterations)
// Not thread-safe (drives one Pipeline).
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "core/pipeline/pipeline.h"
#include "nlohmann/json.hpp"

namespace ldm::eval {

struct SrEvalOptions {
  int images = 256;
  int steps = 25;
  std::string sampler;           // "" = the model's default
  uint64_t seed = 1;             // image i's sampler seed = seed + i
  uint64_t dataset_seed = 4242;  // held out: training used seed 0
  int resolution = 128;          // ground-truth side
  int batch = 16;                // jobs stepped together
  int samples = 6;               // examples kept for the sample grid
  int back_projection = 5;       // iterations of the back-projection rows
};

struct SrMethodRow {
  std::string name;
  double psnr = 0;  // dB; 0 for the ground truth itself
  int64_t objects = 0, color_ok = 0, shape_ok = 0;
  int64_t images = 0, objects_ok = 0;  // every object's color and shape, and the count
  double color() const { return objects > 0 ? static_cast<double>(color_ok) / objects : 0; }
  double shape() const { return objects > 0 ? static_cast<double>(shape_ok) / objects : 0; }
  double all() const { return images > 0 ? static_cast<double>(objects_ok) / images : 0; }
};

struct SrEvalResult {
  std::string model;
  int images = 0, low_res = 0, resolution = 0, steps = 0;
  // ground truth, nearest, bicubic, VAE round trip (raw, back-projected), model (raw, final)
  std::vector<SrMethodRow> rows;
  // First `samples` examples: low-res (nearest-upscaled for display), bicubic, model, truth.
  std::vector<std::vector<Image8>> samples;
};

class SrEvaluator {
 public:
  // `pipeline` must be a super-resolution model and outlive the evaluator.
  SrEvaluator(Pipeline* pipeline, SrEvalOptions options);

  absl::StatusOr<SrEvalResult> Run(const std::function<void(const std::string&)>& progress = {});

  static std::string Text(const SrEvalResult& result);
  static nlohmann::json Json(const SrEvalResult& result);
  // Upscales HWC RGB by `factor` with torch's interpolate (mode "bicubic" or "nearest"),
  // rounded and clamped to uint8.
  static Image8 Resize(const Image8& image, int factor, const std::string& mode);

 private:
  Pipeline* pipeline_;
  SrEvalOptions options_;
};

}  // namespace ldm::eval
