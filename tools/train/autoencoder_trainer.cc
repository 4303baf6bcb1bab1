#include "tools/train/autoencoder_trainer.h"

#include <spdlog/spdlog.h>
#include <torch/torch.h>

#include <cmath>
#include <fstream>
#include <optional>

#include "absl/strings/str_cat.h"
#include "core/common/status_macros.h"
#include "core/common/torch_guard.h"
#include "core/io/safetensors_file.h"
#include "core/io/safetensors_writer.h"
#include "core/io/state_dict_loader.h"
#include "tools/train/diffusers_config_writer.h"
#include "tools/train/optimizer_step.h"
#include "tools/train/train_loop.h"
#include "tools/train/train_rng.h"

namespace ldm::train {
namespace fs = std::filesystem;

AutoencoderTrainer::AutoencoderTrainer(AutoencoderTrainerOptions options, fs::path dir)
    : options_(std::move(options)), dir_(std::move(dir)), builder_(options_.data) {
  // Parameter init draws from torch's global generator: seed it so runs are reproducible.
  torch::manual_seed(TrainRng::Hash(options_.seed, RngStream::kInit, 1));
  model_ = AutoencoderKL(options_.config);
  if (!options_.init_from.empty()) {
    absl::Status loaded = [&]() -> absl::Status {
      LDM_ASSIGN_OR_RETURN(auto file, SafeTensorsFile::Open(options_.init_from /
                                                            "diffusion_pytorch_model.safetensors"));
      return LoadStateDict(*model_, *file);
    }();
    TORCH_CHECK(loaded.ok(), "autoencoder init_from ", options_.init_from.string(), ": ",
                loaded.ToString());
  }
  model_->to(options_.device);
  model_->train();
  std::vector<torch::Tensor> trainable;
  for (const auto& item : model_->named_parameters()) {
    const bool decoder_side =
        item.key().starts_with("decoder.") || item.key().starts_with("post_quant_conv.");
    if (options_.decoder_only && !decoder_side) {
      item.value().set_requires_grad(false);
    } else {
      trainable.push_back(item.value());
    }
  }
  optimizer_ = std::make_unique<torch::optim::AdamW>(
      trainable,
      torch::optim::AdamWOptions(options_.lr.peak_lr).betas({0.9, 0.99}).weight_decay(0.0));
}

torch::Tensor AutoencoderTrainer::PixelWeights(const torch::Tensor& labels, double object_weight,
                                               double edge_weight) {
  const torch::Tensor l = labels.to(torch::kFloat32).unsqueeze(1);
  // A pixel is on an edge when its 3x3 neighbourhood holds more than one label (max != min).
  const torch::Tensor hi = torch::max_pool2d(l, 3, 1, 1);
  const torch::Tensor lo = -torch::max_pool2d(-l, 3, 1, 1);
  return 1.0 + object_weight * l.ne(0).to(torch::kFloat32) +
         edge_weight * hi.ne(lo).to(torch::kFloat32);
}

double AutoencoderTrainer::TrainStep() {
  const int64_t b = options_.batch_size;
  std::vector<uint64_t> keys(b);
  for (int64_t i = 0; i < b; ++i) {
    keys[i] = TrainRng::Hash(options_.seed, RngStream::kAutoencoderData, step_, i);
  }
  ImageBatch batch = builder_.Build(keys);
  torch::Tensor x = batch.images.to(options_.device);
  torch::Generator gen = TrainRng::Generator(options_.seed, RngStream::kAutoencoderNoise, step_);

  OptimizerStep::Begin(*optimizer_, LrSchedule(options_.lr).At(step_));
  DiagonalGaussian post;
  {
    // The frozen encoder needs no graph.
    std::optional<torch::NoGradGuard> no_grad;
    if (options_.decoder_only) no_grad.emplace();
    post = model_->Encode(x);
  }
  torch::Tensor noise = torch::randn(post.mean.sizes(), gen, torch::kFloat32).to(options_.device);
  torch::Tensor recon =
      model_->DecodeWithMargin(post.Sample(noise), options_.decode_latent_padding);
  torch::Tensor diff = recon - x;
  torch::Tensor rec;
  if (options_.object_weight == 0.0 && options_.edge_weight == 0.0) {
    rec = diff.abs().mean() + options_.l2_weight * diff.square().mean();
  } else {
    const torch::Tensor w = PixelWeights(batch.labels.to(options_.device), options_.object_weight,
                                         options_.edge_weight);
    const torch::Tensor norm = w.mean();
    rec = ((w * diff.abs()).mean() + options_.l2_weight * (w * diff.square()).mean()) / norm;
  }
  torch::Tensor loss = rec;
  if (!options_.decoder_only) {
    // KL of N(mu, sigma^2) from N(0, 1), summed over latent elements, per image pixel.
    torch::Tensor kl = 0.5 * (post.mean.square() + post.std.square() - 1.0 - post.logvar).sum() /
                       static_cast<double>(x.numel());
    loss = rec + options_.kl_weight * kl;
  }
  OptimizerStep::Finish(*optimizer_, loss, model_->parameters(), options_.grad_clip);
  ++step_;
  return loss.item<double>();
}

absl::StatusOr<bool> AutoencoderTrainer::Train(bool resume, int64_t max_steps_this_call) {
  TrainLoop loop(TrainLoopOptions::From(options_.log_name, options_), dir_ / "checkpoints");
  absl::StatusOr<bool> finished = loop.Run(*model_, *optimizer_, nullptr, &step_, resume,
                                           max_steps_this_call, [this] { return TrainStep(); });
  last_loss_ = loop.last_loss();
  return finished;
}

absl::Status AutoencoderTrainer::Finish() {
  return TorchGuard("autoencoder finish", [&]() -> absl::Status {
    torch::NoGradGuard no_grad;
    model_->eval();
    // Held-out images: a dataset stream the training keys never touch.
    double sum = 0, sum_sq = 0, count = 0, mse_sum = 0, images = 0;
    const int64_t chunk = 64;
    for (int64_t start = 0; start < options_.scale_images; start += chunk) {
      const int64_t n = std::min(chunk, options_.scale_images - start);
      std::vector<uint64_t> keys(n);
      for (int64_t i = 0; i < n; ++i) {
        keys[i] = TrainRng::Hash(options_.seed, RngStream::kHoldout, 0, start + i);
      }
      torch::Tensor x = builder_.Build(keys).images.to(options_.device);
      DiagonalGaussian post = model_->Encode(x);
      torch::Generator gen = TrainRng::Generator(options_.seed, RngStream::kHoldout, start + 1);
      torch::Tensor z =
          post.Sample(torch::randn(post.mean.sizes(), gen, torch::kFloat32).to(options_.device));
      sum += z.sum().item<double>();
      sum_sq += z.square().sum().item<double>();
      count += static_cast<double>(z.numel());
      // PSNR of the posterior mode, in 8-bit units (images quantised like the pipeline's output).
      torch::Tensor recon = model_->DecodeWithMargin(post.mean, options_.decode_latent_padding);
      auto to8 = [](const torch::Tensor& t) { return t.add(1.0).mul(127.5).round().clamp(0, 255); };
      mse_sum += (to8(recon) - to8(x)).square().mean({1, 2, 3}).sum().item<double>();
      images += static_cast<double>(n);
    }
    const double mean = sum / count;
    const double std = std::sqrt(std::max(sum_sq / count - mean * mean, 1e-12));
    const double mse = mse_sum / images;
    const double psnr = 10.0 * std::log10(255.0 * 255.0 / std::max(mse, 1e-12));
    AutoencoderKLConfig cfg = options_.config;
    // A fine-tuned decoder shares the frozen encoder's latents: keep the factor the diffusion
    // model was trained with (recomputing it would only add float noise).
    if (!options_.decoder_only) cfg.scaling_factor = 1.0 / std;
    spdlog::info(
        "autoencoder: latent mean {:.4f} std {:.4f} -> scaling_factor {:.5f}; held-out "
        "PSNR {:.2f} dB (decode latent margin {})",
        mean, std, cfg.scaling_factor, psnr, options_.decode_latent_padding);
    const fs::path out = dir_ / "vae";
    fs::create_directories(out);
    LDM_RETURN_IF_ERROR(
        WriteSafeTensors(out / "diffusion_pytorch_model.safetensors", StateDictOf(*model_)));
    std::ofstream(out / "config.json") << DiffusersConfigWriter::Vae(cfg).dump(2) << "\n";
    nlohmann::json metrics = {{"latent_mean", mean},
                              {"latent_std", std},
                              {"scaling_factor", cfg.scaling_factor},
                              {"holdout_psnr_db", psnr},
                              {"holdout_images", images},
                              {"steps", step_},
                              {"decode_latent_padding", options_.decode_latent_padding}};
    std::ofstream(out / "metrics.json") << metrics.dump(2) << "\n";
    model_->train();
    return absl::OkStatus();
  });
}

}  // namespace ldm::train
