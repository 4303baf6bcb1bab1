// DiffusersConfigWriter: the config.json files diffusers / transformers would write for ldm's
// module configs (diffusers 0.27.2, transformers 4.38 key sets, all keys present), so the
// exported folder loads in diffusers as well as in ldm's strict loaders.
#pragma once

#include <cstdint>

#include "core/nn/autoencoder_kl.h"
#include "core/nn/unet_2d_condition_model.h"
#include "core/text/clip_text_model.h"
#include "nlohmann/json.hpp"

namespace ldm::train {

class DiffusersConfigWriter {
 public:
  static nlohmann::json Unet(const UNet2DConditionConfig& c);
  static nlohmann::json Vae(const AutoencoderKLConfig& c);
  static nlohmann::json TextEncoder(const ClipTextConfig& c, int64_t bos_token_id,
                                    int64_t pad_token_id);
  // model_index.json of a StableDiffusionPipeline with a DDIM scheduler.
  static nlohmann::json ModelIndex();
};

}  // namespace ldm::train
