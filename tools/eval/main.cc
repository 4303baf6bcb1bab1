// ldm-eval: measures a shapes model (issue 4's acceptance metrics) through ldm::Pipeline.
//
//   ldm-eval --model models/toy-shapes [--images 12] [--guidance 1,2,3,5,7] [--steps 25]
//            [--json out.json] [--grid grid.png] [--grid-guidance 5] [--threads 2]
//
// With --classifier-scales (a model with classifier/) it also runs the classifier guidance
// sweep: the 18 class conditions at --sweep-guidance (default 1: no CFG) for each classifier
// scale; --sweep-only skips everything else.
//
//   ldm-eval --model models/toy-shapes --classifier-scales 0,1,3,10 --sweep-only --images 12
//
// A super-resolution model (e.g. models/toy-shapes-sr) gets the SR evaluation instead: PSNR and
// color/shape accuracy on --sr-images held-out 128x128 renders from their 4x box-downsampled
// inputs, against nearest and bicubic upsampling; --grid then shows input / bicubic / model /
// truth per row:
//
//   ldm-eval --model models/toy-shapes-sr --sr-images 256 --json sr.json --grid sr.png
//
// Prints a table per guidance scale, the guidance sweep and the acceptance checks. With the
// defaults every row has at least 200 images (18 classes x 12, 24 captions x 12 per caption
// kind, 17 maps x 12 per map kind).
#include <spdlog/spdlog.h>
#include <torch/torch.h>

#include <CLI/CLI.hpp>
#include <fstream>
#include <iostream>

#include "core/io/png_codec.h"
#include "core/pipeline/pipeline.h"
#include "tools/eval/eval_report.h"
#include "tools/eval/eval_suite.h"
#include "tools/eval/image_grid.h"
#include "tools/eval/shapes_evaluator.h"
#include "tools/eval/sr_evaluator.h"

namespace {

// A super-resolution model (ListModels' low_res_image): PSNR and color/shape accuracy against
// held-out ground truth, next to nearest/bicubic upsampling (tools/eval/sr_evaluator.h).
int RunSuperResolutionEval(ldm::Pipeline* pipeline, const ldm::eval::SrEvalOptions& options,
                           const std::string& json_path, const std::string& grid_path) {
  ldm::eval::SrEvaluator evaluator(pipeline, options);
  auto result = evaluator.Run([](const std::string& msg) { spdlog::info("{}", msg); });
  if (!result.ok()) {
    spdlog::error("{}", result.status().ToString());
    return 1;
  }
  std::cout << ldm::eval::SrEvaluator::Text(*result) << std::flush;
  if (!json_path.empty()) {
    std::ofstream(json_path) << ldm::eval::SrEvaluator::Json(*result).dump(2) << "\n";
  }
  if (!grid_path.empty()) {
    // One row per example: input (nearest), bicubic, model, ground truth.
    auto grid = ldm::eval::ImageGrid::Tile(result->samples);
    auto png = grid.ok() ? ldm::EncodePng(*grid) : absl::StatusOr<std::string>(grid.status());
    if (!png.ok()) {
      spdlog::error("{}", png.status().ToString());
      return 1;
    }
    std::ofstream(grid_path, std::ios::binary) << *png;
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"ldm-eval: condition accuracy, map mIoU, diversity and VAE PSNR of a shapes model"};
  std::string model, json_path, grid_path, device = "cpu";
  int threads = 0, psnr_images = 256, grid_columns = 8;
  double grid_guidance = 5.0;
  ldm::eval::EvalSuiteOptions suite;
  ldm::eval::EvaluatorOptions eo;
  app.add_option("--model", model, "diffusers model folder")->required();
  app.add_option("--images", eo.images_per_condition, "images per condition");
  app.add_option("--guidance", eo.guidance_scales, "guidance scales")->delimiter(',');
  app.add_option("--steps", eo.steps, "sampler steps");
  app.add_option("--sampler", eo.sampler, "sampler");
  app.add_option("--eta", eo.eta,
                 "DDIM eta of every generated image (0: deterministic; default: the model's "
                 "default_eta)");
  app.add_option("--seed", eo.seed, "base seed of the generated images");
  app.add_option("--captions1", suite.caption1, "single-object captions");
  app.add_option("--captions2", suite.caption2, "two-object captions");
  app.add_option("--maps", suite.maps, "held-out training-style maps");
  app.add_option("--hand-maps", suite.hand_maps, "hand-drawn-like maps");
  app.add_option("--suite-seed", suite.seed, "dataset seed of the held-out conditions");
  app.add_option("--psnr-images", psnr_images, "held-out images for the VAE PSNR (0: skip)");
  int ceiling_images = 256;
  bool ceiling_only = false;
  app.add_option("--ceiling-images", ceiling_images,
                 "held-out scenes, maps and hand-drawn maps scored after a VAE round trip (the "
                 "autoencoder ceiling; 0: skip)");
  app.add_flag("--ceiling-only", ceiling_only,
               "only the autoencoder PSNR and ceiling (no generation)");
  app.add_option("--json", json_path, "write the results as JSON");
  app.add_option("--failures", eo.failures_dir,
                 "write the class/caption images that miss a stated fact, with failures.tsv, here");
  app.add_option("--grid", grid_path, "write a sample grid PNG");
  app.add_option("--grid-guidance", grid_guidance, "guidance scale shown in the grid");
  app.add_option("--grid-columns", grid_columns, "conditions per grid row");
  bool sweep_only = false;
  app.add_option("--classifier-scales", eo.classifier_scales,
                 "classifier guidance sweep scales (class conditions)")
      ->delimiter(',');
  app.add_option("--sweep-guidance", eo.sweep_guidance, "CFG scale of the classifier sweep");
  app.add_flag("--sweep-only", sweep_only,
               "only the classifier guidance sweep (no guidance table, no PSNR)");
  app.add_option("--device", device, "cpu or cuda");
  app.add_option("--threads", threads, "torch intra-op threads (0: default)");
  ldm::eval::SrEvalOptions sr;
  app.add_option("--sr-images", sr.images, "super-resolution models: held-out images");
  app.add_option("--sr-resolution", sr.resolution, "super-resolution ground-truth side");
  app.add_option("--sr-dataset-seed", sr.dataset_seed, "dataset seed of the held-out images");
  app.add_option("--sr-back-projection", sr.back_projection,
                 "back-projection iterations of the evaluator's rows (models that ship their own "
                 "use theirs)");
  CLI11_PARSE(app, argc, argv);
  if (threads > 0) torch::set_num_threads(threads);

  ldm::PipelineOptions po;
  po.device = torch::Device(device);
  auto pipeline = ldm::Pipeline::Load(model, po);
  if (!pipeline.ok()) {
    spdlog::error("{}", pipeline.status().ToString());
    return 1;
  }
  if ((*pipeline)->info().supports_low_res_image) {
    sr.steps = eo.steps;
    sr.sampler = eo.sampler;
    sr.seed = eo.seed;
    return RunSuperResolutionEval(pipeline->get(), sr, json_path, grid_path);
  }
  std::vector<ldm::eval::EvalCondition> conditions = ldm::eval::EvalSuite::Build(suite);
  spdlog::info("ldm-eval: {} conditions x {} images x {} guidance scales", conditions.size(),
               eo.images_per_condition, eo.guidance_scales.size());
  const bool sweep = app.count("--classifier-scales") > 0 || sweep_only;
  if (sweep_only) {
    eo.guidance_scales.clear();
    psnr_images = 0;
    ceiling_images = 0;
  }
  if (ceiling_only) {
    eo.guidance_scales.clear();
    conditions.clear();
  }
  ldm::eval::ShapesEvaluator evaluator(pipeline->get(), eo);
  auto progress = [](const std::string& msg) { spdlog::info("{}", msg); };
  auto result = evaluator.Run(conditions, /*keep_samples=*/2, progress);
  if (!result.ok()) {
    spdlog::error("{}", result.status().ToString());
    return 1;
  }
  if (sweep) {
    absl::Status s = evaluator.RunClassifierSweep(conditions, &*result, progress);
    if (!s.ok()) {
      spdlog::error("{}", s.ToString());
      return 1;
    }
  }
  if (psnr_images > 0) {
    auto psnr = evaluator.AutoencoderPsnr(psnr_images, suite.seed);
    if (!psnr.ok()) {
      spdlog::error("{}", psnr.status().ToString());
      return 1;
    }
    result->autoencoder_psnr = *psnr;
    result->autoencoder_images = psnr_images;
  }
  if (ceiling_images > 0) {
    absl::Status s = evaluator.AutoencoderCeiling(ceiling_images, suite.seed, &*result);
    if (!s.ok()) {
      spdlog::error("{}", s.ToString());
      return 1;
    }
  }
  std::cout << ldm::eval::EvalReport::Text(*result) << std::flush;
  if (!json_path.empty()) {
    std::ofstream(json_path) << ldm::eval::EvalReport::Json(*result).dump(2) << "\n";
  }
  if (!grid_path.empty() && !ceiling_only) {
    // One row per kind: its first grid_columns conditions; map kinds get an input row above.
    auto it = result->samples.find(grid_guidance);
    if (it == result->samples.end()) {
      spdlog::error("--grid-guidance {} was not evaluated", grid_guidance);
      return 1;
    }
    std::vector<std::vector<ldm::Image8>> rows;
    std::map<ldm::eval::EvalKind, std::vector<size_t>> by_kind;
    for (size_t i = 0; i < conditions.size(); ++i) {
      auto& v = by_kind[conditions[i].kind];
      if (static_cast<int>(v.size()) < grid_columns) v.push_back(i);
    }
    for (const auto& [kind, indices] : by_kind) {
      const bool map = kind == ldm::eval::EvalKind::kMap || kind == ldm::eval::EvalKind::kHandMap;
      if (map) {
        std::vector<ldm::Image8> inputs;
        for (size_t i : indices) {
          inputs.push_back(ldm::eval::ImageGrid::MapToImage(conditions[i].truth_map, 64, 64));
        }
        rows.push_back(std::move(inputs));
      }
      for (size_t s = 0; s < 2; ++s) {
        std::vector<ldm::Image8> row;
        for (size_t i : indices) {
          const auto& imgs = it->second.at(i);
          if (s < imgs.size()) row.push_back(imgs[s]);
        }
        rows.push_back(std::move(row));
      }
    }
    auto grid = ldm::eval::ImageGrid::Tile(rows);
    absl::StatusOr<std::string> png =
        grid.ok() ? ldm::EncodePng(*grid) : absl::StatusOr<std::string>(grid.status());
    if (!png.ok()) {
      spdlog::error("grid: {}", png.status().ToString());
      return 1;
    }
    std::ofstream(grid_path, std::ios::binary) << *png;
    spdlog::info("wrote {}", grid_path);
  }
  return 0;
}
