// TokenGrounding: which caption tokens name which object of a shapes scene, and a loss that puts
// those tokens' cross-attention on the object's pixels.
//
// Why (docs/MODEL.md, "The text path"): trained on the denoising loss alone, the UNet never
// bound position words to places: "at the top left" and "at the bottom right" gave the same
// scenes, even with a text encoder that states every position perfectly and features that encode
// their own location (PositionProbe). Binding needs the queries of a location and the key of a
// word to align, which the denoising loss rewards only once the word's value already paints an
// object there. A loss on the attention maps themselves gives q . k a direct gradient. This is
// TokenCompose's token loss (Wang et al. 2024, "TokenCompose: Text-to-Image Diffusion with
// Token-level Supervision", eq. 3) on the dataset's exact object masks:
//   L = mean over cross-attention layers and grounded tokens of (1 - sum_{p in M} A_p / sum_p A_p)^2
// with A_p the head-averaged probability that location p attends to the token, M the object's
// cells. Applied at every timestep, t = T included, where the object's place can only come from
// the text: a position word ("left" in "a red circle on the left") is grounded on its object, so
// locations must learn to attend to the word that names them.
//
// Grounded words: the object words of the caption grammar (colors, shapes, sizes and the words of
// position names: top, bottom, left, right, center). "and" separates the objects (at most two);
// an object's mask is the label of the color word of its part (1 + color); background words,
// articles and other words are not grounded. Captions are read back from token ids with the
// tokenizer's vocabulary (a word ends with a "</w>" token), so cached token ids suffice.
//
// Thread safety: const methods are thread-safe. Errors: c10::Error on bad shapes.
#pragma once

#include <torch/types.h>

#include <string>
#include <unordered_map>
#include <vector>

#include "core/text/clip_tokenizer.h"

namespace ldm::train {

class TokenGrounding {
 public:
  static constexpr int kMaxObjects = 2;

  explicit TokenGrounding(const ClipTokenizer& tokenizer);

  struct Assignment {
    torch::Tensor token_object;  // [N, L] int64: the object (0, 1) a token names, -1: none
    torch::Tensor object_label;  // [N, kMaxObjects] int64: its label (1 + color), 0: no object
  };
  // token_ids [N, L] as the tokenizer encodes captions (bos, words, eos, padding).
  Assignment Assign(const torch::Tensor& token_ids) const;

  // Cells an object touches: map_counts [B, K, h, w] (pixels of each label per cell) and
  // object_label [B, kMaxObjects] -> [B, kMaxObjects, h, w] float, 1 where the cell has any pixel
  // of the object's label (all 0 for label 0).
  static torch::Tensor ObjectMasks(const torch::Tensor& map_counts,
                                   const torch::Tensor& object_label);

  // The loss above. probabilities: cross-attention maps [B, heads, Lq, L] of each layer, Lq a
  // square latent grid at the masks' resolution or coarser by an integer factor; token_object
  // [B, L] (-1 rows for examples without text); object_masks [B, kMaxObjects, h, w]. 0 (with a
  // gradient path) when no token is grounded.
  static torch::Tensor Loss(const std::vector<torch::Tensor>& probabilities,
                            const torch::Tensor& token_object, const torch::Tensor& object_masks);

 private:
  enum class Word { kOther, kObject, kSeparator };
  Word Classify(const std::string& word, int* color_label) const;

  const ClipTokenizer* tokenizer_;
  std::unordered_map<std::string, int> object_words_;  // word -> color label (0: not a color)
};

}  // namespace ldm::train
