// What a loaded model supports: reported by ListModels and used for request validation.
#pragma once

#include <optional>
#include <string>
#include <vector>

namespace ldm {

struct ModelInfo {
  std::string name;
  std::string path;
  int native_width = 0;  // sample_size * vae_scale_factor
  int native_height = 0;
  int min_size = 8;  // sizes are multiples of size_multiple within [min_size, max_size]
  int max_size = 2048;
  int size_multiple = 8;
  int vae_scale_factor = 8;
  int latent_channels = 4;
  bool supports_text = false;
  bool supports_class = false;
  bool supports_semantic_map = false;
  int max_prompt_tokens = 77;                // including bos/eos
  std::vector<std::string> class_names;      // index = class label
  int num_classes = 0;                       // usable class labels (excludes the null class)
  bool class_required = false;               // supports_class without a null class to fall back on
  std::vector<std::string> semantic_labels;  // index = label value (0 = background)
  int semantic_channels = 0;                 // map labels: values in [0, semantic_channels)
  // Sub-cells per latent cell side of the map encoding (ModelExtras::semantic_map_subcells): the
  // UNet takes semantic_channels * semantic_map_subcells^2 map channels.
  int semantic_map_subcells = 1;
  bool has_classifier = false;  // a noise-aware classifier: classifier_scale > 0
  // Super-resolution: the model conditions on a low-resolution RGB image (JobSpec::low_res_image)
  // that is upscale_factor times smaller than the output, and requires it.
  bool supports_low_res_image = false;
  int upscale_factor = 0;             // 0: not a super-resolution model
  int low_res_channels = 0;           // UNet input channels it takes (after the maps)
  std::vector<std::string> samplers;  // names accepted by JobSpec::sampler
  std::string default_sampler;
  int default_steps = 25;
  double default_guidance = 5.0;
  double default_eta = 0.0;  // DDIM's eta for requests without one (ldm_model.json default_eta)
  // default_guidance for requests whose only condition is a semantic map (unset: the general one)
  std::optional<double> default_guidance_map_only;

  // The eta of a job that gives none, run with `sampler` ("" = default_sampler): default_eta with
  // DDIM, 0 with every other sampler (they have no eta). The server and ldm-eval both use it.
  double DefaultEtaFor(const std::string& sampler) const {
    return (sampler.empty() ? default_sampler : sampler) == "ddim" ? default_eta : 0.0;
  }
};

}  // namespace ldm
