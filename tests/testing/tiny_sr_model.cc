#include "tests/testing/tiny_sr_model.h"

#include <torch/torch.h>

#include <fstream>

#include "core/common/status_macros.h"
#include "core/common/torch_guard.h"
#include "core/io/model_config.h"
#include "core/io/safetensors_writer.h"
#include "core/io/state_dict_loader.h"
#include "core/nn/autoencoder_kl.h"
#include "core/nn/unet_2d_condition_model.h"
#include "nlohmann/json.hpp"

namespace ldm::testing {
namespace fs = std::filesystem;
namespace {

nlohmann::json VaeConfig() {
  return {{"_class_name", "AutoencoderKL"},
          {"act_fn", "silu"},
          {"block_out_channels", {8, 8, 8, 8}},
          {"down_block_types", std::vector<std::string>(4, "DownEncoderBlock2D")},
          {"up_block_types", std::vector<std::string>(4, "UpDecoderBlock2D")},
          {"force_upcast", true},
          {"in_channels", 3},
          {"out_channels", 3},
          {"latent_channels", 4},
          {"layers_per_block", 1},
          {"norm_num_groups", 4},
          {"sample_size", 64},
          {"scaling_factor", 1.0}};
}

nlohmann::json UnetConfig(int in_channels) {
  return {{"_class_name", "UNet2DConditionModel"},
          {"act_fn", "silu"},
          {"attention_head_dim", 2},
          {"block_out_channels", {16, 32}},
          {"cross_attention_dim", 8},
          {"down_block_types", {"DownBlock2D", "DownBlock2D"}},
          {"up_block_types", {"UpBlock2D", "UpBlock2D"}},
          {"in_channels", in_channels},
          {"out_channels", 4},
          {"layers_per_block", 1},
          {"norm_num_groups", 8},
          {"sample_size", 8}};
}

nlohmann::json SchedulerConfig() {
  return {{"_class_name", "DDIMScheduler"},
          {"beta_end", 0.012},
          {"beta_schedule", "scaled_linear"},
          {"beta_start", 0.00085},
          {"clip_sample", false},
          {"num_train_timesteps", 1000},
          {"prediction_type", "epsilon"},
          {"set_alpha_to_one", false},
          {"steps_offset", 1},
          {"timestep_spacing", "leading"}};
}

absl::Status WriteJson(const fs::path& path, const nlohmann::json& j) {
  fs::create_directories(path.parent_path());
  std::ofstream out(path);
  out << j.dump(2) << "\n";
  if (!out) return absl::InternalError("cannot write " + path.string());
  return absl::OkStatus();
}

// A VAE + UNet folder with random weights (torch seed 7) and the given ldm_model.json.
absl::Status WriteFolder(const fs::path& dir, int unet_in_channels, const nlohmann::json& extras) {
  LDM_RETURN_IF_ERROR(
      WriteJson(dir / "model_index.json", {{"_class_name", "StableDiffusionPipeline"},
                                           {"scheduler", {"diffusers", "DDIMScheduler"}},
                                           {"unet", {"diffusers", "UNet2DConditionModel"}},
                                           {"vae", {"diffusers", "AutoencoderKL"}}}));
  LDM_RETURN_IF_ERROR(WriteJson(dir / "scheduler" / "scheduler_config.json", SchedulerConfig()));
  LDM_RETURN_IF_ERROR(WriteJson(dir / "vae" / "config.json", VaeConfig()));
  LDM_RETURN_IF_ERROR(WriteJson(dir / "unet" / "config.json", UnetConfig(unet_in_channels)));
  LDM_RETURN_IF_ERROR(WriteJson(dir / "ldm_model.json", extras));
  return TorchGuard("tiny model", [&]() -> absl::Status {
    torch::manual_seed(7);
    LDM_ASSIGN_OR_RETURN(AutoencoderKLConfig vcfg,
                         AutoencoderKLConfig::FromModelConfig(ModelConfig(VaeConfig(), "vae")));
    AutoencoderKL vae(vcfg);
    LDM_RETURN_IF_ERROR(
        WriteSafeTensors(dir / "vae" / "diffusion_pytorch_model.safetensors", StateDictOf(*vae)));
    LDM_ASSIGN_OR_RETURN(
        UNet2DConditionConfig ucfg,
        UNet2DConditionConfig::FromModelConfig(ModelConfig(UnetConfig(unet_in_channels), "unet")));
    UNet2DConditionModel unet(ucfg);
    return WriteSafeTensors(dir / "unet" / "diffusion_pytorch_model.safetensors",
                            StateDictOf(*unet));
  });
}

}  // namespace

absl::Status WriteTinySrModel(const fs::path& dir, int back_projection, const std::string& init) {
  return WriteFolder(dir, /*unet_in_channels=*/4 + 12,
                     {{"low_res_image",
                       {{"upscale_factor", 4},
                        {"to_latent", "pixel_unshuffle"},
                        {"back_projection", back_projection},
                        {"init", init}}},
                      {"default_sampler", "ddim"},
                      {"default_steps", 4},
                      {"default_guidance_scale", 1.0},
                      {"max_size", 256}});
}

absl::Status WriteTinyMapModel(const fs::path& dir, int subcells, int unet_subcells) {
  const int r = unet_subcells > 0 ? unet_subcells : subcells;
  return WriteFolder(dir, /*unet_in_channels=*/4 + 3 * r * r,
                     {{"semantic_labels", {"background", "red", "blue"}},
                      {"semantic_map_subcells", subcells},
                      {"cfg_unconditional", {{"semantic_map", "zero"}}},
                      {"default_sampler", "ddim"},
                      {"default_steps", 3},
                      {"default_guidance_scale", 2.0},
                      {"max_size", 128}});
}

}  // namespace ldm::testing
