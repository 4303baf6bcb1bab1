#include "core/common/torch_guard.h"

#include <new>

namespace ldm::internal {

std::string FirstLineOf(absl::string_view message) {
  // c10::Error::what() appends a C++ backtrace; only the first line is useful to a caller.
  const size_t end = message.find('\n');
  return std::string(message.substr(0, end));
}

absl::Status StatusFromCurrentException(absl::string_view context) {
  try {
    throw;
  } catch (const std::bad_alloc&) {
    return absl::ResourceExhaustedError(absl::StrCat(context, ": out of memory"));
  } catch (const std::exception& e) {
    std::string msg = FirstLineOf(e.what());
    // CUDA and CPU allocators both report exhaustion with this phrase.
    if (msg.find("out of memory") != std::string::npos) {
      return absl::ResourceExhaustedError(absl::StrCat(context, ": ", msg));
    }
    return absl::InternalError(absl::StrCat(context, ": ", msg));
  } catch (...) {
    return absl::InternalError(absl::StrCat(context, ": unknown exception"));
  }
}

}  // namespace ldm::internal
