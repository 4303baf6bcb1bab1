#include "core/nn/autoencoder_kl.h"

#include <torch/torch.h>

#include <set>
#include <utility>

#include "absl/strings/str_cat.h"
#include "core/common/status_macros.h"
#include "core/common/torch_guard.h"
#include "core/io/module_loader.h"
#include "core/io/safetensors_file.h"
#include "core/io/state_dict_loader.h"

namespace ldm {
namespace {

using nlohmann::json;

const std::set<std::string>& KnownFields() {
  static const auto* fields = new std::set<std::string>{"act_fn",
                                                        "block_out_channels",
                                                        "down_block_types",
                                                        "force_upcast",
                                                        "in_channels",
                                                        "latent_channels",
                                                        "latents_mean",
                                                        "latents_std",
                                                        "layers_per_block",
                                                        "mid_block_add_attention",
                                                        "norm_num_groups",
                                                        "out_channels",
                                                        "sample_size",
                                                        "scaling_factor",
                                                        "shift_factor",
                                                        "up_block_types",
                                                        "use_post_quant_conv",
                                                        "use_quant_conv"};
  return *fields;
}

absl::Status RejectUnsupported(const ModelConfig& c) {
  for (const auto& [key, value] : c.json().items()) {
    if (!key.empty() && key[0] == '_') continue;
    if (KnownFields().count(key) == 0) {
      return absl::UnimplementedError(absl::StrCat(
          c.source(), ": unknown field '", key, "' = ", value.dump(), " is not supported by ldm"));
    }
  }
  LDM_RETURN_IF_ERROR(c.RequireOneOf("_class_name", {"AutoencoderKL"}));
  const std::vector<std::pair<std::string, std::vector<json>>> only_default = {
      {"act_fn", {"silu"}},
      {"latents_mean", {}},
      {"latents_std", {}},
      {"shift_factor", {}},
      {"use_quant_conv", {true}},
      {"use_post_quant_conv", {true}},
      {"mid_block_add_attention", {true}},
  };
  for (const auto& [key, allowed] : only_default) {
    LDM_RETURN_IF_ERROR(c.RequireOneOf(key, allowed));
  }
  return absl::OkStatus();
}

absl::StatusOr<std::vector<std::string>> StringListOr(const ModelConfig& c, const std::string& key,
                                                      std::vector<std::string> fallback) {
  if (!c.Has(key)) return fallback;
  return c.GetStringList(key);
}

}  // namespace

absl::StatusOr<AutoencoderKLConfig> AutoencoderKLConfig::FromModelConfig(const ModelConfig& c) {
  LDM_RETURN_IF_ERROR(RejectUnsupported(c));
  AutoencoderKLConfig out;
  LDM_ASSIGN_OR_RETURN(out.in_channels, c.GetInt("in_channels", out.in_channels));
  LDM_ASSIGN_OR_RETURN(out.out_channels, c.GetInt("out_channels", out.out_channels));
  LDM_ASSIGN_OR_RETURN(out.latent_channels, c.GetInt("latent_channels", out.latent_channels));
  if (c.Has("block_out_channels")) {
    LDM_ASSIGN_OR_RETURN(out.block_out_channels, c.GetIntList("block_out_channels"));
  }
  LDM_ASSIGN_OR_RETURN(out.down_block_types,
                       StringListOr(c, "down_block_types", out.down_block_types));
  LDM_ASSIGN_OR_RETURN(out.up_block_types, StringListOr(c, "up_block_types", out.up_block_types));
  for (const auto& t : out.down_block_types) {
    if (t != "DownEncoderBlock2D") {
      return absl::UnimplementedError(
          absl::StrCat(c.source(), ": down_block_types entry '", t,
                       "' is not supported by ldm (supported: DownEncoderBlock2D)"));
    }
  }
  for (const auto& t : out.up_block_types) {
    if (t != "UpDecoderBlock2D") {
      return absl::UnimplementedError(
          absl::StrCat(c.source(), ": up_block_types entry '", t,
                       "' is not supported by ldm (supported: UpDecoderBlock2D)"));
    }
  }
  LDM_ASSIGN_OR_RETURN(out.layers_per_block, c.GetInt("layers_per_block", out.layers_per_block));
  LDM_ASSIGN_OR_RETURN(out.norm_num_groups, c.GetInt("norm_num_groups", out.norm_num_groups));
  LDM_ASSIGN_OR_RETURN(out.act_fn, c.GetString("act_fn", out.act_fn));
  LDM_ASSIGN_OR_RETURN(out.scaling_factor, c.GetDouble("scaling_factor", out.scaling_factor));
  LDM_ASSIGN_OR_RETURN(out.sample_size, c.GetInt("sample_size", out.sample_size));
  LDM_ASSIGN_OR_RETURN(out.force_upcast, c.GetBool("force_upcast", out.force_upcast));
  if (absl::Status s = out.Validate(); !s.ok()) {
    return absl::InvalidArgumentError(absl::StrCat(c.source(), ": ", s.message()));
  }
  return out;
}

absl::Status AutoencoderKLConfig::Validate() const {
  auto bad = [](const std::string& field, const std::string& what) {
    return absl::InvalidArgumentError(absl::StrCat("'", field, "' ", what));
  };
  const size_t n = block_out_channels.size();
  if (n == 0) return bad("block_out_channels", "must not be empty");
  if (down_block_types.size() != n) {
    return bad("down_block_types", absl::StrCat("has ", down_block_types.size(),
                                                " entries, block_out_channels has ", n));
  }
  if (up_block_types.size() != n) {
    return bad("up_block_types",
               absl::StrCat("has ", up_block_types.size(), " entries, block_out_channels has ", n));
  }
  if (in_channels < 1) return bad("in_channels", "must be >= 1");
  if (out_channels < 1) return bad("out_channels", "must be >= 1");
  if (latent_channels < 1) return bad("latent_channels", "must be >= 1");
  if (layers_per_block < 1) return bad("layers_per_block", "must be >= 1");
  if (norm_num_groups < 1) return bad("norm_num_groups", "must be >= 1");
  if (act_fn != "silu") return bad("act_fn", "must be \"silu\"");
  if (!(scaling_factor > 0)) return bad("scaling_factor", "must be > 0");
  for (int64_t ch : block_out_channels) {
    if (ch < 1 || ch % norm_num_groups != 0) {
      return bad("block_out_channels",
                 absl::StrCat("entry ", ch, " must be a positive multiple of norm_num_groups ",
                              norm_num_groups));
    }
  }
  return absl::OkStatus();
}

int64_t AutoencoderKLConfig::DownsampleFactor() const {
  return int64_t{1} << (block_out_channels.size() - 1);
}

AutoencoderKLImpl::AutoencoderKLImpl(const AutoencoderKLConfig& config) : config_(config) {
  const absl::Status valid = config_.Validate();
  TORCH_CHECK(valid.ok(), "invalid AutoencoderKLConfig: ", std::string(valid.message()));
  nn::VaeCoderOptions enc{.in_channels = config_.in_channels,
                          .out_channels = config_.latent_channels,
                          .block_out_channels = config_.block_out_channels,
                          .layers_per_block = config_.layers_per_block,
                          .groups = config_.norm_num_groups};
  nn::VaeCoderOptions dec = enc;
  dec.in_channels = config_.latent_channels;
  dec.out_channels = config_.out_channels;
  const int64_t z = config_.latent_channels;
  encoder_ = register_module("encoder", nn::VaeEncoder(enc));
  decoder_ = register_module("decoder", nn::VaeDecoder(dec));
  quant_conv_ =
      register_module("quant_conv", torch::nn::Conv2d(torch::nn::Conv2dOptions(2 * z, 2 * z, 1)));
  post_quant_conv_ =
      register_module("post_quant_conv", torch::nn::Conv2d(torch::nn::Conv2dOptions(z, z, 1)));
}

DiagonalGaussian AutoencoderKLImpl::Encode(const torch::Tensor& image,
                                           std::map<std::string, torch::Tensor>* intermediates) {
  std::map<std::string, torch::Tensor> encoder_inter;
  torch::Tensor h = encoder_(image, intermediates != nullptr ? &encoder_inter : nullptr);
  torch::Tensor moments = quant_conv_(h);
  if (intermediates != nullptr) {
    for (auto& [name, t] : encoder_inter) (*intermediates)["encoder." + name] = t;
    (*intermediates)["encoder"] = h;
    (*intermediates)["quant_conv"] = moments;
  }
  std::vector<torch::Tensor> parts = moments.chunk(2, 1);
  DiagonalGaussian out;
  out.mean = parts[0];
  out.logvar = torch::clamp(parts[1], -30.0, 20.0);
  out.std = torch::exp(0.5 * out.logvar);
  return out;
}

torch::Tensor AutoencoderKLImpl::Decode(const torch::Tensor& latents,
                                        std::map<std::string, torch::Tensor>* intermediates) {
  TORCH_CHECK(latents.dim() == 4 && latents.size(1) == config_.latent_channels,
              "AutoencoderKL: latents must be [B, ", config_.latent_channels, ", h, w], got ",
              latents.sizes());
  torch::Tensor z = post_quant_conv_(latents);
  std::map<std::string, torch::Tensor> decoder_inter;
  torch::Tensor image = decoder_(z, intermediates != nullptr ? &decoder_inter : nullptr);
  if (intermediates != nullptr) {
    (*intermediates)["post_quant_conv"] = z;
    for (auto& [name, t] : decoder_inter) (*intermediates)["decoder." + name] = t;
  }
  return image;
}

absl::StatusOr<DiagonalGaussian> AutoencoderKLImpl::RunEncode(
    const torch::Tensor& image, std::map<std::string, torch::Tensor>* intermediates) {
  if (!image.defined() || image.dim() != 4 || image.size(1) != config_.in_channels ||
      image.numel() == 0 || !image.is_floating_point()) {
    return absl::InvalidArgumentError(
        absl::StrCat("AutoencoderKL: image must be a non-empty floating [B, ", config_.in_channels,
                     ", H, W] tensor"));
  }
  return TorchGuard("AutoencoderKL encode", [&]() {
    const torch::Tensor& w = quant_conv_->weight;
    return Encode(image.to(w.device(), w.scalar_type()), intermediates);
  });
}

torch::Tensor AutoencoderKLImpl::DecodeWithMargin(const torch::Tensor& latents, int64_t margin) {
  TORCH_CHECK(margin >= 0, "AutoencoderKL: the decode margin must be >= 0, got ", margin);
  if (margin == 0) return Decode(latents);
  // Edge replication rather than zeros: the margin continues the latents' own border cells, so
  // the decoder sees those as interior cells, and what it draws at the (new) latent border falls
  // into the margin, which is cropped.
  namespace F = torch::nn::functional;
  const torch::Tensor image = Decode(
      F::pad(latents, F::PadFuncOptions({margin, margin, margin, margin}).mode(torch::kReplicate)));
  const int64_t crop = margin * config_.DownsampleFactor();
  return image.slice(2, crop, image.size(2) - crop).slice(3, crop, image.size(3) - crop);
}

absl::Status AutoencoderKLImpl::CheckLatents(const torch::Tensor& latents) const {
  if (!latents.defined() || latents.dim() != 4 || latents.size(1) != config_.latent_channels ||
      latents.numel() == 0 || !latents.is_floating_point()) {
    return absl::InvalidArgumentError(
        absl::StrCat("AutoencoderKL: latents must be a non-empty floating [B, ",
                     config_.latent_channels, ", h, w] tensor"));
  }
  return absl::OkStatus();
}

absl::StatusOr<torch::Tensor> AutoencoderKLImpl::RunDecode(
    const torch::Tensor& latents, std::map<std::string, torch::Tensor>* intermediates) {
  LDM_RETURN_IF_ERROR(CheckLatents(latents));
  return TorchGuard("AutoencoderKL decode", [&]() {
    const torch::Tensor& w = post_quant_conv_->weight;
    return Decode(latents.to(w.device(), w.scalar_type()), intermediates);
  });
}

absl::StatusOr<torch::Tensor> AutoencoderKLImpl::RunDecodeWithMargin(const torch::Tensor& latents,
                                                                     int64_t margin) {
  LDM_RETURN_IF_ERROR(CheckLatents(latents));
  if (margin < 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("AutoencoderKL: the decode margin must be >= 0, got ", margin));
  }
  return TorchGuard("AutoencoderKL decode", [&]() {
    const torch::Tensor& w = post_quant_conv_->weight;
    return DecodeWithMargin(latents.to(w.device(), w.scalar_type()), margin);
  });
}

absl::StatusOr<AutoencoderKL> LoadAutoencoderKL(const std::filesystem::path& vae_dir,
                                                torch::Device device, torch::ScalarType dtype) {
  LDM_RETURN_IF_ERROR(CheckFloatingDtype("AutoencoderKL", dtype));
  LDM_ASSIGN_OR_RETURN(ModelConfig raw, ModelConfig::FromFile(vae_dir / "config.json"));
  LDM_ASSIGN_OR_RETURN(AutoencoderKLConfig config, AutoencoderKLConfig::FromModelConfig(raw));
  return LoadModuleFromFolder<AutoencoderKL>("AutoencoderKL", vae_dir, config, device, dtype);
}

}  // namespace ldm
