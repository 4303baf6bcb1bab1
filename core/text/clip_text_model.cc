#include "core/text/clip_text_model.h"

#include <torch/torch.h>
#include <torch/version.h>

#include <limits>

#include "absl/strings/str_cat.h"
#include "core/common/status_macros.h"
#include "core/common/torch_guard.h"
#include "core/io/module_loader.h"
#include "core/io/safetensors_file.h"
#include "core/io/state_dict_loader.h"
#include "core/nn/functional.h"

namespace ldm {

absl::StatusOr<ClipTextConfig> ClipTextConfig::FromModelConfig(const ModelConfig& config) {
  ClipTextConfig c;
  LDM_ASSIGN_OR_RETURN(c.vocab_size, config.GetInt("vocab_size", c.vocab_size));
  LDM_ASSIGN_OR_RETURN(c.hidden_size, config.GetInt("hidden_size", c.hidden_size));
  LDM_ASSIGN_OR_RETURN(c.intermediate_size,
                       config.GetInt("intermediate_size", c.intermediate_size));
  LDM_ASSIGN_OR_RETURN(c.num_hidden_layers,
                       config.GetInt("num_hidden_layers", c.num_hidden_layers));
  LDM_ASSIGN_OR_RETURN(c.num_attention_heads,
                       config.GetInt("num_attention_heads", c.num_attention_heads));
  LDM_ASSIGN_OR_RETURN(c.max_position_embeddings,
                       config.GetInt("max_position_embeddings", c.max_position_embeddings));
  LDM_ASSIGN_OR_RETURN(c.layer_norm_eps, config.GetDouble("layer_norm_eps", c.layer_norm_eps));
  LDM_ASSIGN_OR_RETURN(c.eos_token_id, config.GetInt("eos_token_id", c.eos_token_id));
  LDM_RETURN_IF_ERROR(config.RequireOneOf("hidden_act", {"quick_gelu", "gelu"}));
  LDM_ASSIGN_OR_RETURN(std::string act, config.GetString("hidden_act", "quick_gelu"));
  c.hidden_act = act == "gelu" ? ClipActivation::kGelu : ClipActivation::kQuickGelu;

  for (const auto& [key, value] : {std::pair<const char*, int64_t>{"vocab_size", c.vocab_size},
                                   {"hidden_size", c.hidden_size},
                                   {"intermediate_size", c.intermediate_size},
                                   {"num_hidden_layers", c.num_hidden_layers},
                                   {"num_attention_heads", c.num_attention_heads},
                                   {"max_position_embeddings", c.max_position_embeddings}}) {
    if (value <= 0) return config.Invalid(key, absl::StrCat("must be positive, got ", value));
  }
  if (c.hidden_size % c.num_attention_heads != 0) {
    return config.Invalid("hidden_size",
                          absl::StrCat("(", c.hidden_size, ") must be divisible by ",
                                       "num_attention_heads (", c.num_attention_heads, ")"));
  }
  if (!(c.layer_norm_eps > 0.0)) {
    return config.Invalid("layer_norm_eps",
                          absl::StrCat("must be positive, got ", c.layer_norm_eps));
  }
  return c;
}

namespace internal {
// A named namespace, not an anonymous one: ClipTextTransformerImpl (declared in the header) holds
// these modules, and GCC's -Wsubobject-linkage flags anonymous-namespace members of it whenever
// this file is compiled inside a unity batch.
namespace clip_text_detail {

#if TORCH_VERSION_MAJOR < 2
// Large negative score for masked keys, representable in `dtype`. transformers adds
// finfo(dtype).min; any value that makes exp() underflow to 0 gives the same probabilities, and
// a finite one keeps a fully masked row finite instead of NaN.
torch::Scalar MaskedScore(torch::ScalarType dtype) {
  switch (dtype) {
    case torch::kHalf:
      return torch::Scalar(std::numeric_limits<c10::Half>::lowest());
    case torch::kBFloat16:
      return torch::Scalar(std::numeric_limits<c10::BFloat16>::lowest());
    case torch::kDouble:
      return torch::Scalar(std::numeric_limits<double>::lowest());
    default:
      return torch::Scalar(std::numeric_limits<float>::lowest());
  }
}
#endif

// transformers CLIPTextEmbeddings: token embedding plus learned absolute position embedding.
class ClipTextEmbeddingsImpl : public torch::nn::Module {
 public:
  explicit ClipTextEmbeddingsImpl(const ClipTextConfig& c) {
    // CLIP's initialisation (transformers CLIPPreTrainedModel._init_weights: token std 0.02,
    // position std 0.01), so that a model trained from scratch starts sane; a loaded checkpoint
    // overwrites it. Drawn directly into the table (cheaper than Embedding's default init).
    token_embedding_ = register_module(
        "token_embedding",
        torch::nn::Embedding(torch::nn::EmbeddingOptions(c.vocab_size, c.hidden_size)
                                 ._weight(torch::randn({c.vocab_size, c.hidden_size}) * 0.02)));
    position_embedding_ = register_module(
        "position_embedding",
        torch::nn::Embedding(
            torch::nn::EmbeddingOptions(c.max_position_embeddings, c.hidden_size)
                ._weight(torch::randn({c.max_position_embeddings, c.hidden_size}) * 0.01)));
  }

  torch::Tensor forward(const torch::Tensor& input_ids) {
    // position_ids is arange(L); the checkpoint's buffer (when present) holds the same values.
    const torch::Tensor positions =
        torch::arange(input_ids.size(1), input_ids.options().dtype(torch::kLong));
    return token_embedding_(input_ids) + position_embedding_(positions).unsqueeze(0);
  }

 private:
  torch::nn::Embedding token_embedding_{nullptr};
  torch::nn::Embedding position_embedding_{nullptr};
};
TORCH_MODULE(ClipTextEmbeddings);

// transformers CLIPAttention: multi-head self-attention (Vaswani et al. 2017) with biased
// q/k/v/out projections.
class ClipAttentionImpl : public torch::nn::Module {
 public:
  explicit ClipAttentionImpl(const ClipTextConfig& c)
      : num_heads_(c.num_attention_heads), head_dim_(c.hidden_size / c.num_attention_heads) {
    k_proj_ = register_module("k_proj", torch::nn::Linear(c.hidden_size, c.hidden_size));
    v_proj_ = register_module("v_proj", torch::nn::Linear(c.hidden_size, c.hidden_size));
    q_proj_ = register_module("q_proj", torch::nn::Linear(c.hidden_size, c.hidden_size));
    out_proj_ = register_module("out_proj", torch::nn::Linear(c.hidden_size, c.hidden_size));
  }

  // x: [B, L, H]. `allowed`: bool [B or 1, 1, L, L], true where a query may attend to a key; it
  // already contains the causal mask. `causal_only` says that it is nothing but the causal mask,
  // which lets a fused kernel use its built-in causal path.
  torch::Tensor forward(const torch::Tensor& x, const torch::Tensor& allowed, bool causal_only) {
    const int64_t b = x.size(0), l = x.size(1);
    auto heads = [&](const torch::Tensor& t) {
      return t.view({b, l, num_heads_, head_dim_}).transpose(1, 2);  // [B, heads, L, d]
    };
    torch::Tensor out;
#if TORCH_VERSION_MAJOR >= 2
    const torch::Tensor q = heads(q_proj_(x)), k = heads(k_proj_(x)), v = heads(v_proj_(x));
    // Default scale is 1/sqrt(head_dim), as in CLIP.
    out = causal_only ? at::scaled_dot_product_attention(q, k, v, c10::nullopt, 0.0, true)
                      : at::scaled_dot_product_attention(q, k, v, allowed, 0.0, false);
#else
    (void)causal_only;
    // Scale q before the product, as transformers does, to stay bitwise close to it.
    const double scale = 1.0 / std::sqrt(static_cast<double>(head_dim_));
    const torch::Tensor q = heads(q_proj_(x) * scale), k = heads(k_proj_(x)), v = heads(v_proj_(x));
    torch::Tensor scores = torch::matmul(q, k.transpose(-1, -2));  // [B, heads, L, L]
    scores = scores.masked_fill(allowed.logical_not(), MaskedScore(scores.scalar_type()));
    out = torch::matmul(torch::softmax(scores, -1), v);
#endif
    return out_proj_(out.transpose(1, 2).reshape({b, l, num_heads_ * head_dim_}));
  }

 private:
  int64_t num_heads_;
  int64_t head_dim_;
  torch::nn::Linear k_proj_{nullptr}, v_proj_{nullptr}, q_proj_{nullptr}, out_proj_{nullptr};
};
TORCH_MODULE(ClipAttention);

// transformers CLIPMLP: fc1 -> activation -> fc2.
class ClipMlpImpl : public torch::nn::Module {
 public:
  explicit ClipMlpImpl(const ClipTextConfig& c) : act_(c.hidden_act) {
    fc1_ = register_module("fc1", torch::nn::Linear(c.hidden_size, c.intermediate_size));
    fc2_ = register_module("fc2", torch::nn::Linear(c.intermediate_size, c.hidden_size));
  }

  torch::Tensor forward(const torch::Tensor& x) {
    torch::Tensor h = fc1_(x);
    if (act_ == ClipActivation::kQuickGelu) {
      h = h * torch::sigmoid(1.702 * h);  // QuickGELU, the approximation OpenAI's CLIP uses
    } else {
      h = torch::gelu(h);  // exact (erf) GELU, transformers' "gelu"
    }
    return fc2_(h);
  }

 private:
  ClipActivation act_;
  torch::nn::Linear fc1_{nullptr}, fc2_{nullptr};
};
TORCH_MODULE(ClipMlp);

// transformers CLIPEncoderLayer: pre-LayerNorm residual blocks (attention, then MLP).
class ClipEncoderLayerImpl : public torch::nn::Module {
 public:
  explicit ClipEncoderLayerImpl(const ClipTextConfig& c) {
    const auto ln = torch::nn::LayerNormOptions({c.hidden_size}).eps(c.layer_norm_eps);
    self_attn_ = register_module("self_attn", ClipAttention(c));
    layer_norm1_ = register_module("layer_norm1", torch::nn::LayerNorm(ln));
    mlp_ = register_module("mlp", ClipMlp(c));
    layer_norm2_ = register_module("layer_norm2", torch::nn::LayerNorm(ln));
  }

  torch::Tensor forward(const torch::Tensor& x, const torch::Tensor& allowed, bool causal_only) {
    torch::Tensor h =
        x + self_attn_(layer_norm1_(nn::NormInput(x, layer_norm1_->weight)), allowed, causal_only);
    return h + mlp_(layer_norm2_(nn::NormInput(h, layer_norm2_->weight)));
  }

 private:
  ClipAttention self_attn_{nullptr};
  torch::nn::LayerNorm layer_norm1_{nullptr};
  ClipMlp mlp_{nullptr};
  torch::nn::LayerNorm layer_norm2_{nullptr};
};
TORCH_MODULE(ClipEncoderLayer);

// transformers CLIPEncoder: the layer stack; only holds the "layers" list.
class ClipEncoderImpl : public torch::nn::Module {
 public:
  explicit ClipEncoderImpl(const ClipTextConfig& c) {
    layers_ = register_module("layers", torch::nn::ModuleList());
    for (int64_t i = 0; i < c.num_hidden_layers; ++i) layers_->push_back(ClipEncoderLayer(c));
  }
  torch::nn::ModuleList& layers() { return layers_; }

 private:
  torch::nn::ModuleList layers_{nullptr};
};
TORCH_MODULE(ClipEncoder);

}  // namespace clip_text_detail

using clip_text_detail::ClipEncoder;
using clip_text_detail::ClipEncoderLayer;
using clip_text_detail::ClipTextEmbeddings;

// transformers CLIPTextTransformer: embeddings, encoder, final LayerNorm, EOS pooling.
class ClipTextTransformerImpl : public torch::nn::Module {
 public:
  explicit ClipTextTransformerImpl(const ClipTextConfig& c) : config_(c) {
    embeddings_ = register_module("embeddings", ClipTextEmbeddings(c));
    encoder_ = register_module("encoder", ClipEncoder(c));
    final_layer_norm_ = register_module(
        "final_layer_norm",
        torch::nn::LayerNorm(torch::nn::LayerNormOptions({c.hidden_size}).eps(c.layer_norm_eps)));
  }

  ClipTextOutput forward(const torch::Tensor& input_ids,
                         const std::optional<torch::Tensor>& attention_mask) {
    TORCH_CHECK(input_ids.dim() == 2, "input_ids must be [batch, length], got ", input_ids.sizes());
    const torch::Device device = final_layer_norm_->weight.device();
    const torch::Tensor ids = input_ids.to(device, torch::kLong);
    const int64_t b = ids.size(0), l = ids.size(1);

    // Causal mask always (CLIP's text tower is autoregressive); the padding mask only when given.
    torch::Tensor allowed =
        torch::ones({l, l}, torch::dtype(torch::kBool).device(device)).tril().view({1, 1, l, l});
    const bool causal_only = !attention_mask.has_value() || !attention_mask->defined();
    if (!causal_only) {
      TORCH_CHECK(attention_mask->sizes() == ids.sizes(), "attention_mask must have shape ",
                  ids.sizes(), ", got ", attention_mask->sizes());
      const torch::Tensor keys = attention_mask->to(device).ne(0).view({b, 1, 1, l});
      allowed = allowed.logical_and(keys);
    }

    ClipTextOutput out;
    out.hidden_states.reserve(config_.num_hidden_layers + 1);
    torch::Tensor h = embeddings_(ids);
    out.hidden_states.push_back(h);
    for (const auto& layer : *encoder_->layers()) {
      h = layer->as<ClipEncoderLayer>()->forward(h, allowed, causal_only);
      out.hidden_states.push_back(h);
    }
    out.last_hidden_state = final_layer_norm_(nn::NormInput(h, final_layer_norm_->weight));

    torch::Tensor eos_positions;
    if (config_.eos_token_id == 2) {
      // Legacy configs: EOS (49407) is the largest id, so argmax finds the first EOS.
      eos_positions = ids.argmax(-1);
    } else {
      eos_positions = ids.eq(config_.eos_token_id).to(torch::kInt).argmax(-1);
    }
    out.pooler_output = out.last_hidden_state.index(
        {torch::arange(b, torch::dtype(torch::kLong).device(device)), eos_positions});
    return out;
  }

  torch::Tensor FinalLayerNorm(const torch::Tensor& x) {
    return final_layer_norm_(nn::NormInput(x, final_layer_norm_->weight));
  }

 private:
  ClipTextConfig config_;
  ClipTextEmbeddings embeddings_{nullptr};
  ClipEncoder encoder_{nullptr};
  torch::nn::LayerNorm final_layer_norm_{nullptr};
};

}  // namespace internal

ClipTextModelImpl::ClipTextModelImpl(const ClipTextConfig& config) : config_(config) {
  text_model_ =
      register_module("text_model", std::make_shared<internal::ClipTextTransformerImpl>(config));
}

ClipTextOutput ClipTextModelImpl::forward(const torch::Tensor& input_ids,
                                          const std::optional<torch::Tensor>& attention_mask) {
  return text_model_->forward(input_ids, attention_mask);
}

absl::StatusOr<ClipTextOutput> ClipTextModelImpl::Forward(
    const torch::Tensor& input_ids, const std::optional<torch::Tensor>& attention_mask) {
  if (!input_ids.defined() || input_ids.dim() != 2 || input_ids.size(0) < 1 ||
      input_ids.size(1) < 1) {
    return absl::InvalidArgumentError(
        absl::StrCat("CLIP text model: input_ids must be a non-empty [batch, length] tensor, got ",
                     input_ids.defined() ? c10::str(input_ids.sizes()) : std::string("undefined")));
  }
  if (!c10::isIntegralType(input_ids.scalar_type(), /*includeBool=*/false)) {
    return absl::InvalidArgumentError(
        absl::StrCat("CLIP text model: input_ids must be integer, got ",
                     c10::toString(input_ids.scalar_type())));
  }
  if (input_ids.size(1) > config_.max_position_embeddings) {
    return absl::InvalidArgumentError(
        absl::StrCat("CLIP text model: input_ids length ", input_ids.size(1),
                     " exceeds max_position_embeddings ", config_.max_position_embeddings));
  }
  if (attention_mask.has_value() && attention_mask->defined() &&
      attention_mask->sizes() != input_ids.sizes()) {
    return absl::InvalidArgumentError(
        absl::StrCat("CLIP text model: attention_mask shape ", c10::str(attention_mask->sizes()),
                     " differs from input_ids shape ", c10::str(input_ids.sizes())));
  }
  return TorchGuard("CLIP text model forward", [&]() -> absl::StatusOr<ClipTextOutput> {
    torch::NoGradGuard no_grad;
    // Out-of-range ids would be a device-side assert on CUDA; check them first.
    const int64_t lo = input_ids.min().item<int64_t>(), hi = input_ids.max().item<int64_t>();
    if (lo < 0 || hi >= config_.vocab_size) {
      return absl::InvalidArgumentError(absl::StrCat("CLIP text model: input_ids must be in [0, ",
                                                     config_.vocab_size, "), got [", lo, ", ", hi,
                                                     "]"));
    }
    return forward(input_ids, attention_mask);
  });
}

absl::StatusOr<torch::Tensor> ClipTextModelImpl::ClipSkip(const ClipTextOutput& output,
                                                          int64_t clip_skip) {
  const int64_t layers = config_.num_hidden_layers;
  if (clip_skip < 0 || clip_skip > layers) {
    return absl::InvalidArgumentError(
        absl::StrCat("clip_skip must be in [0, ", layers, "], got ", clip_skip));
  }
  if (static_cast<int64_t>(output.hidden_states.size()) != layers + 1) {
    return absl::InvalidArgumentError(absl::StrCat(
        "clip_skip needs ", layers + 1, " hidden states, got ", output.hidden_states.size()));
  }
  if (clip_skip == 0) return output.last_hidden_state;
  return TorchGuard("CLIP text model clip_skip", [&] {
    torch::NoGradGuard no_grad;
    return text_model_->FinalLayerNorm(output.hidden_states[layers - clip_skip]);
  });
}

absl::StatusOr<ClipTextModel> LoadClipTextModel(const std::filesystem::path& text_encoder_dir,
                                                torch::Device device, torch::ScalarType dtype) {
  LDM_RETURN_IF_ERROR(CheckFloatingDtype("ClipTextModel", dtype));
  LDM_ASSIGN_OR_RETURN(ModelConfig model_config,
                       ModelConfig::FromFile(text_encoder_dir / "config.json"));
  LDM_ASSIGN_OR_RETURN(ClipTextConfig config, ClipTextConfig::FromModelConfig(model_config));
  // position_ids is a buffer older transformers versions saved; ldm uses arange(L).
  return LoadModuleFromFolder<ClipTextModel>(
      "ClipTextModel", text_encoder_dir, config, device, dtype,
      {.ignore_unexpected = {"text_model.embeddings.position_ids"}});
}

}  // namespace ldm
