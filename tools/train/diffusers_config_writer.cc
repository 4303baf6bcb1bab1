#include "tools/train/diffusers_config_writer.h"

namespace ldm::train {
namespace {

using nlohmann::json;

// diffusers writes per-block values as a plain int when all blocks share it (as configured).
json IntOrList(const std::vector<int64_t>& v) {
  for (int64_t x : v) {
    if (x != v.front()) return json(v);
  }
  return json(v.front());
}

}  // namespace

json DiffusersConfigWriter::Unet(const UNet2DConditionConfig& c) {
  return {
      {"_class_name", "UNet2DConditionModel"},
      {"_diffusers_version", "0.27.2"},
      {"act_fn", c.act_fn},
      {"addition_embed_type", nullptr},
      {"addition_embed_type_num_heads", 64},
      {"addition_time_embed_dim", nullptr},
      // diffusers' naming quirk: attention_head_dim holds the number of heads.
      {"attention_head_dim", IntOrList(c.num_attention_heads)},
      {"attention_type", "default"},
      {"block_out_channels", c.block_out_channels},
      {"center_input_sample", false},
      {"class_embed_type", nullptr},
      {"class_embeddings_concat", false},
      {"conv_in_kernel", 3},
      {"conv_out_kernel", 3},
      {"cross_attention_dim", IntOrList(c.cross_attention_dim)},
      {"cross_attention_norm", nullptr},
      {"down_block_types", c.down_block_types},
      {"downsample_padding", c.downsample_padding},
      {"dropout", c.dropout},
      {"dual_cross_attention", false},
      {"encoder_hid_dim", nullptr},
      {"encoder_hid_dim_type", nullptr},
      {"flip_sin_to_cos", c.flip_sin_to_cos},
      {"freq_shift", static_cast<int64_t>(c.freq_shift)},
      {"in_channels", c.in_channels},
      {"layers_per_block", IntOrList(c.layers_per_block)},
      {"mid_block_only_cross_attention", nullptr},
      {"mid_block_scale_factor", static_cast<int64_t>(c.mid_block_scale_factor)},
      {"mid_block_type", "UNetMidBlock2DCrossAttn"},
      {"norm_eps", c.norm_eps},
      {"norm_num_groups", c.norm_num_groups},
      {"num_attention_heads", nullptr},
      {"num_class_embeds", c.num_class_embeds > 0 ? json(c.num_class_embeds) : json(nullptr)},
      {"only_cross_attention", false},
      {"out_channels", c.out_channels},
      {"projection_class_embeddings_input_dim", nullptr},
      {"resnet_out_scale_factor", 1.0},
      {"resnet_skip_time_act", false},
      {"resnet_time_scale_shift", "default"},
      {"reverse_transformer_layers_per_block", nullptr},
      {"sample_size", c.sample_size},
      {"time_cond_proj_dim", nullptr},
      {"time_embedding_act_fn", nullptr},
      {"time_embedding_dim", c.time_embedding_dim > 0 ? json(c.time_embedding_dim) : json(nullptr)},
      {"time_embedding_type", "positional"},
      {"timestep_post_act", nullptr},
      {"transformer_layers_per_block", IntOrList(c.transformer_layers_per_block)},
      {"up_block_types", c.up_block_types},
      {"upcast_attention", c.upcast_attention},
      {"use_linear_projection", c.use_linear_projection}};
}

json DiffusersConfigWriter::Vae(const AutoencoderKLConfig& c) {
  return {{"_class_name", "AutoencoderKL"},
          {"_diffusers_version", "0.27.2"},
          {"act_fn", c.act_fn},
          {"block_out_channels", c.block_out_channels},
          {"down_block_types", c.down_block_types},
          {"force_upcast", c.force_upcast},
          {"in_channels", c.in_channels},
          {"latent_channels", c.latent_channels},
          {"latents_mean", nullptr},
          {"latents_std", nullptr},
          {"layers_per_block", c.layers_per_block},
          {"norm_num_groups", c.norm_num_groups},
          {"out_channels", c.out_channels},
          {"sample_size", c.sample_size},
          {"scaling_factor", c.scaling_factor},
          {"up_block_types", c.up_block_types}};
}

json DiffusersConfigWriter::TextEncoder(const ClipTextConfig& c, int64_t bos_token_id,
                                        int64_t pad_token_id) {
  return {{"architectures", {"CLIPTextModel"}},
          {"attention_dropout", 0.0},
          {"bos_token_id", bos_token_id},
          {"dropout", 0.0},
          {"eos_token_id", c.eos_token_id},
          {"hidden_act", c.hidden_act == ClipActivation::kGelu ? "gelu" : "quick_gelu"},
          {"hidden_size", c.hidden_size},
          {"initializer_factor", 1.0},
          {"initializer_range", 0.02},
          {"intermediate_size", c.intermediate_size},
          {"layer_norm_eps", c.layer_norm_eps},
          {"max_position_embeddings", c.max_position_embeddings},
          {"model_type", "clip_text_model"},
          {"num_attention_heads", c.num_attention_heads},
          {"num_hidden_layers", c.num_hidden_layers},
          {"pad_token_id", pad_token_id},
          {"projection_dim", c.hidden_size},
          {"torch_dtype", "float16"},
          {"transformers_version", "4.38.0"},
          {"vocab_size", c.vocab_size}};
}

json DiffusersConfigWriter::ModelIndex() {
  return {{"_class_name", "StableDiffusionPipeline"},
          {"_diffusers_version", "0.27.2"},
          {"feature_extractor", {nullptr, nullptr}},
          {"image_encoder", {nullptr, nullptr}},
          {"requires_safety_checker", false},
          {"safety_checker", {nullptr, nullptr}},
          {"scheduler", {"diffusers", "DDIMScheduler"}},
          {"text_encoder", {"transformers", "CLIPTextModel"}},
          {"tokenizer", {"transformers", "CLIPTokenizer"}},
          {"unet", {"diffusers", "UNet2DConditionModel"}},
          {"vae", {"diffusers", "AutoencoderKL"}}};
}

}  // namespace ldm::train
