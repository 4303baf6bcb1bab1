// The CLIP text transformer that conditions Stable Diffusion (transformers' `CLIPTextModel`).
//
// Architecture (Radford et al. 2021, "Learning Transferable Visual Models From Natural Language
// Supervision"; transformers.models.clip.modeling_clip): token + learned position embeddings, a
// stack of pre-LayerNorm transformer encoder layers with causal self-attention and an MLP
// (quick_gelu or gelu), and a final LayerNorm. The pooled output is the final state at the EOS
// position.
//
// Parameter names equal the checkpoint keys of text_encoder/model.safetensors
// ("text_model.embeddings.token_embedding.weight", ...): ClipTextModelImpl has one child,
// "text_model". The non-persistent `text_model.embeddings.position_ids` buffer is not registered
// (positions are arange(L)) and is ignored when a file has it.
//
// Thread safety: forward()/Forward() do not modify the module and may run concurrently on one
// instance. Loading and to() must not overlap with them.
// Errors: forward() throws c10::Error like any torch module; Forward(), ClipSkip() and the loader
// catch those and return absl::Status.
#pragma once

#include <torch/nn/module.h>
#include <torch/nn/pimpl.h>
#include <torch/types.h>

#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "core/io/model_config.h"

namespace ldm {

enum class ClipActivation { kQuickGelu, kGelu };

// The fields of transformers' CLIPTextConfig that change the computation. Defaults are
// CLIPTextConfig's (a config.json written with use_diff=True omits fields equal to them).
struct ClipTextConfig {
  int64_t vocab_size = 49408;
  int64_t hidden_size = 512;
  int64_t intermediate_size = 2048;
  int64_t num_hidden_layers = 12;
  int64_t num_attention_heads = 8;
  int64_t max_position_embeddings = 77;
  ClipActivation hidden_act = ClipActivation::kQuickGelu;
  double layer_norm_eps = 1e-5;
  // 2 is the legacy value of SD's configs: the pooler then takes argmax(input_ids) (the EOS token
  // has the largest id in CLIP's vocabulary). Otherwise the first position equal to this id.
  int64_t eos_token_id = 49407;

  // Validates sizes (positive, hidden_size divisible by num_attention_heads) and returns
  // INVALID_ARGUMENT naming the config file and field; an unsupported hidden_act is UNIMPLEMENTED.
  static absl::StatusOr<ClipTextConfig> FromModelConfig(const ModelConfig& config);
};

struct ClipTextOutput {
  torch::Tensor last_hidden_state;  // [B, L, H], after final_layer_norm
  torch::Tensor pooler_output;      // [B, H], last_hidden_state at the EOS position
  // num_hidden_layers + 1 tensors [B, L, H]: [0] the embeddings, [i] the output of layer i
  // (before final_layer_norm).
  std::vector<torch::Tensor> hidden_states;
};

namespace internal {
class ClipTextTransformerImpl;
}  // namespace internal

class ClipTextModelImpl : public torch::nn::Module {
 public:
  explicit ClipTextModelImpl(const ClipTextConfig& config);

  // input_ids: [B, L] integer ids with L <= max_position_embeddings, on any device (moved to the
  // module's). attention_mask: optional [B, L], nonzero = attend; it is applied to the keys in
  // addition to the causal mask (SD pipelines do not pass one; with right padding the first
  // token is always visible, and rows with no visible key at all are unspecified). Outputs have
  // the module's dtype and device. Throws on bad shapes.
  ClipTextOutput forward(const torch::Tensor& input_ids,
                         const std::optional<torch::Tensor>& attention_mask = std::nullopt);

  // forward() without autograd, with the inputs validated (2-D integer ids inside the vocabulary
  // and the position table, a mask of the same shape); INVALID_ARGUMENT for bad inputs, INTERNAL
  // or RESOURCE_EXHAUSTED for torch failures.
  absl::StatusOr<ClipTextOutput> Forward(
      const torch::Tensor& input_ids,
      const std::optional<torch::Tensor>& attention_mask = std::nullopt);

  // diffusers' `clip_skip`: 0 gives last_hidden_state; k >= 1 gives
  // final_layer_norm(hidden_states[num_hidden_layers - k]), so k = 1 is the penultimate layer.
  // INVALID_ARGUMENT when k is outside [0, num_hidden_layers] or `output` has the wrong number of
  // hidden states.
  absl::StatusOr<torch::Tensor> ClipSkip(const ClipTextOutput& output, int64_t clip_skip);

  const ClipTextConfig& config() const { return config_; }

 private:
  ClipTextConfig config_;
  std::shared_ptr<internal::ClipTextTransformerImpl> text_model_;
};
TORCH_MODULE(ClipTextModel);

// Loads `<text_encoder_dir>/config.json` and `model.safetensors` onto `device` in `dtype`
// (floating point). Loading is strict: missing, unexpected (other than position_ids) and
// mis-shaped keys are an INVALID_ARGUMENT error listing them. The module is in eval mode.
absl::StatusOr<ClipTextModel> LoadClipTextModel(const std::filesystem::path& text_encoder_dir,
                                                torch::Device device,
                                                torch::ScalarType dtype = torch::kFloat32);

}  // namespace ldm
