// ShapesEvaluator: generates images for an EvalSuite through ldm::Pipeline and scores them.
//
// For every guidance scale and condition it generates images_per_condition images (seeds
// seed + 1000 * condition + i, the same at every scale so scales are compared on equal noise),
// scores each with EvalMetrics::ScoreImage and records the condition's diversity. Rows are
// (kind, guidance). AutoencoderPsnr measures the VAE's round trip on held-out dataset images,
// AutoencoderCeiling the analyzer's scores on such round trips (the bound of any latent model).
// RunClassifierSweep does the same for the class conditions at one CFG scale (1: no CFG) and
// each classifier guidance scale (ADM's accuracy / diversity trade-off); the model needs a
// classifier.
// With failures_dir set, Run also keeps every class/caption image that misses a stated fact
// (tools/eval/failure_log.h).
// Not thread-safe (drives one Pipeline).
#pragma once

#include <functional>
#include <map>
#include <optional>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "core/pipeline/pipeline.h"
#include "tools/eval/eval_metrics.h"
#include "tools/eval/eval_suite.h"
#include "tools/shapes/shapes_types.h"

namespace ldm::eval {

struct EvaluatorOptions {
  std::vector<double> guidance_scales = {1, 2, 3, 5, 7};
  int images_per_condition = 12;
  int steps = 25;
  std::string sampler = "ddim";
  // DDIM's eta (JobSpec::eta: 0 deterministic, 1 DDPM-like); unset: the model's default_eta, as
  // the server applies it to requests without one.
  std::optional<double> eta;
  uint64_t seed = 1;
  int max_jobs_per_batch = 32;  // images generated per Pipeline::Generate call
  // Classifier guidance sweep (RunClassifierSweep): scales, at CFG scale sweep_guidance.
  std::vector<double> classifier_scales = {0, 1, 3, 10};
  double sweep_guidance = 1.0;
  // When set, Run writes the scene images that miss a stated fact here (FailureLog).
  std::string failures_dir;
};

struct EvalResult {
  // (kind, guidance) -> stats
  std::map<std::pair<EvalKind, double>, RowStats> rows;
  // guidance -> (condition index -> images), kept for the sample grid
  std::map<double, std::map<size_t, std::vector<Image8>>> samples;
  // The guidance scale of the map rows' acceptance check, set by Run: the model's default for
  // map-only requests (ModelInfo::default_guidance_map_only), as the server applies it; else 5.
  double map_guidance = 5.0;
  double autoencoder_psnr = 0;
  int autoencoder_images = 0;
  // AutoencoderCeiling: per kind (kCaption1: one-object scenes, kCaption2: two-object scenes,
  // kMap, kHandMap), the scores of the held-out images themselves (first) and of their VAE
  // round trips (second).
  std::map<EvalKind, std::pair<RowStats, RowStats>> autoencoder_ceiling;
  // AutoencoderCeiling, maps of a model that takes them: the mIoU of each held-out map rebuilt
  // from the channels the model's UNet is given (EvalMetrics::MapFromCells at latent size x
  // semantic_map_subcells), per map kind: how much of the map's shape reaches the UNet.
  std::map<EvalKind, RowStats> map_channel_ceiling;
  // Classifier guidance sweep: classifier_scale -> class-condition stats (at sweep_guidance).
  std::map<double, RowStats> classifier_sweep;
  double sweep_guidance = 1.0;
};

class ShapesEvaluator {
 public:
  ShapesEvaluator(Pipeline* pipeline, EvaluatorOptions options);

  // `keep_samples`: how many images per condition to keep in EvalResult::samples.
  absl::StatusOr<EvalResult> Run(const std::vector<EvalCondition>& suite, int keep_samples = 1,
                                 const std::function<void(const std::string&)>& progress = {});
  // Fills `result`->classifier_sweep from the kClass conditions of `suite`. FAILED_PRECONDITION
  // when the model has no classifier.
  absl::Status RunClassifierSweep(const std::vector<EvalCondition>& suite, EvalResult* result,
                                  const std::function<void(const std::string&)>& progress = {});
  // PSNR (dB, over the pooled squared error) of VAE encode (posterior mean) -> decode on
  // `count` held-out images of the dataset with seed `dataset_seed`.
  absl::StatusOr<double> AutoencoderPsnr(int count, uint64_t dataset_seed);
  // What the autoencoder alone allows (a latent model cannot draw more than its VAE decodes):
  // `count` held-out scenes and `count` maps and hand-drawn maps of the dataset with seed
  // `dataset_seed`, scored with ShapesAnalyzer as rendered and after a VAE round trip. Scenes are
  // scored on every fact they have (color, shape, size, position, count), maps by mIoU. Fills
  // `result`->autoencoder_ceiling (and map_channel_ceiling for models that take maps).
  absl::Status AutoencoderCeiling(int count, uint64_t dataset_seed, EvalResult* result);

 private:
  // VAE encode (posterior mean) -> decode of dataset images, as uint8 RGB images.
  absl::StatusOr<std::vector<Image8>> RoundTrip(const std::vector<shapes::ShapesSample>& samples);

  // images_per_condition images of condition `ci` (seeds as documented above).
  absl::StatusOr<std::vector<Image8>> GenerateImages(const EvalCondition& c, size_t ci,
                                                     double guidance, double classifier_scale);

  Pipeline* pipeline_;
  EvaluatorOptions options_;
};

}  // namespace ldm::eval
