#include "tools/train/token_grounding.h"

#include <torch/torch.h>

#include <cmath>

#include "absl/strings/match.h"
#include "absl/strings/str_split.h"
#include "tools/shapes/shapes_types.h"

namespace ldm::train {
namespace {
constexpr absl::string_view kWordEnd = "</w>";
}  // namespace

TokenGrounding::TokenGrounding(const ClipTokenizer& tokenizer) : tokenizer_(&tokenizer) {
  using namespace shapes;  // NOLINT: the caption grammar's word lists
  for (int c = 0; c < kNumColors; ++c) {
    object_words_[std::string(ColorName(static_cast<Color>(c)))] =
        ColorLabel(static_cast<Color>(c));
  }
  for (int s = 0; s < kNumShapes; ++s) object_words_[std::string(ShapeName(static_cast<Shape>(s)))] = 0;
  for (int s = 0; s < kNumSizes; ++s) object_words_[std::string(SizeName(static_cast<Size>(s)))] = 0;
  for (int p = 0; p < kNumPositions; ++p) {
    const std::string_view name = PositionName(static_cast<Position>(p));
    for (absl::string_view w : absl::StrSplit(absl::string_view(name.data(), name.size()), ' ')) {
      object_words_[std::string(w)] = 0;
    }
  }
}

TokenGrounding::Word TokenGrounding::Classify(const std::string& word, int* color_label) const {
  if (word == "and") return Word::kSeparator;
  auto it = object_words_.find(word);
  if (it == object_words_.end()) return Word::kOther;
  *color_label = it->second;
  return Word::kObject;
}

TokenGrounding::Assignment TokenGrounding::Assign(const torch::Tensor& token_ids) const {
  TORCH_CHECK(token_ids.dim() == 2, "TokenGrounding: token ids must be [N, L], got ",
              token_ids.sizes());
  const int64_t n = token_ids.size(0), len = token_ids.size(1);
  torch::Tensor ids = token_ids.to(torch::kCPU, torch::kInt64).contiguous();
  Assignment out;
  out.token_object = torch::full({n, len}, -1, torch::kInt64);
  out.object_label = torch::zeros({n, kMaxObjects}, torch::kInt64);
  auto id = ids.accessor<int64_t, 2>();
  auto obj = out.token_object.accessor<int64_t, 2>();
  auto lab = out.object_label.accessor<int64_t, 2>();
  const int64_t bos = tokenizer_->bos_id(), eos = tokenizer_->eos_id();
  for (int64_t r = 0; r < n; ++r) {
    int part = 0;
    std::string word;
    std::vector<int64_t> word_tokens;
    for (int64_t j = 0; j < len; ++j) {
      const int64_t t = id[r][j];
      if (t == bos) continue;
      if (t == eos) break;
      std::string piece = tokenizer_->IdToToken(t);
      word_tokens.push_back(j);
      const bool ends = absl::EndsWith(piece, kWordEnd);
      word += ends ? piece.substr(0, piece.size() - kWordEnd.size()) : piece;
      if (!ends) continue;
      int color = 0;
      const Word kind = Classify(word, &color);
      if (kind == Word::kSeparator) {
        ++part;
      } else if (kind == Word::kObject && part < kMaxObjects) {
        for (int64_t k : word_tokens) obj[r][k] = part;
        if (color > 0) lab[r][part] = color;
      }
      word.clear();
      word_tokens.clear();
    }
    // A part without a color word has no mask: its words stay ungrounded.
    for (int64_t j = 0; j < len; ++j) {
      if (obj[r][j] >= 0 && lab[r][obj[r][j]] == 0) obj[r][j] = -1;
    }
  }
  return out;
}

torch::Tensor TokenGrounding::ObjectMasks(const torch::Tensor& map_counts,
                                          const torch::Tensor& object_label) {
  TORCH_CHECK(map_counts.dim() == 4 && object_label.dim() == 2 &&
                  object_label.size(0) == map_counts.size(0) &&
                  object_label.size(1) == kMaxObjects,
              "TokenGrounding: map counts [B, K, h, w] and object labels [B, ", kMaxObjects,
              "] expected, got ", map_counts.sizes(), " and ", object_label.sizes());
  const int64_t b = map_counts.size(0), h = map_counts.size(2), w = map_counts.size(3);
  torch::Tensor present = map_counts.gt(0).to(torch::kFloat32);  // [B, K, h, w]
  torch::Tensor label = object_label.to(map_counts.device(), torch::kInt64);
  torch::Tensor gathered =
      present.gather(1, label.view({b, kMaxObjects, 1, 1}).expand({b, kMaxObjects, h, w}));
  return gathered * label.gt(0).to(torch::kFloat32).view({b, kMaxObjects, 1, 1});
}

torch::Tensor TokenGrounding::Loss(const std::vector<torch::Tensor>& probabilities,
                                   const torch::Tensor& token_object,
                                   const torch::Tensor& object_masks) {
  TORCH_CHECK(!probabilities.empty(), "TokenGrounding: no attention maps");
  TORCH_CHECK(object_masks.dim() == 4 && object_masks.size(1) == kMaxObjects,
              "TokenGrounding: object masks must be [B, ", kMaxObjects, ", h, w], got ",
              object_masks.sizes());
  const int64_t b = object_masks.size(0), h = object_masks.size(2), w = object_masks.size(3);
  const torch::Device device = probabilities[0].device();
  torch::Tensor tok = token_object.to(device, torch::kInt64);
  TORCH_CHECK(tok.dim() == 2 && tok.size(0) == b, "TokenGrounding: token_object must be [", b,
              ", L], got ", tok.sizes());
  // One-hot token -> object [B, L, kMaxObjects]; ungrounded tokens are all zero.
  torch::Tensor onehot =
      torch::one_hot(tok.clamp_min(0), kMaxObjects).to(torch::kFloat32) *
      tok.ge(0).to(torch::kFloat32).unsqueeze(-1);
  torch::Tensor grounded = onehot.sum(-1);  // [B, L]
  torch::Tensor count = grounded.sum().clamp_min(1.0);
  torch::Tensor masks = object_masks.to(device, torch::kFloat32);
  torch::Tensor total;
  for (const torch::Tensor& p : probabilities) {
    TORCH_CHECK(p.dim() == 4 && p.size(0) == b && p.size(3) == tok.size(1),
                "TokenGrounding: attention maps must be [", b, ", heads, Lq, ", tok.size(1),
                "], got ", p.sizes());
    const int64_t lq = p.size(2);
    const int64_t factor =
        std::lround(std::sqrt(static_cast<double>(h * w) / static_cast<double>(lq)));
    TORCH_CHECK(factor >= 1 && h % factor == 0 && w % factor == 0 &&
                    (h / factor) * (w / factor) == lq,
                "TokenGrounding: ", lq, " query locations do not tile the ", h, "x", w,
                " masks");
    torch::Tensor m = factor == 1 ? masks : torch::max_pool2d(masks, factor);
    torch::Tensor token_mask = torch::bmm(onehot, m.reshape({b, kMaxObjects, lq}));  // [B, L, Lq]
    torch::Tensor a = p.to(torch::kFloat32).mean(1).transpose(1, 2);                  // [B, L, Lq]
    torch::Tensor inside = (a * token_mask).sum(-1);
    torch::Tensor frac = inside / (a.sum(-1) + 1e-6);
    torch::Tensor layer = ((1.0 - frac).pow(2) * grounded).sum() / count;
    total = total.defined() ? total + layer : layer;
  }
  return total / static_cast<double>(probabilities.size());
}

}  // namespace ldm::train
