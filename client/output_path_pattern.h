// Where ldm-client writes image i: a file name or a pattern with {i} (the image index) and
// {seed} (the image's seed). A plain name used for several images gets "-{i}" before its
// extension ("out.png" -> "out-0.png", "out-1.png") so that images never overwrite each other.
#pragma once

#include <cstdint>
#include <string>

namespace ldm::client {

class OutputPathPattern {
 public:
  OutputPathPattern(std::string pattern, uint32_t num_images);

  std::string PathFor(uint32_t index, uint64_t seed) const;
  const std::string& pattern() const { return pattern_; }

 private:
  std::string pattern_;
};

}  // namespace ldm::client
