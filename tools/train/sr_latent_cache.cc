#include "tools/train/sr_latent_cache.h"

#include <spdlog/spdlog.h>
#include <torch/serialize.h>
#include <torch/torch.h>

#include "absl/strings/str_format.h"
#include "core/common/status_macros.h"
#include "core/common/torch_guard.h"
#include "tools/train/stop_signal.h"

namespace ldm::train {
namespace fs = std::filesystem;

absl::StatusOr<SrLatentCache> SrLatentCache::Build(const SrLatentCacheOptions& o,
                                                   const SrPairBuilder& builder, AutoencoderKL& vae,
                                                   const fs::path& dir, torch::Device device) {
  fs::create_directories(dir);
  vae->eval();
  std::vector<torch::Tensor> means, stds, lows;
  for (int64_t begin = 0, chunk = 0; begin < o.size; begin += o.chunk_size, ++chunk) {
    const int64_t end = std::min(o.size, begin + o.chunk_size);
    const fs::path file = dir / absl::StrFormat("sr-chunk-%04d-%d.pt", chunk, end - begin);
    std::vector<torch::Tensor> tensors;
    if (fs::exists(file)) {
      LDM_RETURN_IF_ERROR(TorchGuard("loading the SR latent cache",
                                     [&]() { torch::load(tensors, file.string()); }));
    } else {
      if (StopSignal::Requested()) {
        return absl::CancelledError("stopped while building the SR latent cache");
      }
      LDM_RETURN_IF_ERROR(TorchGuard("encoding the SR latent cache", [&]() {
        torch::NoGradGuard no_grad;
        std::vector<torch::Tensor> m, s, l;
        for (int64_t b = begin; b < end; b += o.encode_batch) {
          const int64_t n = std::min(o.encode_batch, end - b);
          std::vector<uint64_t> keys(n);
          for (int64_t i = 0; i < n; ++i) keys[i] = static_cast<uint64_t>(b + i);
          SrPairBatch batch = builder.Build(keys);
          DiagonalGaussian post = vae->Encode(batch.images.to(device));
          m.push_back(post.mean.to(torch::kCPU, torch::kFloat32));
          s.push_back(post.std.to(torch::kCPU, torch::kFloat32));
          l.push_back(batch.low_res);
        }
        tensors = {torch::cat(m), torch::cat(s), torch::cat(l)};
        const fs::path tmp = fs::path(file.string() + ".tmp");
        torch::save(tensors, tmp.string());
        fs::rename(tmp, file);
      }));
      spdlog::info("sr latent cache: encoded {}/{}", end, o.size);
    }
    if (tensors.size() != 3)
      return absl::DataLossError("malformed SR latent cache chunk " + file.string());
    means.push_back(tensors[0]);
    stds.push_back(tensors[1]);
    lows.push_back(tensors[2]);
  }
  SrLatentCache cache;
  LDM_RETURN_IF_ERROR(TorchGuard("assembling the SR latent cache", [&]() {
    cache.mean = torch::cat(means);
    cache.std = torch::cat(stds);
    cache.low_res = torch::cat(lows);
  }));
  return cache;
}

}  // namespace ldm::train
