#include "tests/testing/tiny_classifier_model.h"

#include <torch/torch.h>

#include <fstream>
#include <map>
#include <string>

#include "absl/strings/str_cat.h"
#include "core/common/status_macros.h"
#include "core/common/torch_guard.h"
#include "core/io/safetensors_writer.h"
#include "core/io/state_dict_loader.h"
#include "core/nn/noisy_latent_classifier.h"

namespace ldm::testing {

absl::Status WriteRandomClassifier(const std::filesystem::path& dir, int in_channels,
                                   int num_classes, uint64_t seed) {
  NoisyLatentClassifierConfig config;
  config.in_channels = in_channels;
  config.num_classes = num_classes;
  config.block_out_channels = {8, 16};
  config.norm_num_groups = 4;
  return TorchGuard("random classifier", [&]() -> absl::Status {
    torch::manual_seed(seed);
    NoisyLatentClassifier model(config);
    std::filesystem::create_directories(dir);
    std::map<std::string, torch::Tensor> weights;
    for (auto& [name, tensor] : StateDictOf(*model)) weights[name] = tensor.contiguous();
    LDM_RETURN_IF_ERROR(WriteSafeTensors(dir / "diffusion_pytorch_model.safetensors", weights));
    std::ofstream(dir / "config.json") << config.ToJson().dump(2) << "\n";
    return absl::OkStatus();
  });
}

absl::Status CopyModelWithRandomClassifier(const std::filesystem::path& source,
                                           const std::filesystem::path& dest, int in_channels,
                                           int num_classes, uint64_t seed) {
  std::error_code ec;
  std::filesystem::remove_all(dest, ec);
  std::filesystem::create_directories(dest.parent_path(), ec);
  std::filesystem::copy(source, dest, std::filesystem::copy_options::recursive, ec);
  if (ec) {
    return absl::InternalError(
        absl::StrCat("copying ", source.string(), " to ", dest.string(), ": ", ec.message()));
  }
  return WriteRandomClassifier(dest / "classifier", in_channels, num_classes, seed);
}

}  // namespace ldm::testing
