#include "tools/train/latent_cache.h"

#include <spdlog/spdlog.h>
#include <torch/serialize.h>
#include <torch/torch.h>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "core/common/status_macros.h"
#include "core/common/torch_guard.h"
#include "tools/train/map_channels.h"
#include "tools/train/stop_signal.h"

namespace ldm::train {
namespace fs = std::filesystem;
namespace {

std::vector<torch::Tensor> EncodeChunk(const LatentCacheOptions& o, const BatchBuilder& builder,
                                       AutoencoderKL& vae, const ClipTokenizer& tokenizer,
                                       int64_t begin, int64_t end, torch::Device device) {
  torch::NoGradGuard no_grad;
  const int64_t f = vae->config().DownsampleFactor();
  std::vector<torch::Tensor> means, stds, ids, classes, maps;
  for (int64_t s = begin; s < end; s += o.encode_batch) {
    const int64_t n = std::min(o.encode_batch, end - s);
    std::vector<uint64_t> keys(n);
    for (int64_t i = 0; i < n; ++i) keys[i] = static_cast<uint64_t>(s + i);
    ImageBatch batch = builder.Build(keys);
    DiagonalGaussian post = vae->Encode(batch.images.to(device));
    means.push_back(post.mean.to(torch::kCPU, torch::kFloat32));
    stds.push_back(post.std.to(torch::kCPU, torch::kFloat32));
    maps.push_back(MapChannels::SubcellCounts(batch.labels, o.num_labels, f, o.map_subcells));
    std::vector<int64_t> flat;
    for (const std::string& caption : batch.captions) {
      ClipTokenizer::Encoding enc = tokenizer.Encode(caption);
      flat.insert(flat.end(), enc.input_ids.begin(), enc.input_ids.end());
    }
    ids.push_back(torch::tensor(flat, torch::kInt64).reshape({n, -1}));
    std::vector<int64_t> cls(batch.class_labels.begin(), batch.class_labels.end());
    classes.push_back(torch::tensor(cls, torch::kInt64));
  }
  return {torch::cat(means), torch::cat(stds), torch::cat(ids), torch::cat(classes),
          torch::cat(maps)};
}

}  // namespace

absl::StatusOr<LatentCache> LatentCache::Build(const LatentCacheOptions& o,
                                               const BatchBuilder& builder, AutoencoderKL& vae,
                                               const ClipTokenizer& tokenizer, const fs::path& dir,
                                               torch::Device device) {
  const int64_t f = vae->config().DownsampleFactor();
  if (o.map_subcells < 1 || f % o.map_subcells != 0) {
    return absl::InvalidArgumentError(absl::StrCat("latent cache: map sub-cells ", o.map_subcells,
                                                   " must divide the VAE's factor ", f));
  }
  if (!o.read_only) fs::create_directories(dir);
  vae->eval();
  std::vector<std::vector<torch::Tensor>> parts;
  for (int64_t begin = 0, chunk = 0; begin < o.size; begin += o.chunk_size, ++chunk) {
    const int64_t end = std::min(o.size, begin + o.chunk_size);
    const fs::path file = dir / absl::StrFormat("chunk-%04d-%d.pt", chunk, end - begin);
    std::vector<torch::Tensor> tensors;
    if (fs::exists(file)) {
      LDM_RETURN_IF_ERROR(
          TorchGuard("loading the latent cache", [&]() { torch::load(tensors, file.string()); }));
    } else if (o.read_only) {
      return absl::FailedPreconditionError(
          absl::StrCat("latent cache ", file.string(),
                       " is missing; run the diffusion stage (with the same --cache-size) first"));
    } else {
      if (StopSignal::Requested()) return absl::CancelledError("stopped while building the cache");
      LDM_RETURN_IF_ERROR(TorchGuard("encoding the latent cache", [&]() {
        tensors = EncodeChunk(o, builder, vae, tokenizer, begin, end, device);
        const fs::path tmp = fs::path(file.string() + ".tmp");
        torch::save(tensors, tmp.string());
        fs::rename(tmp, file);
      }));
      spdlog::info("latent cache: encoded {}/{}", end, o.size);
    }
    parts.push_back(std::move(tensors));
  }
  LatentCache cache;
  LDM_RETURN_IF_ERROR(TorchGuard("assembling the latent cache", [&]() {
    std::vector<torch::Tensor> cols[5];
    for (auto& p : parts) {
      TORCH_CHECK(p.size() == 5, "malformed latent cache chunk");
      for (int k = 0; k < 5; ++k) cols[k].push_back(p[k]);
    }
    cache.mean = torch::cat(cols[0]);
    cache.std = torch::cat(cols[1]);
    cache.token_ids = torch::cat(cols[2]);
    cache.class_label = torch::cat(cols[3]);
    cache.map_counts = torch::cat(cols[4]);
  }));
  const int64_t map_h = cache.map_counts.size(2), latent_h = cache.mean.size(2);
  if (map_h != latent_h * o.map_subcells) {
    return absl::FailedPreconditionError(absl::StrCat(
        "latent cache ", dir.string(), " stores maps with ", map_h / latent_h,
        " sub-cells per latent cell side; --map-subcells ", o.map_subcells, " needs ",
        o.map_subcells, ": use another work dir (or remove ", dir.string(), " to re-encode)"));
  }
  cache.map_subcells = o.map_subcells;
  cache.pixels_per_cell = (f / o.map_subcells) * (f / o.map_subcells);
  return cache;
}

}  // namespace ldm::train
