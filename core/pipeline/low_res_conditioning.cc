#include "core/pipeline/low_res_conditioning.h"

#include <torch/torch.h>

namespace ldm {

int LowResConditioning::UnshuffleFactor(int vae_scale_factor, int upscale_factor) {
  TORCH_CHECK(vae_scale_factor > 0 && upscale_factor > 0 && vae_scale_factor % upscale_factor == 0,
              "upscale_factor ", upscale_factor, " must divide the VAE factor ", vae_scale_factor);
  return vae_scale_factor / upscale_factor;
}

int LowResConditioning::Channels(int vae_scale_factor, int upscale_factor) {
  const int r = UnshuffleFactor(vae_scale_factor, upscale_factor);
  return 3 * r * r;
}

torch::Tensor LowResConditioning::ImageToTensor(const Image8& image) {
  TORCH_CHECK(image.channels == 3, "low-resolution image must be RGB, got ", image.channels,
              " channels");
  TORCH_CHECK(image.pixels.size() == static_cast<size_t>(image.width) * image.height * 3,
              "low-resolution image has ", image.pixels.size(), " bytes, expected ",
              static_cast<size_t>(image.width) * image.height * 3);
  torch::Tensor hwc = torch::from_blob(const_cast<uint8_t*>(image.pixels.data()),
                                       {image.height, image.width, 3}, torch::kUInt8);
  // Same mapping as the trainer's images and diffusers' VaeImageProcessor: x / 127.5 - 1.
  return hwc.permute({2, 0, 1}).unsqueeze(0).to(torch::kFloat32).div(127.5).sub(1.0).contiguous();
}

torch::Tensor LowResConditioning::ToLatentChannels(const torch::Tensor& images,
                                                   int unshuffle_factor) {
  TORCH_CHECK(images.dim() == 4 && images.size(1) == 3, "images must be [B, 3, H, W], got ",
              images.sizes());
  TORCH_CHECK(unshuffle_factor >= 1 && images.size(2) % unshuffle_factor == 0 &&
                  images.size(3) % unshuffle_factor == 0,
              "image size ", images.size(2), "x", images.size(3), " is not a multiple of ",
              unshuffle_factor);
  if (unshuffle_factor == 1) return images;
  return torch::pixel_unshuffle(images, unshuffle_factor);
}

torch::Tensor LowResConditioning::Upsample(const torch::Tensor& images, int factor) {
  namespace F = torch::nn::functional;
  return F::interpolate(
      images, F::InterpolateFuncOptions()
                  .size(std::vector<int64_t>{images.size(2) * factor, images.size(3) * factor})
                  .mode(torch::kBicubic)
                  .align_corners(false));
}

torch::Tensor LowResConditioning::BackProject(const torch::Tensor& images,
                                              const torch::Tensor& low_res, int factor,
                                              int iterations) {
  TORCH_CHECK(images.dim() == 4 && low_res.dim() == 4 &&
                  images.size(2) == low_res.size(2) * factor &&
                  images.size(3) == low_res.size(3) * factor,
              "back-projection: images ", images.sizes(), " are not ", factor, "x low_res ",
              low_res.sizes());
  torch::Tensor y = images;
  for (int i = 0; i < iterations; ++i) {
    torch::Tensor residual = low_res - torch::avg_pool2d(y, {factor, factor});
    y = (y + Upsample(residual, factor)).clamp(0, 1);
  }
  return y;
}

}  // namespace ldm
