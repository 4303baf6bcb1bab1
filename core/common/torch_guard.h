// Converts libtorch exceptions into absl::Status at core's module boundaries.
//
// libtorch reports shape errors, out-of-memory and device problems by throwing c10::Error (or
// std::exception). core never lets those escape: public functions wrap their torch work in
// TorchGuard, which maps them to a Status whose message starts with `context`.
#pragma once

#include <exception>
#include <string>
#include "absl/strings/string_view.h"
#include <type_traits>
#include <utility>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"

namespace ldm {

namespace internal {
// Returns the first line of a (possibly multi-line, backtrace-carrying) c10 message.
std::string FirstLineOf(absl::string_view message);
// Maps an in-flight exception to a Status; out-of-memory becomes RESOURCE_EXHAUSTED.
absl::Status StatusFromCurrentException(absl::string_view context);
}  // namespace internal

// Runs `fn` and returns its result; exceptions become INTERNAL (or RESOURCE_EXHAUSTED for OOM)
// errors prefixed with `context`. `fn` may return void, absl::Status, absl::StatusOr<T> or T.
template <typename Fn>
auto TorchGuard(absl::string_view context, Fn&& fn) {
  using R = std::invoke_result_t<Fn>;
  if constexpr (std::is_void_v<R>) {
    try {
      std::forward<Fn>(fn)();
      return absl::OkStatus();
    } catch (...) {
      return internal::StatusFromCurrentException(context);
    }
  } else if constexpr (std::is_same_v<R, absl::Status>) {
    try {
      return std::forward<Fn>(fn)();
    } catch (...) {
      return internal::StatusFromCurrentException(context);
    }
  } else if constexpr (requires(R r) { r.status(); r.value(); }) {
    try {
      return R(std::forward<Fn>(fn)());
    } catch (...) {
      return R(internal::StatusFromCurrentException(context));
    }
  } else {
    using Out = absl::StatusOr<R>;
    try {
      return Out(std::forward<Fn>(fn)());
    } catch (...) {
      return Out(internal::StatusFromCurrentException(context));
    }
  }
}

}  // namespace ldm
