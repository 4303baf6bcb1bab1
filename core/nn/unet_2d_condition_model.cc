#include "core/nn/unet_2d_condition_model.h"

#include <torch/torch.h>

#include <algorithm>
#include <set>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "core/common/status_macros.h"
#include "core/common/torch_guard.h"
#include "core/io/module_loader.h"
#include "core/io/safetensors_file.h"
#include "core/io/state_dict_loader.h"
#include "core/nn/functional.h"

namespace ldm {
namespace {

using nlohmann::json;

constexpr char kCrossAttnDown[] = "CrossAttnDownBlock2D";
constexpr char kDown[] = "DownBlock2D";
constexpr char kCrossAttnUp[] = "CrossAttnUpBlock2D";
constexpr char kUp[] = "UpBlock2D";

// Every field diffusers 0.27 writes for UNet2DConditionModel. Anything else is rejected, so a
// config from a newer or different model never loads with a silently ignored setting.
const std::set<std::string>& KnownFields() {
  static const auto* fields = new std::set<std::string>{"act_fn",
                                                        "addition_embed_type",
                                                        "addition_embed_type_num_heads",
                                                        "addition_time_embed_dim",
                                                        "attention_head_dim",
                                                        "attention_type",
                                                        "block_out_channels",
                                                        "center_input_sample",
                                                        "class_embed_type",
                                                        "class_embeddings_concat",
                                                        "conv_in_kernel",
                                                        "conv_out_kernel",
                                                        "cross_attention_dim",
                                                        "cross_attention_norm",
                                                        "down_block_types",
                                                        "downsample_padding",
                                                        "dropout",
                                                        "dual_cross_attention",
                                                        "encoder_hid_dim",
                                                        "encoder_hid_dim_type",
                                                        "flip_sin_to_cos",
                                                        "freq_shift",
                                                        "in_channels",
                                                        "layers_per_block",
                                                        "mid_block_only_cross_attention",
                                                        "mid_block_scale_factor",
                                                        "mid_block_type",
                                                        "norm_eps",
                                                        "norm_num_groups",
                                                        "num_attention_heads",
                                                        "num_class_embeds",
                                                        "only_cross_attention",
                                                        "out_channels",
                                                        "projection_class_embeddings_input_dim",
                                                        "resnet_out_scale_factor",
                                                        "resnet_skip_time_act",
                                                        "resnet_time_scale_shift",
                                                        "reverse_transformer_layers_per_block",
                                                        "sample_size",
                                                        "time_cond_proj_dim",
                                                        "time_embedding_act_fn",
                                                        "time_embedding_dim",
                                                        "time_embedding_type",
                                                        "timestep_post_act",
                                                        "transformer_layers_per_block",
                                                        "up_block_types",
                                                        "upcast_attention",
                                                        "use_linear_projection"};
  return *fields;
}

absl::Status RejectUnsupported(const ModelConfig& c) {
  for (const auto& [key, value] : c.json().items()) {
    if (!key.empty() && key[0] == '_') continue;  // _diffusers_version, _name_or_path, ...
    if (KnownFields().count(key) == 0) {
      return absl::UnimplementedError(absl::StrCat(
          c.source(), ": unknown field '", key, "' = ", value.dump(), " is not supported by ldm"));
    }
  }
  LDM_RETURN_IF_ERROR(c.RequireOneOf("_class_name", {"UNet2DConditionModel"}));
  // Fields whose only supported value is their default (null-only fields have no alternatives).
  const std::vector<std::pair<std::string, std::vector<json>>> only_default = {
      {"act_fn", {"silu"}},
      {"addition_embed_type", {}},
      {"addition_time_embed_dim", {}},
      {"attention_type", {"default"}},
      {"center_input_sample", {false}},
      {"class_embed_type", {}},
      {"class_embeddings_concat", {false}},
      {"conv_in_kernel", {3}},
      {"conv_out_kernel", {3}},
      {"cross_attention_norm", {}},
      {"dual_cross_attention", {false}},
      {"encoder_hid_dim", {}},
      {"encoder_hid_dim_type", {}},
      {"mid_block_only_cross_attention", {false}},
      {"mid_block_type", {"UNetMidBlock2DCrossAttn"}},
      {"projection_class_embeddings_input_dim", {}},
      {"resnet_out_scale_factor", {1.0}},
      {"resnet_skip_time_act", {false}},
      {"resnet_time_scale_shift", {"default"}},
      {"reverse_transformer_layers_per_block", {}},
      {"time_cond_proj_dim", {}},
      {"time_embedding_act_fn", {}},
      {"time_embedding_type", {"positional"}},
      {"timestep_post_act", {}},
  };
  for (const auto& [key, allowed] : only_default) {
    LDM_RETURN_IF_ERROR(c.RequireOneOf(key, allowed));
  }
  // Explicit nulls that mean something other than the default in diffusers.
  for (const char* key : {"mid_block_type", "norm_num_groups"}) {
    auto it = c.json().find(key);
    if (it != c.json().end() && it->is_null()) {
      return absl::UnimplementedError(absl::StrCat(
          c.source(), ": '", key, "' = null is not supported by ldm (it removes the block)"));
    }
  }
  // only_cross_attention: a bool or one bool per block; ldm supports false everywhere.
  if (c.Has("only_cross_attention")) {
    const json& v = c.json().at("only_cross_attention");
    bool any_true = v.is_boolean() ? v.get<bool>() : false;
    if (v.is_array()) {
      for (const auto& e : v) any_true = any_true || !e.is_boolean() || e.get<bool>();
    } else if (!v.is_boolean()) {
      any_true = true;
    }
    if (any_true) {
      return absl::UnimplementedError(absl::StrCat(c.source(),
                                                   ": 'only_cross_attention' = ", v.dump(),
                                                   " is not supported by ldm "
                                                   "(supported: false)"));
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<std::vector<std::string>> StringListOr(const ModelConfig& c, const std::string& key,
                                                      std::vector<std::string> fallback) {
  if (!c.Has(key)) return fallback;
  return c.GetStringList(key);
}

}  // namespace

int64_t UNet2DConditionConfig::TimeEmbedDim() const {
  return time_embedding_dim > 0 ? time_embedding_dim : 4 * block_out_channels.at(0);
}

absl::StatusOr<UNet2DConditionConfig> UNet2DConditionConfig::FromModelConfig(const ModelConfig& c) {
  LDM_RETURN_IF_ERROR(RejectUnsupported(c));
  UNet2DConditionConfig out;
  LDM_ASSIGN_OR_RETURN(out.in_channels, c.GetInt("in_channels", out.in_channels));
  LDM_ASSIGN_OR_RETURN(out.out_channels, c.GetInt("out_channels", out.out_channels));
  LDM_ASSIGN_OR_RETURN(out.sample_size, c.GetInt("sample_size", out.sample_size));
  if (c.Has("block_out_channels")) {
    LDM_ASSIGN_OR_RETURN(out.block_out_channels, c.GetIntList("block_out_channels"));
  }
  if (out.block_out_channels.empty()) return c.Invalid("block_out_channels", "must not be empty");
  const size_t n = out.block_out_channels.size();
  LDM_ASSIGN_OR_RETURN(out.down_block_types,
                       StringListOr(c, "down_block_types", out.down_block_types));
  LDM_ASSIGN_OR_RETURN(out.up_block_types, StringListOr(c, "up_block_types", out.up_block_types));
  for (const auto& t : out.down_block_types) {
    if (t != kCrossAttnDown && t != kDown) {
      return absl::UnimplementedError(
          absl::StrCat(c.source(), ": down_block_types entry '", t,
                       "' is not supported by ldm (supported: ", kCrossAttnDown, ", ", kDown, ")"));
    }
  }
  for (const auto& t : out.up_block_types) {
    if (t != kCrossAttnUp && t != kUp) {
      return absl::UnimplementedError(
          absl::StrCat(c.source(), ": up_block_types entry '", t,
                       "' is not supported by ldm (supported: ", kCrossAttnUp, ", ", kUp, ")"));
    }
  }
  if (out.down_block_types.size() != n) {
    return c.Invalid("down_block_types", absl::StrCat("has ", out.down_block_types.size(),
                                                      " entries, block_out_channels has ", n));
  }
  if (out.up_block_types.size() != n) {
    return c.Invalid("up_block_types", absl::StrCat("has ", out.up_block_types.size(),
                                                    " entries, block_out_channels has ", n));
  }
  LDM_ASSIGN_OR_RETURN(out.layers_per_block, c.GetIntOrList("layers_per_block", n, 2));
  if (c.Has("num_attention_heads")) {
    LDM_ASSIGN_OR_RETURN(out.num_attention_heads, c.GetIntOrList("num_attention_heads", n, 8));
  } else {
    LDM_ASSIGN_OR_RETURN(out.num_attention_heads, c.GetIntOrList("attention_head_dim", n, 8));
  }
  LDM_ASSIGN_OR_RETURN(out.transformer_layers_per_block,
                       c.GetIntOrList("transformer_layers_per_block", n, 1));
  LDM_ASSIGN_OR_RETURN(out.cross_attention_dim, c.GetIntOrList("cross_attention_dim", n, 1280));
  LDM_ASSIGN_OR_RETURN(out.use_linear_projection, c.GetBool("use_linear_projection", false));
  LDM_ASSIGN_OR_RETURN(out.upcast_attention, c.GetBool("upcast_attention", false));
  LDM_ASSIGN_OR_RETURN(out.num_class_embeds, c.GetInt("num_class_embeds", 0));
  LDM_ASSIGN_OR_RETURN(out.norm_num_groups, c.GetInt("norm_num_groups", out.norm_num_groups));
  LDM_ASSIGN_OR_RETURN(out.norm_eps, c.GetDouble("norm_eps", out.norm_eps));
  LDM_ASSIGN_OR_RETURN(out.flip_sin_to_cos, c.GetBool("flip_sin_to_cos", out.flip_sin_to_cos));
  LDM_ASSIGN_OR_RETURN(out.freq_shift, c.GetDouble("freq_shift", out.freq_shift));
  LDM_ASSIGN_OR_RETURN(out.downsample_padding,
                       c.GetInt("downsample_padding", out.downsample_padding));
  LDM_ASSIGN_OR_RETURN(out.mid_block_scale_factor,
                       c.GetDouble("mid_block_scale_factor", out.mid_block_scale_factor));
  LDM_ASSIGN_OR_RETURN(out.dropout, c.GetDouble("dropout", out.dropout));
  LDM_ASSIGN_OR_RETURN(out.act_fn, c.GetString("act_fn", out.act_fn));
  LDM_ASSIGN_OR_RETURN(out.time_embedding_dim, c.GetInt("time_embedding_dim", 0));
  if (absl::Status s = out.Validate(); !s.ok()) {
    return absl::InvalidArgumentError(absl::StrCat(c.source(), ": ", s.message()));
  }
  return out;
}

absl::Status UNet2DConditionConfig::Validate() const {
  const size_t n = block_out_channels.size();
  auto bad = [](const std::string& field, const std::string& what) {
    return absl::InvalidArgumentError(absl::StrCat("'", field, "' ", what));
  };
  if (n == 0) return bad("block_out_channels", "must not be empty");
  if (down_block_types.size() != n || up_block_types.size() != n) {
    return bad("down_block_types", "and up_block_types need one entry per block_out_channels");
  }
  for (const auto* list : {&layers_per_block, &num_attention_heads, &transformer_layers_per_block,
                           &cross_attention_dim}) {
    if (list->size() != n) return bad("layers_per_block", "per-block lists have wrong length");
  }
  if (in_channels < 1) return bad("in_channels", "must be >= 1");
  if (out_channels < 1) return bad("out_channels", "must be >= 1");
  if (norm_num_groups < 1) return bad("norm_num_groups", "must be >= 1");
  if (!(norm_eps > 0)) return bad("norm_eps", "must be > 0");
  if (act_fn != "silu") return bad("act_fn", "must be \"silu\"");
  if (downsample_padding < 0) return bad("downsample_padding", "must be >= 0");
  if (!(mid_block_scale_factor > 0)) return bad("mid_block_scale_factor", "must be > 0");
  if (dropout < 0 || dropout >= 1) return bad("dropout", "must be in [0, 1)");
  if (num_class_embeds < 0) return bad("num_class_embeds", "must be >= 1 when set");
  if (time_embedding_dim < 0) return bad("time_embedding_dim", "must be >= 1 when set");
  if (TimeEmbedDim() < 1) return bad("block_out_channels", "entries must be >= 1");
  for (size_t i = 0; i < n; ++i) {
    const int64_t ch = block_out_channels[i];
    if (ch < 1 || ch % norm_num_groups != 0) {
      return bad("block_out_channels",
                 absl::StrCat("entry ", ch, " must be a positive multiple of norm_num_groups ",
                              norm_num_groups));
    }
    if (layers_per_block[i] < 1) return bad("layers_per_block", "entries must be >= 1");
    if (transformer_layers_per_block[i] < 1) {
      return bad("transformer_layers_per_block", "entries must be >= 1");
    }
    if (cross_attention_dim[i] < 1) return bad("cross_attention_dim", "entries must be >= 1");
    if (num_attention_heads[i] < 1 || num_attention_heads[i] > ch) {
      return bad("attention_head_dim",
                 absl::StrCat("(number of heads) entry ", num_attention_heads[i],
                              " must be in [1, ", ch, "] for ", ch, " channels"));
    }
  }
  return absl::OkStatus();
}

UNet2DConditionModelImpl::UNet2DConditionModelImpl(const UNet2DConditionConfig& config)
    : config_(config) {
  const absl::Status valid = config_.Validate();
  TORCH_CHECK(valid.ok(), "invalid UNet2DConditionConfig: ", std::string(valid.message()));
  const auto& ch = config_.block_out_channels;
  const size_t n = ch.size();
  const int64_t temb = config_.TimeEmbedDim();
  conv_in_ = register_module(
      "conv_in",
      torch::nn::Conv2d(torch::nn::Conv2dOptions(config_.in_channels, ch[0], 3).padding(1)));
  time_proj_ = register_module(
      "time_proj", nn::Timesteps(nn::TimestepsOptions{.dim = ch[0],
                                                      .flip_sin_to_cos = config_.flip_sin_to_cos,
                                                      .downscale_freq_shift = config_.freq_shift}));
  time_embedding_ = register_module("time_embedding", nn::TimestepEmbedding(ch[0], temb));
  if (config_.num_class_embeds > 0) {
    class_embedding_ =
        register_module("class_embedding", torch::nn::Embedding(config_.num_class_embeds, temb));
  }

  nn::UNetBlockOptions base;
  base.temb_channels = temb;
  base.groups = config_.norm_num_groups;
  base.eps = config_.norm_eps;
  base.dropout = config_.dropout;
  base.downsample_padding = config_.downsample_padding;
  base.use_linear_projection = config_.use_linear_projection;
  base.upcast_attention = config_.upcast_attention;

  auto down_blocks = register_module("down_blocks", torch::nn::ModuleList());
  int64_t out = ch[0];
  for (size_t i = 0; i < n; ++i) {
    nn::UNetBlockOptions o = base;
    o.in_channels = out;
    out = ch[i];
    o.out_channels = out;
    o.num_layers = config_.layers_per_block[i];
    o.transformer_layers = config_.transformer_layers_per_block[i];
    o.heads = config_.num_attention_heads[i];
    o.cross_attention_dim = config_.cross_attention_dim[i];
    o.add_sampler = i + 1 < n;
    if (config_.down_block_types[i] == kCrossAttnDown) {
      cross_down_.push_back(nn::CrossAttnDownBlock2D(o));
      plain_down_.push_back(nullptr);
      down_blocks->push_back(cross_down_.back());
    } else {
      cross_down_.push_back(nullptr);
      plain_down_.push_back(nn::DownBlock2D(o));
      down_blocks->push_back(plain_down_.back());
    }
  }

  nn::UNetBlockOptions mid = base;
  mid.in_channels = ch.back();
  mid.out_channels = ch.back();
  mid.num_layers = 1;
  mid.transformer_layers = config_.transformer_layers_per_block.back();
  mid.heads = config_.num_attention_heads.back();
  mid.cross_attention_dim = config_.cross_attention_dim.back();
  mid.output_scale_factor = config_.mid_block_scale_factor;
  mid_block_ = register_module("mid_block", nn::UNetMidBlock2DCrossAttn(mid));

  auto up_blocks = register_module("up_blocks", torch::nn::ModuleList());
  out = ch.back();
  for (size_t i = 0; i < n; ++i) {
    const size_t level = n - 1 - i;  // resolution level this up block mirrors
    nn::UNetBlockOptions o = base;
    o.prev_output_channels = out;
    out = ch[level];
    o.out_channels = out;
    o.in_channels = ch[level == 0 ? 0 : level - 1];
    o.num_layers = config_.layers_per_block[level] + 1;
    o.transformer_layers = config_.transformer_layers_per_block[level];
    o.heads = config_.num_attention_heads[level];
    o.cross_attention_dim = config_.cross_attention_dim[level];
    o.add_sampler = i + 1 < n;
    if (config_.up_block_types[i] == kCrossAttnUp) {
      cross_up_.push_back(nn::CrossAttnUpBlock2D(o));
      plain_up_.push_back(nullptr);
      up_blocks->push_back(cross_up_.back());
    } else {
      cross_up_.push_back(nullptr);
      plain_up_.push_back(nn::UpBlock2D(o));
      up_blocks->push_back(plain_up_.back());
    }
  }
  conv_norm_out_ = register_module(
      "conv_norm_out",
      torch::nn::GroupNorm(
          torch::nn::GroupNormOptions(config_.norm_num_groups, ch[0]).eps(config_.norm_eps)));
  conv_out_ = register_module(
      "conv_out",
      torch::nn::Conv2d(torch::nn::Conv2dOptions(ch[0], config_.out_channels, 3).padding(1)));
}

torch::Tensor UNet2DConditionModelImpl::forward(
    const torch::Tensor& sample, const torch::Tensor& timesteps,
    const torch::Tensor& encoder_hidden_states, const torch::Tensor& class_labels,
    std::map<std::string, torch::Tensor>* intermediates) {
  TORCH_CHECK(sample.dim() == 4 && sample.size(1) == config_.in_channels,
              "UNet2DConditionModel: sample must be [B, ", config_.in_channels, ", H, W], got ",
              sample.sizes());
  auto record = [&](const std::string& name, const torch::Tensor& t) {
    if (intermediates != nullptr) (*intermediates)[name] = t;
  };
  const int64_t batch = sample.size(0);
  torch::Tensor t = timesteps.to(sample.device());
  if (t.dim() == 0) t = t.reshape({1});
  TORCH_CHECK(t.dim() == 1 && (t.size(0) == batch || t.size(0) == 1),
              "UNet2DConditionModel: timesteps must be 0-dim or [", batch, "], got ", t.sizes());
  t = t.expand({batch});

  // The projection is float32 (fractional timesteps keep their fraction), then cast to the
  // model dtype before the MLP, as the reference does.
  torch::Tensor t_proj = time_proj_(t);
  record("time_proj", t_proj);
  torch::Tensor emb = time_embedding_(t_proj.to(sample.scalar_type()));
  record("time_embedding", emb);
  if (class_embedding_) {
    TORCH_CHECK(class_labels.defined(),
                "UNet2DConditionModel: class_labels are required (num_class_embeds > 0)");
    torch::Tensor class_emb =
        class_embedding_(class_labels.to(sample.device(), torch::kLong).reshape({batch}))
            .to(sample.scalar_type());
    record("class_embedding", class_emb);
    emb = emb + class_emb;  // not in place: time_embedding may be recorded
  } else {
    TORCH_CHECK(!class_labels.defined(),
                "UNet2DConditionModel: class_labels given but the model has no class embedding");
  }
  record("emb_total", emb);

  torch::Tensor h = conv_in_(sample);
  record("conv_in", h);
  std::vector<torch::Tensor> skips = {h};
  for (size_t i = 0; i < cross_down_.size(); ++i) {
    h = cross_down_[i] ? cross_down_[i](h, emb, encoder_hidden_states, &skips)
                       : plain_down_[i](h, emb, &skips);
    record(absl::StrCat("down_blocks.", i), h);
  }
  h = mid_block_(h, emb, encoder_hidden_states);
  record("mid_block", h);
  for (size_t i = 0; i < cross_up_.size(); ++i) {
    const int64_t layers = cross_up_[i] ? cross_up_[i]->num_layers() : plain_up_[i]->num_layers();
    TORCH_CHECK(static_cast<int64_t>(skips.size()) >= layers, "UNet: skip bookkeeping broken");
    // Upsample to the size of the next skip connection, so odd latent sizes round-trip exactly
    // (diffusers' forward_upsample_size); for even sizes this equals a plain 2x.
    std::vector<int64_t> upsample_size;
    if (i + 1 < cross_up_.size()) {
      const torch::Tensor& next_skip = skips[skips.size() - layers - 1];
      upsample_size = {next_skip.size(2), next_skip.size(3)};
    }
    h = cross_up_[i] ? cross_up_[i](h, &skips, emb, encoder_hidden_states, upsample_size)
                     : plain_up_[i](h, &skips, emb, upsample_size);
    record(absl::StrCat("up_blocks.", i), h);
  }
  h = conv_norm_out_(nn::NormInput(h, conv_norm_out_->weight));
  if (intermediates != nullptr) {
    record("conv_norm_out", h);
    h = torch::silu(h);  // keep the recorded tensor intact
  } else {
    h = nn::SiluFresh(h);
  }
  return conv_out_(h);
}

absl::StatusOr<torch::Tensor> UNet2DConditionModelImpl::Run(
    const torch::Tensor& sample, const torch::Tensor& timesteps,
    const torch::Tensor& encoder_hidden_states, const torch::Tensor& class_labels,
    std::map<std::string, torch::Tensor>* intermediates) {
  auto invalid = [](const std::string& arg, const std::string& what) {
    return absl::InvalidArgumentError(absl::StrCat("UNet2DConditionModel: ", arg, " ", what));
  };
  if (!sample.defined() || sample.dim() != 4 || sample.size(1) != config_.in_channels ||
      sample.numel() == 0) {
    return invalid("sample",
                   absl::StrCat("must be a non-empty [B, ", config_.in_channels, ", H, W] tensor"));
  }
  if (!sample.is_floating_point()) return invalid("sample", "must be a floating-point tensor");
  const int64_t batch = sample.size(0);
  if (!timesteps.defined() ||
      !(timesteps.dim() == 0 || (timesteps.dim() == 1 && timesteps.size(0) == batch))) {
    return invalid("timesteps", absl::StrCat("must be 0-dim or [", batch, "]"));
  }
  const std::set<int64_t> dims(config_.cross_attention_dim.begin(),
                               config_.cross_attention_dim.end());
  if (!encoder_hidden_states.defined() || encoder_hidden_states.dim() != 3 ||
      encoder_hidden_states.size(0) != batch || dims.count(encoder_hidden_states.size(2)) == 0) {
    return invalid("encoder_hidden_states",
                   absl::StrCat("must be [", batch, ", L, ", *dims.rbegin(), "]"));
  }
  if (config_.num_class_embeds > 0) {
    if (!class_labels.defined() || class_labels.numel() != batch ||
        class_labels.is_floating_point() || class_labels.is_complex()) {
      return invalid("class_labels", absl::StrCat("must be an integer [", batch, "] tensor"));
    }
    const auto [min_label, max_label] = TorchGuard("class_labels range", [&]() {
                                          return std::make_pair(class_labels.min().item<int64_t>(),
                                                                class_labels.max().item<int64_t>());
                                        }).value_or(std::make_pair(int64_t{-1}, int64_t{-1}));
    if (min_label < 0 || max_label >= config_.num_class_embeds) {
      return invalid("class_labels",
                     absl::StrCat("must be in [0, ", config_.num_class_embeds - 1, "]"));
    }
  } else if (class_labels.defined()) {
    return invalid("class_labels", "given, but the model has no class embedding");
  }
  return TorchGuard("UNet2DConditionModel forward", [&]() {
    const torch::Tensor& w = conv_in_->weight;
    return forward(sample.to(w.device(), w.scalar_type()), timesteps,
                   encoder_hidden_states.to(w.device(), w.scalar_type()), class_labels,
                   intermediates);
  });
}

absl::StatusOr<UNet2DConditionModel> LoadUNet(const std::filesystem::path& unet_dir,
                                              torch::Device device, torch::ScalarType dtype) {
  LDM_RETURN_IF_ERROR(CheckFloatingDtype("UNet", dtype));
  LDM_ASSIGN_OR_RETURN(ModelConfig raw, ModelConfig::FromFile(unet_dir / "config.json"));
  LDM_ASSIGN_OR_RETURN(UNet2DConditionConfig config, UNet2DConditionConfig::FromModelConfig(raw));
  return LoadModuleFromFolder<UNet2DConditionModel>("UNet", unet_dir, config, device, dtype);
}

}  // namespace ldm
