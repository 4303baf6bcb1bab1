#include "tools/eval/sr_evaluator.h"

#include <torch/torch.h>

#include <cmath>
#include <limits>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "core/common/status_macros.h"
#include "core/common/torch_guard.h"
#include "core/pipeline/image_tensors.h"
#include "core/pipeline/low_res_conditioning.h"
#include "tools/shapes/box_downsampler.h"
#include "tools/shapes/shapes_analyzer.h"
#include "tools/shapes/shapes_dataset.h"

namespace ldm::eval {
namespace {

// Squared error sums per method, for the pooled PSNR.
struct Accumulator {
  SrMethodRow row;
  double squared_error = 0;
  int64_t values = 0;
};

Image8 FromRgb(std::vector<uint8_t> rgb, int size) { return Image8{size, size, 3, std::move(rgb)}; }

// Every fact of the scene, for CheckCaption.
shapes::ParsedCaption Truth(const shapes::ShapesSample& s) {
  shapes::ParsedCaption c;
  for (const auto& o : s.objects)
    c.objects.push_back({o.shape, o.color, std::nullopt, std::nullopt});
  return c;
}

// Adds one output's squared error (unless it is the truth itself) and analyzer scores.
void Score(const shapes::ShapesAnalyzer& analyzer, const shapes::ShapesSample& truth,
           const Image8& image, bool is_truth, Accumulator* acc) {
  if (!is_truth && image.pixels.size() == truth.rgb.size()) {
    for (size_t i = 0; i < image.pixels.size(); ++i) {
      const double d = static_cast<double>(image.pixels[i]) - truth.rgb[i];
      acc->squared_error += d * d;
    }
    acc->values += static_cast<int64_t>(image.pixels.size());
  }
  absl::StatusOr<shapes::ImageAnalysis> a =
      analyzer.Analyze(image.pixels, image.width, image.height);
  ++acc->row.images;
  acc->row.objects += static_cast<int64_t>(truth.objects.size());
  if (!a.ok()) return;
  const shapes::CaptionCheck check = shapes::ShapesAnalyzer::CheckCaption(Truth(truth), *a);
  acc->row.color_ok += check.color_correct;
  acc->row.shape_ok += check.shape_correct;
  if (check.count_correct && check.color_correct == check.objects &&
      check.shape_correct == check.objects) {
    ++acc->row.objects_ok;
  }
}

torch::Tensor ToChw01(const Image8& img) {
  return torch::from_blob(const_cast<uint8_t*>(img.pixels.data()), {1, img.height, img.width, 3},
                          torch::kUInt8)
      .permute({0, 3, 1, 2})
      .to(torch::kFloat32)
      .div(255.0);
}

// The output made consistent with its input (LowResConditioning::BackProject).
Image8 BackProjected(const Image8& image, const Image8& low, int factor, int iterations) {
  return ImageTensors::FromChw01(
      LowResConditioning::BackProject(ToChw01(image), ToChw01(low), factor, iterations)[0]);
}

}  // namespace

SrEvaluator::SrEvaluator(Pipeline* pipeline, SrEvalOptions options)
    : pipeline_(pipeline), options_(std::move(options)) {}

Image8 SrEvaluator::Resize(const Image8& image, int factor, const std::string& mode) {
  torch::NoGradGuard no_grad;
  torch::Tensor x = torch::from_blob(const_cast<uint8_t*>(image.pixels.data()),
                                     {1, image.height, image.width, 3}, torch::kUInt8)
                        .permute({0, 3, 1, 2})
                        .to(torch::kFloat32);
  namespace F = torch::nn::functional;
  auto opts = F::InterpolateFuncOptions().size(
      std::vector<int64_t>{image.height * factor, image.width * factor});
  if (mode == "bicubic") {
    opts = opts.mode(torch::kBicubic).align_corners(false);
  } else {
    opts = opts.mode(torch::kNearest);
  }
  torch::Tensor y = F::interpolate(x, opts).round().clamp(0, 255).to(torch::kUInt8);
  y = y[0].permute({1, 2, 0}).contiguous();
  Image8 out{image.width * factor, image.height * factor, 3, {}};
  out.pixels.assign(y.data_ptr<uint8_t>(), y.data_ptr<uint8_t>() + y.numel());
  return out;
}

absl::StatusOr<SrEvalResult> SrEvaluator::Run(
    const std::function<void(const std::string&)>& progress) {
  const ModelInfo& info = pipeline_->info();
  if (!info.supports_low_res_image) {
    return absl::InvalidArgumentError(
        absl::StrCat("model ", info.name, " is not a super-resolution model"));
  }
  const int r = options_.resolution, u = info.upscale_factor, lr = r / u;
  if (r % info.size_multiple != 0 || r % u != 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("--sr-resolution ", r, " does not fit model ", info.name));
  }
  const shapes::ShapesDataset dataset({.seed = options_.dataset_seed, .resolution = r});
  const shapes::ShapesAnalyzer analyzer;
  const int shipped_bp = pipeline_->extras().low_res_image.has_value()
                             ? pipeline_->extras().low_res_image->back_projection
                             : 0;
  const int bp = shipped_bp > 0 ? shipped_bp : options_.back_projection;
  std::vector<Accumulator> acc(7);
  acc[0].row.name = "ground truth (render)";
  acc[1].row.name = "nearest";
  acc[2].row.name = "bicubic";
  acc[3].row.name = "VAE round trip (ceiling)";
  acc[4].row.name = absl::StrCat("VAE round trip + back-projection (", bp, ")");
  acc[5].row.name = absl::StrCat(info.name, ", raw decode");
  acc[6].row.name =
      shipped_bp > 0 ? absl::StrCat(info.name, " (+ back-projection ", shipped_bp, ", as shipped)")
                     : absl::StrCat(info.name, " + back-projection (", bp, ")");
  SrEvalResult result;
  result.model = info.name;
  result.images = options_.images;
  result.low_res = lr;
  result.resolution = r;
  result.steps = options_.steps;

  for (int start = 0; start < options_.images; start += options_.batch) {
    const int n = std::min(options_.batch, options_.images - start);
    std::vector<shapes::ShapesSample> truth;
    std::vector<Image8> low;
    std::vector<std::unique_ptr<Job>> jobs;
    std::vector<Job*> ptrs;
    for (int i = 0; i < n; ++i) {
      truth.push_back(dataset.Sample(static_cast<uint64_t>(start + i)));
      low.push_back(FromRgb(shapes::BoxDownsampler::Downsample(truth.back().rgb, r, r, u), lr));
      JobSpec spec;
      spec.request_id = absl::StrCat("sr-eval-", start + i);
      spec.low_res_image = low.back();
      spec.steps = options_.steps;
      spec.sampler = options_.sampler;
      spec.guidance_scale = 1.0;
      spec.seed = options_.seed + static_cast<uint64_t>(start + i);
      LDM_ASSIGN_OR_RETURN(std::unique_ptr<Job> job, pipeline_->CreateJob(spec));
      ptrs.push_back(job.get());
      jobs.push_back(std::move(job));
    }
    while (!ptrs.front()->done()) {
      for (const absl::Status& s : pipeline_->Step(absl::MakeSpan(ptrs))) LDM_RETURN_IF_ERROR(s);
    }
    std::vector<absl::StatusOr<Image8>> upscaled = pipeline_->Decode(absl::MakeSpan(ptrs));
    // The model's latents decoded without back-projection.
    std::vector<torch::Tensor> latents;
    for (Job* j : ptrs) latents.push_back(static_cast<DenoiseJob*>(j)->latents);
    LDM_ASSIGN_OR_RETURN(torch::Tensor raw, pipeline_->DecodeToTensor(torch::cat(latents, 0)));
    // VAE round trip of the ground truth (posterior mean).
    LDM_ASSIGN_OR_RETURN(
        torch::Tensor round_trip, TorchGuard("vae round trip", [&]() {
          c10::InferenceMode inference;
          std::vector<torch::Tensor> xs;
          for (const auto& t : truth) {
            xs.push_back(
                torch::from_blob(const_cast<uint8_t*>(t.rgb.data()), {r, r, 3}, torch::kUInt8)
                    .permute({2, 0, 1})
                    .to(torch::kFloat32)
                    .div(127.5)
                    .sub(1.0));
          }
          torch::Tensor x = torch::stack(xs).to(pipeline_->options().device);
          DiagonalGaussian post =
              pipeline_->vae()->Encode(x.to(pipeline_->vae()->parameters()[0].scalar_type()));
          return post.mean.to(torch::kFloat32) * pipeline_->vae()->config().scaling_factor;
        }));
    LDM_ASSIGN_OR_RETURN(torch::Tensor decoded, pipeline_->DecodeToTensor(round_trip));
    for (int i = 0; i < n; ++i) {
      LDM_RETURN_IF_ERROR(upscaled[static_cast<size_t>(i)].status());
      const Image8 gt = FromRgb(truth[static_cast<size_t>(i)].rgb, r);
      const Image8 nearest = Resize(low[static_cast<size_t>(i)], u, "nearest");
      const Image8 bicubic = Resize(low[static_cast<size_t>(i)], u, "bicubic");
      const Image8 vae = ImageTensors::FromChw01(decoded[i]);
      const Image8& sr = *upscaled[static_cast<size_t>(i)];
      const auto& t = truth[static_cast<size_t>(i)];
      Score(analyzer, t, gt, true, &acc[0]);
      Score(analyzer, t, nearest, false, &acc[1]);
      Score(analyzer, t, bicubic, false, &acc[2]);
      const Image8& lo = low[static_cast<size_t>(i)];
      const Image8 sr_raw = ImageTensors::FromChw01(raw[i]);
      const Image8 sr_final = shipped_bp > 0 ? sr : BackProjected(sr_raw, lo, u, bp);
      Score(analyzer, t, vae, false, &acc[3]);
      Score(analyzer, t, BackProjected(vae, lo, u, bp), false, &acc[4]);
      Score(analyzer, t, sr_raw, false, &acc[5]);
      Score(analyzer, t, sr_final, false, &acc[6]);
      if (static_cast<int>(result.samples.size()) < options_.samples) {
        result.samples.push_back({nearest, bicubic, sr_final, gt});
      }
    }
    if (progress) progress(absl::StrCat("sr eval: ", start + n, "/", options_.images, " images"));
  }
  for (Accumulator& a : acc) {
    a.row.psnr =
        a.values > 0
            ? 10.0 * std::log10(255.0 * 255.0 / std::max(a.squared_error / a.values, 1e-12))
            : 0.0;
    result.rows.push_back(a.row);
  }
  return result;
}

std::string SrEvaluator::Text(const SrEvalResult& r) {
  std::string out = absl::StrFormat(
      "Super-resolution %dx%d -> %dx%d, %d held-out images, %d steps (model %s)\n"
      "| method | PSNR (dB) | color | shape | all objects right |\n|---|---|---|---|---|\n",
      r.low_res, r.low_res, r.resolution, r.resolution, r.images, r.steps, r.model);
  for (const SrMethodRow& row : r.rows) {
    absl::StrAppend(&out, absl::StrFormat("| %s | %s | %.1f%% | %.1f%% | %.1f%% |\n", row.name,
                                          row.psnr > 0 ? absl::StrFormat("%.2f", row.psnr) : "-",
                                          100 * row.color(), 100 * row.shape(), 100 * row.all()));
  }
  return out;
}

nlohmann::json SrEvaluator::Json(const SrEvalResult& r) {
  nlohmann::json rows = nlohmann::json::array();
  for (const SrMethodRow& row : r.rows) {
    rows.push_back({{"method", row.name},
                    {"psnr_db", row.psnr},
                    {"color", row.color()},
                    {"shape", row.shape()},
                    {"all_objects_right", row.all()},
                    {"images", row.images},
                    {"objects", row.objects}});
  }
  return {{"model", r.model},           {"images", r.images}, {"low_res", r.low_res},
          {"resolution", r.resolution}, {"steps", r.steps},   {"rows", rows}};
}

}  // namespace ldm::eval
