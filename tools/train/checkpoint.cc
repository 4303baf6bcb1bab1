#include "tools/train/checkpoint.h"

#include <torch/serialize.h>
#include <torch/torch.h>

#include <algorithm>
#include <fstream>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "core/common/status_macros.h"
#include "core/common/torch_guard.h"
#include "core/io/safetensors_file.h"
#include "core/io/safetensors_writer.h"
#include "core/io/state_dict_loader.h"

namespace ldm::train {
namespace fs = std::filesystem;
namespace {

absl::Status WriteTextAtomically(const fs::path& path, const std::string& text) {
  const fs::path tmp = fs::path(path.string() + ".tmp");
  {
    std::ofstream out(tmp, std::ios::trunc);
    out << text;
    out.flush();
    if (!out) return absl::InternalError(absl::StrCat("cannot write ", tmp.string()));
  }
  std::error_code ec;
  fs::rename(tmp, path, ec);
  if (ec)
    return absl::InternalError(
        absl::StrCat("cannot rename to ", path.string(), ": ", ec.message()));
  return absl::OkStatus();
}

}  // namespace

Checkpoint::Checkpoint(fs::path dir, int keep) : dir_(std::move(dir)), keep_(std::max(1, keep)) {}

absl::Status Checkpoint::Save(int64_t step, const torch::nn::Module& module,
                              torch::optim::Optimizer& optimizer, const EmaWeights* ema,
                              nlohmann::json state) const {
  const std::string name = absl::StrFormat("step-%08d", step);
  const fs::path folder = dir_ / name;
  std::error_code ec;
  fs::create_directories(folder, ec);
  if (ec) return absl::InternalError(absl::StrCat("cannot create ", folder.string()));
  LDM_RETURN_IF_ERROR(WriteSafeTensors(folder / "weights.safetensors", StateDictOf(module)));
  if (ema != nullptr) LDM_RETURN_IF_ERROR(ema->Save(folder / "ema.safetensors"));
  LDM_RETURN_IF_ERROR(TorchGuard("saving the optimizer state", [&]() {
    torch::save(optimizer, (folder / "optimizer.pt").string());
  }));
  state["step"] = step;
  LDM_RETURN_IF_ERROR(WriteTextAtomically(folder / "state.json", state.dump(2)));
  LDM_RETURN_IF_ERROR(WriteTextAtomically(dir_ / "LATEST", name));

  // Prune: keep the newest `keep_` step folders (names sort by step).
  std::vector<fs::path> all;
  for (const auto& entry : fs::directory_iterator(dir_)) {
    if (entry.is_directory() && entry.path().filename().string().rfind("step-", 0) == 0) {
      all.push_back(entry.path());
    }
  }
  std::sort(all.begin(), all.end());
  for (size_t i = 0; i + keep_ < all.size(); ++i) fs::remove_all(all[i], ec);
  return absl::OkStatus();
}

std::optional<fs::path> Checkpoint::Latest() const {
  std::ifstream in(dir_ / "LATEST");
  std::string name;
  if (!(in >> name)) return std::nullopt;
  const fs::path folder = dir_ / name;
  if (!fs::exists(folder / "state.json")) return std::nullopt;
  return folder;
}

absl::StatusOr<nlohmann::json> Checkpoint::Restore(torch::nn::Module& module,
                                                   torch::optim::Optimizer& optimizer,
                                                   EmaWeights* ema) const {
  std::optional<fs::path> folder = Latest();
  if (!folder.has_value()) {
    return absl::NotFoundError(absl::StrCat("no checkpoint in ", dir_.string()));
  }
  LDM_ASSIGN_OR_RETURN(std::shared_ptr<const SafeTensorsFile> weights,
                       SafeTensorsFile::Open(*folder / "weights.safetensors"));
  LDM_RETURN_IF_ERROR(LoadStateDict(module, *weights));
  if (ema != nullptr) LDM_RETURN_IF_ERROR(ema->Load(*folder / "ema.safetensors"));
  LDM_RETURN_IF_ERROR(TorchGuard("loading the optimizer state", [&]() {
    torch::load(optimizer, (*folder / "optimizer.pt").string());
  }));
  std::ifstream in(*folder / "state.json");
  nlohmann::json state = nlohmann::json::parse(in, nullptr, /*allow_exceptions=*/false);
  if (state.is_discarded() || !state.contains("step")) {
    return absl::InvalidArgumentError(
        absl::StrCat((*folder / "state.json").string(), " is malformed"));
  }
  return state;
}

}  // namespace ldm::train
