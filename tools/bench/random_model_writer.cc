#include "tools/bench/random_model_writer.h"

#include <torch/torch.h>

#include <cmath>
#include <cstdlib>
#include <fstream>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "core/common/status_macros.h"
#include "core/common/torch_guard.h"
#include "core/io/json_reader.h"
#include "tools/train/model_exporter.h"
#include "tools/train/toy_model_configs.h"

namespace ldm::bench {
namespace fs = std::filesystem;
namespace {

// CLIP's special tokens in the shared tokenizer (<|startoftext|>, <|endoftext|>).
constexpr int64_t kClipBos = 49406;
constexpr int64_t kClipEos = 49407;

// The configs of Stable Diffusion 1.5 (runwayml/stable-diffusion-v1-5: unet/, vae/ and
// text_encoder/ config.json).
train::ToyModelConfigs Sd15() {
  train::ToyModelConfigs m;
  m.unet = UNet2DConditionConfig();  // the defaults are SD 1.x's except cross_attention_dim
  m.unet.cross_attention_dim = {768, 768, 768, 768};
  m.unet.sample_size = 64;
  m.vae.block_out_channels = {128, 256, 512, 512};
  m.vae.down_block_types.assign(4, "DownEncoderBlock2D");
  m.vae.up_block_types.assign(4, "UpDecoderBlock2D");
  m.vae.layers_per_block = 2;
  m.vae.latent_channels = 4;
  m.vae.norm_num_groups = 32;
  m.vae.scaling_factor = 0.18215;
  m.vae.sample_size = 512;
  m.text.vocab_size = 49408;
  m.text.hidden_size = 768;
  m.text.intermediate_size = 3072;
  m.text.num_hidden_layers = 12;
  m.text.num_attention_heads = 12;
  m.text.max_position_embeddings = 77;
  m.text.hidden_act = ClipActivation::kQuickGelu;
  m.text.eos_token_id = 2;  // SD 1.5's legacy value: the pooler takes argmax(input_ids)
  // SD's noise schedule (scaled_linear 0.00085..0.012 over 1000 steps, steps_offset 1).
  m.scheduler = train::ToyModelConfigs::Default().scheduler;
  return m;
}

// The toy architectures read prompts with the CLIP vocabulary (49408 tokens), truncated to the
// shipped model's 32 positions (its tokenizer's model_max_length), so that cross-attention costs
// what it costs in the shipped model.
train::ToyModelConfigs WithClipText(train::ToyModelConfigs m) {
  m.text.vocab_size = 49408;
  m.text.eos_token_id = kClipEos;
  return m;
}

// A copy of the CLIP tokenizer whose model_max_length is `max_length`, in `dir`.
absl::Status StageTokenizer(const fs::path& clip, int64_t max_length, const fs::path& dir) {
  std::error_code ec;
  fs::remove_all(dir, ec);
  fs::create_directories(dir, ec);
  if (ec) return absl::InternalError(absl::StrCat("cannot create ", dir.string()));
  for (const char* f : {"vocab.json", "merges.txt", "special_tokens_map.json"}) {
    fs::copy_file(clip / f, dir / f, fs::copy_options::overwrite_existing, ec);
    if (ec) {
      return absl::NotFoundError(
          absl::StrCat("cannot copy ", (clip / f).string(), ": ", ec.message()));
    }
  }
  LDM_ASSIGN_OR_RETURN(nlohmann::json config, ReadJsonFile(clip / "tokenizer_config.json"));
  config["model_max_length"] = max_length;
  std::ofstream out(dir / "tokenizer_config.json", std::ios::trunc);
  out << config.dump(2) << "\n";
  out.flush();
  if (!out) return absl::InternalError(absl::StrCat("cannot write ", dir.string()));
  return absl::OkStatus();
}

// LeCun normal for every weight of rank >= 2 (fan-in = elements per output unit); vectors keep
// their constructor values (norm weights 1, biases small), so normalised blocks see unit-scale
// activations and nothing overflows, also in float16.
void InitWeights(torch::nn::Module& module) {
  torch::NoGradGuard no_grad;
  for (auto& p : module.parameters()) {
    if (p.dim() < 2) continue;
    const double fan_in = static_cast<double>(p.numel() / p.size(0));
    p.normal_(0.0, 1.0 / std::sqrt(fan_in));
  }
}

train::LatentRgbFit RandomPreviewFactors(int64_t latent_channels) {
  train::LatentRgbFit fit;
  torch::Tensor f = torch::randn({latent_channels, 3}, torch::kFloat64) * 0.3;
  for (int64_t c = 0; c < latent_channels; ++c) {
    fit.factors.push_back({f[c][0].item<double>(), f[c][1].item<double>(), f[c][2].item<double>()});
  }
  fit.bias = {0.0, 0.0, 0.0};
  return fit;
}

}  // namespace

std::vector<std::string> RandomModelWriter::Archs() { return {"sd15", "toy", "tiny"}; }

fs::path RandomModelWriter::DefaultTokenizerDir() {
  if (const char* env = std::getenv("LDM_FIXTURES_DIR"); env != nullptr && *env != '\0') {
    return fs::path(env) / "tokenizer";
  }
  return fs::path(LDM_SOURCE_DIR) / ".." / "shared" / "fixtures" / "tokenizer";
}

absl::Status RandomModelWriter::Write(const MakeModelOptions& o) {
  train::ToyModelConfigs configs;
  if (o.arch == "sd15") {
    configs = Sd15();
  } else if (o.arch == "toy") {
    configs = WithClipText(train::ToyModelConfigs::Default());
  } else if (o.arch == "tiny") {
    configs = WithClipText(train::ToyModelConfigs::Tiny());
  } else {
    return absl::InvalidArgumentError(
        absl::StrCat("--arch '", o.arch, "' is not one of ", absl::StrJoin(Archs(), ", ")));
  }
  if (o.dtype != "fp32" && o.dtype != "fp16") {
    return absl::InvalidArgumentError(absl::StrCat("--dtype '", o.dtype, "' must be fp32 or fp16"));
  }
  if (o.out.empty()) return absl::InvalidArgumentError("--out is required");
  const fs::path tokenizer = o.tokenizer_dir.empty() ? DefaultTokenizerDir() : o.tokenizer_dir;
  if (!fs::exists(tokenizer / "vocab.json")) {
    return absl::NotFoundError(absl::StrCat("no CLIP tokenizer (vocab.json) in ",
                                            tokenizer.string(),
                                            "; pass --tokenizer DIR or set LDM_FIXTURES_DIR"));
  }
  const bool sd = o.arch == "sd15";
  train::ExportInputs in;
  in.tokenizer_dir = tokenizer;
  const fs::path staged = fs::path(o.out.string() + ".tmp-tokenizer");
  if (configs.text.max_position_embeddings != 77) {
    LDM_RETURN_IF_ERROR(StageTokenizer(tokenizer, configs.text.max_position_embeddings, staged));
    in.tokenizer_dir = staged;
  }
  in.scheduler = configs.scheduler;
  in.bos_token_id = sd ? 0 : kClipBos;  // as SD 1.5's text_encoder/config.json says
  in.pad_token_id = sd ? 1 : kClipEos;
  in.half_precision = o.dtype == "fp16";
  in.training = {{"random_weights", true}, {"arch", o.arch}, {"seed", o.seed}};
  LDM_RETURN_IF_ERROR(TorchGuard("make-model", [&]() {
    torch::manual_seed(o.seed);
    in.unet = UNet2DConditionModel(configs.unet);
    InitWeights(*in.unet);
    in.vae = AutoencoderKL(configs.vae);
    InitWeights(*in.vae);
    in.text_encoder = ClipTextModel(configs.text);
    InitWeights(*in.text_encoder);
    in.latent_rgb = RandomPreviewFactors(configs.vae.latent_channels);
  }));
  const absl::Status exported = train::ModelExporter::Export(in, o.out);
  std::error_code ignored;
  fs::remove_all(staged, ignored);
  LDM_RETURN_IF_ERROR(exported);
  if (sd) {
    // A plain diffusers folder, as Stable Diffusion ships: no classes, maps or preview factors.
    std::error_code ec;
    fs::remove(o.out / "ldm_model.json", ec);
    if (ec)
      return absl::InternalError(absl::StrCat("cannot remove ldm_model.json: ", ec.message()));
  }
  return absl::OkStatus();
}

}  // namespace ldm::bench
