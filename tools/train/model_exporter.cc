#include "tools/train/model_exporter.h"

#include <torch/torch.h>

#include <fstream>

#include "absl/strings/str_cat.h"
#include "core/common/status_macros.h"
#include "core/common/torch_guard.h"
#include "core/io/safetensors_writer.h"
#include "core/io/state_dict_loader.h"
#include "tools/shapes/shapes_dataset.h"
#include "tools/shapes/shapes_types.h"
#include "tools/train/diffusers_config_writer.h"
#include "tools/train/toy_model_configs.h"

namespace ldm::train {
namespace fs = std::filesystem;
namespace {

absl::Status WriteJson(const fs::path& path, const nlohmann::json& j) {
  std::ofstream out(path, std::ios::trunc);
  out << j.dump(2) << "\n";
  out.flush();
  if (!out) return absl::InternalError(absl::StrCat("cannot write ", path.string()));
  return absl::OkStatus();
}

std::map<std::string, torch::Tensor> Weights(const torch::nn::Module& m, bool half) {
  std::map<std::string, torch::Tensor> out = StateDictOf(m);
  for (auto& [name, t] : out) {
    t = t.to(torch::kCPU, half ? torch::kFloat16 : torch::kFloat32).contiguous();
  }
  return out;
}

// Replaces `out` by the complete folder `tmp`. Only an earlier export (or an empty folder) is
// replaced, never an arbitrary directory a mistyped --out points at.
absl::Status SwapIn(const fs::path& tmp, const fs::path& out) {
  std::error_code ec;
  if (fs::exists(out)) {
    if (!fs::exists(out / "model_index.json") && !fs::is_empty(out, ec)) {
      return absl::FailedPreconditionError(
          absl::StrCat(out.string(), " exists and is not a model folder; refusing to replace it"));
    }
    fs::remove_all(out, ec);
  }
  fs::create_directories(out.parent_path().empty() ? fs::path(".") : out.parent_path(), ec);
  fs::rename(tmp, out, ec);
  if (ec) return absl::InternalError(absl::StrCat("cannot move the export to ", out.string()));
  return absl::OkStatus();
}

// A fresh <out>.tmp-export with the given sub-folders.
absl::StatusOr<fs::path> MakeTmp(const fs::path& out, std::initializer_list<const char*> subs) {
  const fs::path tmp = fs::path(out.string() + ".tmp-export");
  std::error_code ec;
  fs::remove_all(tmp, ec);
  for (const char* sub : subs) {
    fs::create_directories(tmp / sub, ec);
    if (ec) return absl::InternalError(absl::StrCat("cannot create ", (tmp / sub).string()));
  }
  return tmp;
}

}  // namespace

nlohmann::json ModelExporter::SrExtras(const SrExportInputs& in) {
  return {{"low_res_image",
           {{"upscale_factor", in.upscale_factor},
            {"to_latent", "pixel_unshuffle"},
            {"back_projection", in.back_projection},
            {"init", "noised_input"}}},
          {"latent_rgb_factors", in.latent_rgb.factors},
          {"latent_rgb_bias", in.latent_rgb.bias},
          {"default_sampler", "ddim"},
          {"default_steps", in.default_steps},
          {"default_guidance_scale", 1.0},
          {"max_size", in.max_size},
          {"training", in.training}};
}

absl::Status ModelExporter::ExportSr(const SrExportInputs& in, const fs::path& out) {
  LDM_ASSIGN_OR_RETURN(const fs::path tmp, MakeTmp(out, {"unet", "vae", "scheduler"}));
  nlohmann::json index = DiffusersConfigWriter::ModelIndex();
  index["text_encoder"] = {nullptr, nullptr};
  index["tokenizer"] = {nullptr, nullptr};
  LDM_RETURN_IF_ERROR(WriteJson(tmp / "model_index.json", index));
  LDM_RETURN_IF_ERROR(WriteJson(tmp / "scheduler" / "scheduler_config.json", in.scheduler));
  LDM_RETURN_IF_ERROR(
      WriteJson(tmp / "unet" / "config.json", DiffusersConfigWriter::Unet(in.unet->config())));
  LDM_RETURN_IF_ERROR(
      WriteJson(tmp / "vae" / "config.json", DiffusersConfigWriter::Vae(in.vae->config())));
  LDM_RETURN_IF_ERROR(TorchGuard("exporting weights", [&]() -> absl::Status {
    LDM_RETURN_IF_ERROR(WriteSafeTensors(tmp / "unet" / "diffusion_pytorch_model.safetensors",
                                         Weights(*in.unet, in.half_precision), {{"format", "pt"}}));
    return WriteSafeTensors(tmp / "vae" / "diffusion_pytorch_model.safetensors",
                            Weights(*in.vae, false), {{"format", "pt"}});
  }));
  LDM_RETURN_IF_ERROR(WriteJson(tmp / "ldm_model.json", SrExtras(in)));
  return SwapIn(tmp, out);
}

nlohmann::json ModelExporter::Extras(const ExportInputs& in) {
  std::vector<std::string> labels = {"background"};
  for (int c = 0; c < shapes::kNumColors; ++c) {
    labels.emplace_back(shapes::ColorName(static_cast<shapes::Color>(c)));
  }
  return {{"class_names", shapes::ShapesDataset::ClassNames()},
          {"null_class_label", in.null_class_label},
          {"semantic_labels", labels},
          {"semantic_map_subcells", in.semantic_map_subcells},
          {"latent_rgb_factors", in.latent_rgb.factors},
          {"latent_rgb_bias", in.latent_rgb.bias},
          {"cfg_unconditional", {{"class", "null"}, {"semantic_map", "zero"}}},
          {"default_sampler", "ddim"},
          {"default_steps", in.default_steps},
          {"default_guidance_scale", in.default_guidance_scale},
          {"default_eta", in.default_eta},
          {"default_guidance_scale_map_only", in.default_guidance_scale_map_only},
          {"decode_latent_padding", in.decode_latent_padding},
          {"max_size", in.max_size},
          {"training", in.training}};
}

absl::Status ModelExporter::Export(const ExportInputs& in, const fs::path& out) {
  // The loader derives the map labels from in_channels and the sub-cells: they must agree.
  const int64_t r = in.semantic_map_subcells;
  const int64_t map_channels = kNumMapChannels * r * r;
  if (r < 1 || in.unet->config().in_channels != in.vae->config().latent_channels + map_channels) {
    return absl::InvalidArgumentError(
        absl::StrCat("export: the UNet's in_channels ", in.unet->config().in_channels,
                     " do not fit ", in.vae->config().latent_channels, " latent channels + ",
                     kNumMapChannels, " labels x semantic_map_subcells ", r, "^2"));
  }
  LDM_ASSIGN_OR_RETURN(const fs::path tmp,
                       MakeTmp(out, {"tokenizer", "text_encoder", "unet", "vae", "scheduler"}));
  std::error_code ec;
  for (const char* file :
       {"vocab.json", "merges.txt", "tokenizer_config.json", "special_tokens_map.json"}) {
    fs::copy_file(in.tokenizer_dir / file, tmp / "tokenizer" / file,
                  fs::copy_options::overwrite_existing, ec);
    if (ec) {
      return absl::NotFoundError(
          absl::StrCat("cannot copy ", (in.tokenizer_dir / file).string(), ": ", ec.message()));
    }
  }
  LDM_RETURN_IF_ERROR(WriteJson(tmp / "model_index.json", DiffusersConfigWriter::ModelIndex()));
  LDM_RETURN_IF_ERROR(WriteJson(tmp / "scheduler" / "scheduler_config.json", in.scheduler));
  LDM_RETURN_IF_ERROR(WriteJson(tmp / "text_encoder" / "config.json",
                                DiffusersConfigWriter::TextEncoder(
                                    in.text_encoder->config(), in.bos_token_id, in.pad_token_id)));
  LDM_RETURN_IF_ERROR(
      WriteJson(tmp / "unet" / "config.json", DiffusersConfigWriter::Unet(in.unet->config())));
  LDM_RETURN_IF_ERROR(
      WriteJson(tmp / "vae" / "config.json", DiffusersConfigWriter::Vae(in.vae->config())));
  LDM_RETURN_IF_ERROR(TorchGuard("exporting weights", [&]() -> absl::Status {
    LDM_RETURN_IF_ERROR(WriteSafeTensors(tmp / "text_encoder" / "model.safetensors",
                                         Weights(*in.text_encoder, in.half_precision),
                                         {{"format", "pt"}}));
    LDM_RETURN_IF_ERROR(WriteSafeTensors(tmp / "unet" / "diffusion_pytorch_model.safetensors",
                                         Weights(*in.unet, in.half_precision), {{"format", "pt"}}));
    return WriteSafeTensors(tmp / "vae" / "diffusion_pytorch_model.safetensors",
                            Weights(*in.vae, false), {{"format", "pt"}});
  }));
  LDM_RETURN_IF_ERROR(WriteJson(tmp / "ldm_model.json", Extras(in)));
  return SwapIn(tmp, out);
}

}  // namespace ldm::train
