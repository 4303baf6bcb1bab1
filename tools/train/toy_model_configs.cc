#include "tools/train/toy_model_configs.h"

namespace ldm::train {
namespace {

nlohmann::json DdimSchedulerConfig(NoiseScheduleRecipe recipe) {
  // Stable Diffusion's DDIM scheduler settings: scaled_linear betas 0.00085..0.012 over 1000
  // steps.
  //
  // kStableDiffusion keeps SD 1.x's epsilon prediction and its terminal alpha_bar ~0.0047. At 8x8x4
  // latents that is NOT pure noise: a large object still shows in z_T (signal 0.068 per value,
  // summed over its ~64 latent values), so a model trained on it reads the layout from the noise
  // and ignores the prompt's position and shape words; sampling from pure noise then gives a
  // layout chosen by the seed (measured on the session-4 model: the same seed drew the same scene
  // for "at the top left" and "at the bottom right"). With epsilon prediction the loss also weighs
  // x0 errors by ab/(1-ab), ~0.005 at t = T, so the model barely learns the high-noise steps where
  // the layout is decided.
  //
  // kZeroSnrV is Lin et al. 2024 ("Common Diffusion Noise Schedules and Sample Steps are Flawed"):
  // betas rescaled to zero terminal SNR (rescale_betas_zero_snr, their Algorithm 1), v-prediction
  // (Salimans & Ho 2022; needed because epsilon is undefined at SNR 0; its loss weighs x0 errors
  // by 1/(1-ab), ~1 at high noise) and "trailing" timesteps so sampling starts at t = T.
  const bool zero_snr = recipe == NoiseScheduleRecipe::kZeroSnrV;
  return {{"_class_name", "DDIMScheduler"},
          {"_diffusers_version", "0.27.2"},
          {"beta_end", 0.012},
          {"beta_schedule", "scaled_linear"},
          {"beta_start", 0.00085},
          {"clip_sample", false},
          {"clip_sample_range", 1.0},
          {"dynamic_thresholding_ratio", 0.995},
          {"num_train_timesteps", 1000},
          {"prediction_type", zero_snr ? "v_prediction" : "epsilon"},
          {"rescale_betas_zero_snr", zero_snr},
          {"sample_max_value", 1.0},
          {"set_alpha_to_one", false},
          {"skip_prk_steps", true},
          {"steps_offset", zero_snr ? 0 : 1},
          {"thresholding", false},
          {"timestep_spacing", zero_snr ? "trailing" : "leading"},
          {"trained_betas", nullptr}};
}

AutoencoderKLConfig Vae(std::vector<int64_t> channels, int64_t groups) {
  AutoencoderKLConfig c;
  c.block_out_channels = std::move(channels);
  c.down_block_types.assign(c.block_out_channels.size(), "DownEncoderBlock2D");
  c.up_block_types.assign(c.block_out_channels.size(), "UpDecoderBlock2D");
  c.layers_per_block = 1;
  c.latent_channels = 4;
  c.norm_num_groups = groups;
  c.sample_size = 64;
  c.scaling_factor = 1.0;  // replaced by 1/std of the latents after training
  c.force_upcast = true;
  return c;
}

UNet2DConditionConfig Unet(std::vector<int64_t> channels, int64_t layers, int64_t heads,
                           int64_t cross_dim, int64_t groups) {
  UNet2DConditionConfig c;
  const size_t n = channels.size();
  c.in_channels = 4 + kNumMapChannels;
  c.out_channels = 4;
  c.sample_size = 8;
  c.block_out_channels = std::move(channels);
  c.down_block_types.assign(n, "CrossAttnDownBlock2D");
  c.up_block_types.assign(n, "CrossAttnUpBlock2D");
  c.layers_per_block.assign(n, layers);
  c.num_attention_heads.assign(n, heads);
  c.transformer_layers_per_block.assign(n, 1);
  c.cross_attention_dim.assign(n, cross_dim);
  c.num_class_embeds = kNullClassLabel + 1;
  c.norm_num_groups = groups;
  return c;
}

// The super-resolution UNet: plain ResNet levels (the task is local), a cross-attention mid block
// only because core's UNet always has one (it sees the null context).
UNet2DConditionConfig SrUnet(std::vector<int64_t> channels, int64_t layers, int64_t heads,
                             int64_t cross_dim, int64_t groups) {
  UNet2DConditionConfig c;
  const size_t n = channels.size();
  c.in_channels = 4 + 3 * (8 / kSrUpscaleFactor) * (8 / kSrUpscaleFactor);
  c.out_channels = 4;
  c.sample_size = 16;
  c.block_out_channels = std::move(channels);
  c.down_block_types.assign(n, "DownBlock2D");
  c.up_block_types.assign(n, "UpBlock2D");
  c.layers_per_block.assign(n, layers);
  c.num_attention_heads.assign(n, heads);
  c.transformer_layers_per_block.assign(n, 1);
  c.cross_attention_dim.assign(n, cross_dim);
  c.num_class_embeds = 0;
  c.norm_num_groups = groups;
  return c;
}

NoisyLatentClassifierConfig Classifier(std::vector<int64_t> channels, int64_t groups) {
  NoisyLatentClassifierConfig c;
  c.in_channels = 4;
  c.num_classes = kNullClassLabel;  // the 18 shape x color classes (no null class)
  c.sample_size = 8;
  c.block_out_channels = std::move(channels);
  c.layers_per_block = 1;
  c.norm_num_groups = groups;
  return c;
}

ClipTextConfig Text(int64_t hidden, int64_t layers, int64_t heads) {
  ClipTextConfig c;
  c.hidden_size = hidden;
  c.intermediate_size = 4 * hidden;
  c.num_hidden_layers = layers;
  c.num_attention_heads = heads;
  c.max_position_embeddings = 32;
  c.hidden_act = ClipActivation::kQuickGelu;
  return c;
}

}  // namespace

nlohmann::json ToyModelConfigs::SchedulerConfig(NoiseScheduleRecipe recipe) {
  return DdimSchedulerConfig(recipe);
}

ToyModelConfigs ToyModelConfigs::Default() {
  ToyModelConfigs m;
  m.vae = Vae({16, 32, 64, 128}, 16);
  m.text = Text(128, 3, 4);
  m.unet = Unet({64, 128}, 2, 4, 128, 32);
  m.scheduler = DdimSchedulerConfig(NoiseScheduleRecipe::kZeroSnrV);
  m.classifier = Classifier({64, 128}, 32);
  m.sr_unet = SrUnet({64, 128}, 2, 4, 32, 32);
  m.sr_scheduler = DdimSchedulerConfig(NoiseScheduleRecipe::kStableDiffusion);
  return m;
}

ToyModelConfigs ToyModelConfigs::Tiny() {
  ToyModelConfigs m;
  m.vae = Vae({8, 8, 8, 8}, 4);
  m.text = Text(16, 1, 2);
  m.unet = Unet({16, 32}, 1, 2, 16, 8);
  m.scheduler = DdimSchedulerConfig(NoiseScheduleRecipe::kZeroSnrV);
  m.classifier = Classifier({8, 16}, 4);
  m.sr_unet = SrUnet({16, 32}, 1, 2, 8, 8);
  m.sr_scheduler = DdimSchedulerConfig(NoiseScheduleRecipe::kStableDiffusion);
  return m;
}

void ToyModelConfigs::SetMapSubcells(int r) {
  map_subcells = r;
  unet.in_channels = vae.latent_channels + kNumMapChannels * r * r;
}

}  // namespace ldm::train
