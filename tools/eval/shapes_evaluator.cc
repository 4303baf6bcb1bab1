#include "tools/eval/shapes_evaluator.h"

#include <torch/torch.h>

#include <cmath>
#include <optional>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "core/common/status_macros.h"
#include "core/common/torch_guard.h"
#include "core/pipeline/image_tensors.h"
#include "tools/eval/failure_log.h"
#include "tools/shapes/shapes_dataset.h"

namespace ldm::eval {

ShapesEvaluator::ShapesEvaluator(Pipeline* pipeline, EvaluatorOptions options)
    : pipeline_(pipeline), options_(std::move(options)) {}

absl::StatusOr<EvalResult> ShapesEvaluator::Run(
    const std::vector<EvalCondition>& suite, int keep_samples,
    const std::function<void(const std::string&)>& progress) {
  shapes::ShapesAnalyzer analyzer;
  EvalResult result;
  result.map_guidance = pipeline_->info().default_guidance_map_only.value_or(5.0);
  std::optional<FailureLog> failures;
  if (!options_.failures_dir.empty()) {
    LDM_ASSIGN_OR_RETURN(failures, FailureLog::Open(options_.failures_dir));
  }
  for (double g : options_.guidance_scales) {
    for (size_t ci = 0; ci < suite.size(); ++ci) {
      const EvalCondition& c = suite[ci];
      LDM_ASSIGN_OR_RETURN(std::vector<Image8> images, GenerateImages(c, ci, g, 0.0));
      RowStats& row = result.rows[{c.kind, g}];
      for (size_t i = 0; i < images.size(); ++i) {
        SceneFindings findings;
        LDM_ASSIGN_OR_RETURN(ImageScore s, EvalMetrics::ScoreImage(analyzer, c, images[i],
                                                                   failures ? &findings : nullptr));
        row.Add(s);
        if (failures) {
          LDM_RETURN_IF_ERROR(
              failures->Record(c, ci, g, static_cast<int>(i), images[i], findings).status());
        }
      }
      LDM_ASSIGN_OR_RETURN(double d, EvalMetrics::Diversity(images));
      row.AddDiversity(d);
      images.resize(std::min<size_t>(images.size(), static_cast<size_t>(keep_samples)));
      result.samples[g][ci] = std::move(images);
      if (progress && (ci + 1) % 10 == 0) {
        progress(absl::StrFormat("guidance %g: %d/%d conditions", g, ci + 1, suite.size()));
      }
    }
  }
  return result;
}

absl::StatusOr<std::vector<Image8>> ShapesEvaluator::GenerateImages(const EvalCondition& c,
                                                                    size_t ci, double guidance,
                                                                    double classifier_scale) {
  const int n = options_.images_per_condition;
  GenerateOptions gen;
  gen.spec.request_id = absl::StrCat("eval-", ci);
  gen.spec.prompt = c.prompt;
  gen.spec.class_label = c.class_label;
  gen.spec.semantic_map = c.map;
  gen.spec.width = gen.spec.height = 64;
  gen.spec.steps = options_.steps;
  gen.spec.sampler = options_.sampler;
  gen.spec.guidance_scale = guidance;
  // As the server samples a request without eta.
  gen.spec.eta = options_.eta.value_or(pipeline_->info().DefaultEtaFor(options_.sampler));
  gen.spec.classifier_scale = classifier_scale;
  std::vector<Image8> images;
  for (int start = 0; start < n; start += options_.max_jobs_per_batch) {
    gen.num_images = std::min(options_.max_jobs_per_batch, n - start);
    gen.spec.seed = options_.seed + 1000 * ci + static_cast<uint64_t>(start);
    LDM_ASSIGN_OR_RETURN(std::vector<Image8> batch, pipeline_->Generate(gen));
    for (auto& img : batch) images.push_back(std::move(img));
  }
  return images;
}

absl::Status ShapesEvaluator::RunClassifierSweep(
    const std::vector<EvalCondition>& suite, EvalResult* result,
    const std::function<void(const std::string&)>& progress) {
  if (!pipeline_->info().has_classifier) {
    return absl::FailedPreconditionError(absl::StrCat(
        "the classifier sweep needs a model with a classifier/ (", pipeline_->info().name, ")"));
  }
  shapes::ShapesAnalyzer analyzer;
  result->sweep_guidance = options_.sweep_guidance;
  for (double s : options_.classifier_scales) {
    RowStats& row = result->classifier_sweep[s];
    for (size_t ci = 0; ci < suite.size(); ++ci) {
      const EvalCondition& c = suite[ci];
      if (c.kind != EvalKind::kClass) continue;
      // Same seeds at every scale: the scales are compared on equal noise.
      LDM_ASSIGN_OR_RETURN(std::vector<Image8> images,
                           GenerateImages(c, ci, options_.sweep_guidance, s));
      for (const Image8& img : images) {
        LDM_ASSIGN_OR_RETURN(ImageScore score, EvalMetrics::ScoreImage(analyzer, c, img));
        row.Add(score);
      }
      LDM_ASSIGN_OR_RETURN(double d, EvalMetrics::Diversity(images));
      row.AddDiversity(d);
    }
    if (progress) {
      progress(absl::StrFormat("classifier scale %.1f: accuracy %.3f, diversity %.3f (%d images)",
                               s, row.objects_right(), row.diversity(), row.images));
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<std::vector<Image8>> ShapesEvaluator::RoundTrip(
    const std::vector<shapes::ShapesSample>& samples) {
  std::vector<Image8> out;
  const size_t chunk = 32;
  for (size_t start = 0; start < samples.size(); start += chunk) {
    const size_t end = std::min(samples.size(), start + chunk);
    std::vector<torch::Tensor> xs;
    for (size_t i = start; i < end; ++i) {
      const shapes::ShapesSample& s = samples[i];
      xs.push_back(torch::from_blob(const_cast<uint8_t*>(s.rgb.data()), {s.height, s.width, 3},
                                    torch::kUInt8)
                       .permute({2, 0, 1})
                       .to(torch::kFloat32)
                       .div(127.5)
                       .sub(1.0));
    }
    LDM_ASSIGN_OR_RETURN(torch::Tensor x, TorchGuard("stack", [&]() { return torch::stack(xs); }));
    c10::InferenceMode inference;
    LDM_ASSIGN_OR_RETURN(DiagonalGaussian post, pipeline_->vae()->RunEncode(x));
    const double sf = pipeline_->vae()->config().scaling_factor;
    LDM_ASSIGN_OR_RETURN(torch::Tensor decoded, pipeline_->DecodeToTensor(post.mean * sf));
    LDM_ASSIGN_OR_RETURN(std::vector<Image8> images, TorchGuard("round trip", [&]() {
                           return ImageTensors::FromBatch01(decoded);
                         }));
    for (Image8& img : images) out.push_back(std::move(img));
  }
  return out;
}

absl::StatusOr<double> ShapesEvaluator::AutoencoderPsnr(int count, uint64_t dataset_seed) {
  shapes::ShapesDatasetOptions o;
  o.seed = dataset_seed;
  shapes::ShapesDataset dataset(o);
  std::vector<shapes::ShapesSample> samples;
  for (int i = 0; i < count; ++i) {
    // Alternate scenes and map samples: both kinds reach the decoder at inference.
    samples.push_back(i % 2 == 0 ? dataset.Sample(i) : dataset.MapSample(i));
  }
  LDM_ASSIGN_OR_RETURN(std::vector<Image8> decoded, RoundTrip(samples));
  double se = 0, values = 0;
  for (size_t i = 0; i < samples.size(); ++i) {
    for (size_t k = 0; k < samples[i].rgb.size(); ++k) {
      const double d = static_cast<double>(decoded[i].pixels[k]) - samples[i].rgb[k];
      se += d * d;
    }
    values += static_cast<double>(samples[i].rgb.size());
  }
  const double mse = se / std::max(values, 1.0);
  return mse == 0 ? INFINITY : 10.0 * std::log10(255.0 * 255.0 / mse);
}

absl::Status ShapesEvaluator::AutoencoderCeiling(int count, uint64_t dataset_seed,
                                                 EvalResult* result) {
  shapes::ShapesDatasetOptions o;
  o.seed = dataset_seed;
  shapes::ShapesDataset dataset(o);
  shapes::ShapesAnalyzer analyzer;
  // Each image is filed under its condition's kind (scenes: the caption kind of their count).
  auto score = [&](const std::vector<shapes::ShapesSample>& samples,
                   const std::vector<EvalCondition>& conditions) -> absl::Status {
    LDM_ASSIGN_OR_RETURN(std::vector<Image8> decoded, RoundTrip(samples));
    for (size_t i = 0; i < samples.size(); ++i) {
      const shapes::ShapesSample& s = samples[i];
      const Image8 truth{s.width, s.height, 3, s.rgb};
      auto& [truth_row, vae_row] = result->autoencoder_ceiling[conditions[i].kind];
      LDM_ASSIGN_OR_RETURN(ImageScore t, EvalMetrics::ScoreImage(analyzer, conditions[i], truth));
      LDM_ASSIGN_OR_RETURN(ImageScore v,
                           EvalMetrics::ScoreImage(analyzer, conditions[i], decoded[i]));
      truth_row.Add(t);
      vae_row.Add(v);
      const ModelInfo& info = pipeline_->info();
      if (conditions[i].truth_map.empty() || !info.supports_semantic_map) continue;
      const int r = info.semantic_map_subcells, f = info.vae_scale_factor;
      LDM_ASSIGN_OR_RETURN(
          std::vector<uint8_t> rebuilt,
          EvalMetrics::MapFromCells(s.label_map, s.width, s.height, info.semantic_channels,
                                    s.width / f * r, s.height / f * r));
      ImageScore cells;
      LDM_ASSIGN_OR_RETURN(cells.miou, shapes::ShapesAnalyzer::MeanIoU(rebuilt, s.label_map,
                                                                       info.semantic_channels));
      result->map_channel_ceiling[conditions[i].kind].Add(cells);
    }
    return absl::OkStatus();
  };
  std::vector<shapes::ShapesSample> scenes, maps, hand_maps;
  std::vector<EvalCondition> scene_conditions, map_conditions, hand_conditions;
  auto map_condition = [](EvalKind kind, const shapes::ShapesSample& s) {
    EvalCondition c;
    c.kind = kind;
    c.truth_map = s.label_map;
    return c;
  };
  for (int i = 0; i < count; ++i) {
    scenes.push_back(dataset.Sample(i));
    EvalCondition c;
    c.kind = scenes.back().objects.size() == 1 ? EvalKind::kCaption1 : EvalKind::kCaption2;
    for (const shapes::ShapeObject& obj : scenes.back().objects) {
      c.expected.objects.push_back({obj.shape, obj.color, obj.size, obj.position});
    }
    scene_conditions.push_back(std::move(c));
    maps.push_back(dataset.MapSample(i));
    map_conditions.push_back(map_condition(EvalKind::kMap, maps.back()));
    hand_maps.push_back(dataset.HandDrawnMapSample(i));
    hand_conditions.push_back(map_condition(EvalKind::kHandMap, hand_maps.back()));
  }
  LDM_RETURN_IF_ERROR(score(scenes, scene_conditions));
  LDM_RETURN_IF_ERROR(score(maps, map_conditions));
  return score(hand_maps, hand_conditions);
}

}  // namespace ldm::eval
