#include "core/nn/noisy_latent_classifier.h"

#include <torch/torch.h>

#include <set>
#include <string>

#include "absl/strings/str_cat.h"
#include "core/common/status_macros.h"
#include "core/common/torch_guard.h"
#include "core/io/module_loader.h"
#include "core/nn/functional.h"

namespace ldm {
namespace {

constexpr char kClassifierClassName[] = "NoisyLatentClassifier";

const std::set<std::string>& ClassifierKnownFields() {
  static const auto* fields = new std::set<std::string>{
      "block_out_channels", "flip_sin_to_cos", "freq_shift",  "in_channels", "layers_per_block",
      "norm_eps",           "norm_num_groups", "num_classes", "pooling",     "sample_size",
      "time_embedding_dim"};
  return *fields;
}

}  // namespace

int64_t NoisyLatentClassifierConfig::TimeEmbedDim() const {
  return time_embedding_dim > 0 ? time_embedding_dim : 4 * block_out_channels.at(0);
}

absl::StatusOr<NoisyLatentClassifierConfig> NoisyLatentClassifierConfig::FromModelConfig(
    const ModelConfig& c) {
  for (const auto& [key, value] : c.json().items()) {
    if (!key.empty() && key[0] == '_') continue;
    if (ClassifierKnownFields().count(key) == 0) {
      return absl::UnimplementedError(absl::StrCat(
          c.source(), ": unknown field '", key, "' = ", value.dump(), " is not supported by ldm"));
    }
  }
  LDM_RETURN_IF_ERROR(c.RequireOneOf("_class_name", {kClassifierClassName}));
  LDM_RETURN_IF_ERROR(c.RequireOneOf("pooling", {"mean"}));
  NoisyLatentClassifierConfig out;
  LDM_ASSIGN_OR_RETURN(out.in_channels, c.GetInt("in_channels", out.in_channels));
  LDM_ASSIGN_OR_RETURN(out.num_classes, c.GetInt("num_classes"));
  LDM_ASSIGN_OR_RETURN(out.sample_size, c.GetInt("sample_size", out.sample_size));
  if (c.Has("block_out_channels")) {
    LDM_ASSIGN_OR_RETURN(out.block_out_channels, c.GetIntList("block_out_channels"));
  }
  LDM_ASSIGN_OR_RETURN(out.layers_per_block, c.GetInt("layers_per_block", out.layers_per_block));
  LDM_ASSIGN_OR_RETURN(out.norm_num_groups, c.GetInt("norm_num_groups", out.norm_num_groups));
  LDM_ASSIGN_OR_RETURN(out.norm_eps, c.GetDouble("norm_eps", out.norm_eps));
  LDM_ASSIGN_OR_RETURN(out.flip_sin_to_cos, c.GetBool("flip_sin_to_cos", out.flip_sin_to_cos));
  LDM_ASSIGN_OR_RETURN(out.freq_shift, c.GetDouble("freq_shift", out.freq_shift));
  LDM_ASSIGN_OR_RETURN(out.time_embedding_dim, c.GetInt("time_embedding_dim", 0));
  if (absl::Status s = out.Validate(); !s.ok()) {
    return absl::InvalidArgumentError(absl::StrCat(c.source(), ": ", s.message()));
  }
  return out;
}

nlohmann::json NoisyLatentClassifierConfig::ToJson() const {
  return {{"_class_name", kClassifierClassName},
          {"in_channels", in_channels},
          {"num_classes", num_classes},
          {"sample_size", sample_size},
          {"block_out_channels", block_out_channels},
          {"layers_per_block", layers_per_block},
          {"norm_num_groups", norm_num_groups},
          {"norm_eps", norm_eps},
          {"flip_sin_to_cos", flip_sin_to_cos},
          {"freq_shift", freq_shift},
          {"time_embedding_dim",
           time_embedding_dim > 0 ? nlohmann::json(time_embedding_dim) : nlohmann::json(nullptr)},
          {"pooling", "mean"}};
}

absl::Status NoisyLatentClassifierConfig::Validate() const {
  auto bad = [](const std::string& field, const std::string& what) {
    return absl::InvalidArgumentError(absl::StrCat("'", field, "' ", what));
  };
  if (in_channels < 1) return bad("in_channels", "must be >= 1");
  if (num_classes < 1) return bad("num_classes", "must be >= 1");
  if (block_out_channels.empty()) return bad("block_out_channels", "must not be empty");
  if (layers_per_block < 1) return bad("layers_per_block", "must be >= 1");
  if (norm_num_groups < 1) return bad("norm_num_groups", "must be >= 1");
  if (!(norm_eps > 0)) return bad("norm_eps", "must be > 0");
  if (time_embedding_dim < 0) return bad("time_embedding_dim", "must be >= 1 when set");
  for (int64_t ch : block_out_channels) {
    if (ch < 1 || ch % norm_num_groups != 0) {
      return bad("block_out_channels",
                 absl::StrCat("entry ", ch, " must be a positive multiple of norm_num_groups ",
                              norm_num_groups));
    }
  }
  return absl::OkStatus();
}

NoisyLatentClassifierImpl::NoisyLatentClassifierImpl(const NoisyLatentClassifierConfig& config)
    : config_(config) {
  const absl::Status valid = config_.Validate();
  TORCH_CHECK(valid.ok(), "invalid NoisyLatentClassifierConfig: ", std::string(valid.message()));
  const auto& ch = config_.block_out_channels;
  const int64_t temb = config_.TimeEmbedDim();
  conv_in_ = register_module(
      "conv_in",
      torch::nn::Conv2d(torch::nn::Conv2dOptions(config_.in_channels, ch[0], 3).padding(1)));
  time_proj_ = register_module(
      "time_proj", nn::Timesteps(nn::TimestepsOptions{.dim = ch[0],
                                                      .flip_sin_to_cos = config_.flip_sin_to_cos,
                                                      .downscale_freq_shift = config_.freq_shift}));
  time_embedding_ = register_module("time_embedding", nn::TimestepEmbedding(ch[0], temb));
  auto down_blocks = register_module("down_blocks", torch::nn::ModuleList());
  int64_t out = ch[0];
  for (size_t i = 0; i < ch.size(); ++i) {
    nn::UNetBlockOptions o;
    o.in_channels = out;
    out = ch[i];
    o.out_channels = out;
    o.temb_channels = temb;
    o.num_layers = config_.layers_per_block;
    o.groups = config_.norm_num_groups;
    o.eps = config_.norm_eps;
    o.add_sampler = i + 1 < ch.size();
    down_blocks_.push_back(nn::DownBlock2D(o));
    down_blocks->push_back(down_blocks_.back());
  }
  mid_block_ = register_module(
      "mid_block", nn::ResnetBlock2D(nn::ResnetBlock2DOptions{.in_channels = out,
                                                              .out_channels = out,
                                                              .temb_channels = temb,
                                                              .groups = config_.norm_num_groups,
                                                              .eps = config_.norm_eps}));
  conv_norm_out_ = register_module(
      "conv_norm_out",
      torch::nn::GroupNorm(
          torch::nn::GroupNormOptions(config_.norm_num_groups, out).eps(config_.norm_eps)));
  classifier_ = register_module("classifier", torch::nn::Linear(out, config_.num_classes));
}

torch::Tensor NoisyLatentClassifierImpl::forward(const torch::Tensor& sample,
                                                 const torch::Tensor& timesteps) {
  TORCH_CHECK(sample.dim() == 4 && sample.size(1) == config_.in_channels,
              "NoisyLatentClassifier: sample must be [B, ", config_.in_channels, ", H, W], got ",
              sample.sizes());
  const int64_t batch = sample.size(0);
  torch::Tensor t = timesteps.to(sample.device());
  if (t.dim() == 0) t = t.reshape({1});
  TORCH_CHECK(t.dim() == 1 && (t.size(0) == batch || t.size(0) == 1),
              "NoisyLatentClassifier: timesteps must be 0-dim or [", batch, "], got ", t.sizes());
  t = t.expand({batch});
  torch::Tensor emb = time_embedding_(time_proj_(t).to(sample.scalar_type()));
  torch::Tensor h = conv_in_(sample);
  std::vector<torch::Tensor> unused_skips;
  for (auto& block : down_blocks_) h = block(h, emb, &unused_skips);
  h = mid_block_(h, emb);
  h = nn::SiluFresh(conv_norm_out_(nn::NormInput(h, conv_norm_out_->weight)));
  return classifier_(h.mean({2, 3}));
}

absl::StatusOr<torch::Tensor> NoisyLatentClassifierImpl::Run(const torch::Tensor& sample,
                                                             const torch::Tensor& timesteps) {
  auto invalid = [](const std::string& arg, const std::string& what) {
    return absl::InvalidArgumentError(absl::StrCat("NoisyLatentClassifier: ", arg, " ", what));
  };
  if (!sample.defined() || sample.dim() != 4 || sample.size(1) != config_.in_channels ||
      sample.numel() == 0 || !sample.is_floating_point()) {
    return invalid("sample", absl::StrCat("must be a non-empty floating [B, ", config_.in_channels,
                                          ", H, W] tensor"));
  }
  const int64_t batch = sample.size(0);
  if (!timesteps.defined() ||
      !(timesteps.dim() == 0 || (timesteps.dim() == 1 && timesteps.size(0) == batch))) {
    return invalid("timesteps", absl::StrCat("must be 0-dim or [", batch, "]"));
  }
  return TorchGuard("NoisyLatentClassifier forward", [&]() {
    const torch::Tensor& w = conv_in_->weight;
    return forward(sample.to(w.device(), w.scalar_type()), timesteps);
  });
}

absl::StatusOr<NoisyLatentClassifier> LoadNoisyLatentClassifier(const std::filesystem::path& dir,
                                                                torch::Device device,
                                                                torch::ScalarType dtype) {
  LDM_RETURN_IF_ERROR(CheckFloatingDtype("NoisyLatentClassifier", dtype));
  LDM_ASSIGN_OR_RETURN(ModelConfig raw, ModelConfig::FromFile(dir / "config.json"));
  LDM_ASSIGN_OR_RETURN(NoisyLatentClassifierConfig config,
                       NoisyLatentClassifierConfig::FromModelConfig(raw));
  return LoadModuleFromFolder<NoisyLatentClassifier>("NoisyLatentClassifier", dir, config, device,
                                                     dtype);
}

}  // namespace ldm
