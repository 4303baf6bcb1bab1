// LowResConditioning: how a super-resolution model's low-resolution input image enters its UNet.
//
// LDM's super-resolution models (Rombach et al. 2022, Sec. 4.4) condition on the low-resolution
// image by concatenating it with the latents along channels; diffusers'
// StableDiffusionUpscalePipeline does the same (UNet input = cat([latents, image], dim=1), the
// image in [-1, 1]). There the image already has latent resolution (x4 upscaler, f = 4). ldm's
// toy-shapes VAE has f = 8, so for a 4x upscaler the low-resolution image is twice the latent
// size; it is brought to latent resolution losslessly by a pixel-unshuffle (space-to-depth) with
// factor r = f / upscale_factor: [B, 3, H/u, W/u] -> [B, 3 r^2, H/f, W/f] (torch's
// pixel_unshuffle channel order: c * r^2 + dy * r + dx). r = 1 (upscale_factor = f) is a plain
// concatenation as in diffusers.
//
// The trainer (tools/train) and the pipeline both call ToLatentChannels, so the layout the UNet
// was trained on is the one it gets at inference.
// Thread safety: stateless; all functions are pure. Errors: torch errors are thrown (callers
// wrap them in TorchGuard); ImageToTensor checks channels == 3.
#pragma once

#include <torch/types.h>

#include "core/io/png_codec.h"

namespace ldm {

class LowResConditioning {
 public:
  // Pixel-unshuffle factor r = vae_scale_factor / upscale_factor (both > 0, r integral).
  static int UnshuffleFactor(int vae_scale_factor, int upscale_factor);
  // Channels the conditioning adds to the UNet input: 3 r^2.
  static int Channels(int vae_scale_factor, int upscale_factor);
  // HWC uint8 RGB -> [1, 3, H, W] float32 in [-1, 1] (on the CPU). Throws unless channels == 3.
  static torch::Tensor ImageToTensor(const Image8& image);
  // [B, 3, H, W] in [-1, 1] -> [B, 3 r^2, H / r, W / r]; H and W must be multiples of r.
  static torch::Tensor ToLatentChannels(const torch::Tensor& images, int unshuffle_factor);
  // Bicubic upsampling (align_corners false, as torch/PIL) of [B, C, h, w] by `factor`.
  static torch::Tensor Upsample(const torch::Tensor& images, int factor);
  // Iterative back-projection (Irani & Peleg 1991): makes upscaled images consistent with their
  // input, images <- clamp(images + U(low_res - D(images)), 0, 1) `iterations` times, where D is
  // the factor x factor box average (how the inputs are made) and U bicubic upsampling. images
  // [B, 3, H, W] and low_res [B, 3, H/factor, W/factor], both in [0, 1]. It restores what the
  // input pins down (block means: colors, shading) and leaves the model's edges; the autoencoder's
  // round trip alone loses those low frequencies (docs/MODEL.md).
  static torch::Tensor BackProject(const torch::Tensor& images, const torch::Tensor& low_res,
                                   int factor, int iterations);
};

}  // namespace ldm
