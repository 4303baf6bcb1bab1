#include "tools/train/sr_trainer.h"

#include <torch/torch.h>

#include <fstream>

#include "core/common/status_macros.h"
#include "core/common/torch_guard.h"
#include "core/io/safetensors_writer.h"
#include "core/io/state_dict_loader.h"
#include "core/pipeline/low_res_conditioning.h"
#include "tools/train/diffusion_trainer.h"
#include "tools/train/optimizer_step.h"
#include "tools/train/train_loop.h"
#include "tools/train/train_rng.h"

namespace ldm::train {
namespace fs = std::filesystem;

SrTrainer::SrTrainer(SrTrainerOptions options, const SrLatentCache* cache, fs::path dir)
    : options_(std::move(options)), cache_(cache), dir_(std::move(dir)) {
  alphas_cumprod_ = DiffusionTrainer::AlphasCumprod(options_.scheduler);
  prediction_type_ = DiffusionTrainer::PredictionTypeOf(options_.scheduler);
  torch::manual_seed(TrainRng::Hash(options_.seed, RngStream::kInit, 3));
  unet_ = UNet2DConditionModel(options_.unet);
  unet_->to(options_.device);
  unet_->train();
  optimizer_ = std::make_unique<torch::optim::AdamW>(unet_->parameters(),
                                                     torch::optim::AdamWOptions(options_.lr.peak_lr)
                                                         .betas({0.9, 0.999})
                                                         .weight_decay(options_.weight_decay));
  ema_ = std::make_unique<EmaWeights>(*unet_, options_.ema_decay);
}

torch::Tensor SrTrainer::NullContext(int64_t batch) const {
  return torch::zeros({batch, 1, options_.unet.cross_attention_dim.front()});
}

SrBatch SrTrainer::MakeBatch(int64_t step) const {
  const int64_t b = options_.batch_size, n = cache_->size();
  std::vector<int64_t> index(b);
  for (int64_t i = 0; i < b; ++i) {
    index[i] = static_cast<int64_t>(TrainRng::Hash(options_.seed, RngStream::kSrIndex, step, i) %
                                    static_cast<uint64_t>(n));
  }
  torch::Tensor idx = torch::tensor(index, torch::kInt64);
  torch::Generator gen = TrainRng::Generator(options_.seed, RngStream::kSrNoise, step);
  torch::Tensor mean = cache_->mean.index_select(0, idx), std = cache_->std.index_select(0, idx);
  torch::Tensor z0 =
      (mean + std * torch::randn(mean.sizes(), gen, torch::kFloat32)) * options_.scaling_factor;
  torch::Tensor t = torch::randint(0, alphas_cumprod_.size(0), {b}, gen, torch::kInt64);
  torch::Tensor eps = torch::randn(z0.sizes(), gen, torch::kFloat32);
  torch::Tensor ab = alphas_cumprod_.index_select(0, t).to(torch::kFloat32).view({b, 1, 1, 1});
  torch::Tensor zt = ab.sqrt() * z0 + (1.0 - ab).sqrt() * eps;
  torch::Tensor low = cache_->low_res.index_select(0, idx).to(torch::kFloat32).div(127.5).sub(1.0);
  const int r =
      LowResConditioning::UnshuffleFactor(options_.vae_scale_factor, options_.upscale_factor);
  SrBatch out;
  out.sample = torch::cat({zt, LowResConditioning::ToLatentChannels(low, r)}, 1);
  out.timesteps = t;
  out.target = DiffusionTrainer::Target(prediction_type_, z0, eps, ab);
  return out;
}

double SrTrainer::TrainStep() {
  SrBatch batch = MakeBatch(step_);
  const torch::Device d = options_.device;
  OptimizerStep::Begin(*optimizer_, LrSchedule(options_.lr).At(step_));
  torch::Tensor pred = unet_->forward(batch.sample.to(d), batch.timesteps.to(d),
                                      NullContext(batch.sample.size(0)).to(d));
  torch::Tensor loss = torch::mse_loss(pred, batch.target.to(d));
  OptimizerStep::Finish(*optimizer_, loss, unet_->parameters(), options_.grad_clip);
  ++step_;
  ema_->Update(*unet_, step_);
  return loss.item<double>();
}

absl::StatusOr<bool> SrTrainer::Train(bool resume, int64_t max_steps_this_call) {
  TrainLoop loop(TrainLoopOptions::From("sr", options_), dir_ / "checkpoints");
  absl::StatusOr<bool> finished = loop.Run(*unet_, *optimizer_, ema_.get(), &step_, resume,
                                           max_steps_this_call, [this] { return TrainStep(); });
  last_loss_ = loop.last_loss();
  return finished;
}

absl::Status SrTrainer::WriteFinal() {
  return TorchGuard("sr final weights", [&]() -> absl::Status {
    UNet2DConditionModel ema_unet(options_.unet);
    ema_->CopyTo(*ema_unet);
    const fs::path out = dir_ / "final";
    fs::create_directories(out);
    LDM_RETURN_IF_ERROR(WriteSafeTensors(out / "unet.safetensors", StateDictOf(*ema_unet)));
    std::ofstream(out / "state.json") << nlohmann::json{{"steps", step_}}.dump(2) << "\n";
    return absl::OkStatus();
  });
}

}  // namespace ldm::train
