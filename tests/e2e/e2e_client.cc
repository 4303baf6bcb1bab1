#include "tests/e2e/e2e_client.h"

#include <algorithm>
#include <cstdlib>

#include "absl/strings/str_cat.h"
#include "core/io/png_codec.h"

namespace ldm::testing {

std::shared_ptr<grpc::Channel> E2eChannel(const std::string& address) {
  grpc::ChannelArguments args;
  args.SetMaxReceiveMessageSize(64 << 20);
  args.SetMaxSendMessageSize(64 << 20);
  return grpc::CreateCustomChannel(address, grpc::InsecureChannelCredentials(), args);
}

absl::StatusOr<int> MaxPixelDifference(const std::string& png_a, const std::string& png_b) {
  absl::StatusOr<Image8> a = DecodePng(png_a, PngLayout::kRgb);
  absl::StatusOr<Image8> b = DecodePng(png_b, PngLayout::kRgb);
  if (!a.ok()) return a.status();
  if (!b.ok()) return b.status();
  if (a->width != b->width || a->height != b->height || a->pixels.size() != b->pixels.size()) {
    return absl::InvalidArgumentError(
        absl::StrCat("sizes differ: ", a->width, "x", a->height, " vs ", b->width, "x", b->height));
  }
  int max_diff = 0;
  for (size_t i = 0; i < a->pixels.size(); ++i) {
    max_diff = std::max(max_diff, std::abs(int{a->pixels[i]} - int{b->pixels[i]}));
  }
  return max_diff;
}

}  // namespace ldm::testing
