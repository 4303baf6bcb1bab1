// Status propagation helpers used across ldm. Header-only, no torch dependency.
#pragma once

#include "absl/status/status.h"
#include "absl/status/statusor.h"

#define LDM_STATUS_CONCAT_INNER_(a, b) a##b
#define LDM_STATUS_CONCAT_(a, b) LDM_STATUS_CONCAT_INNER_(a, b)

// Returns from the enclosing function if `expr` (an absl::Status) is not OK.
#define LDM_RETURN_IF_ERROR(expr)                   \
  do {                                              \
    ::absl::Status ldm_status_ = (expr);            \
    if (!ldm_status_.ok()) return ldm_status_;      \
  } while (false)

// `LDM_ASSIGN_OR_RETURN(auto x, StatusOrExpr());` unwraps a StatusOr or returns its error.
#define LDM_ASSIGN_OR_RETURN(lhs, rexpr) \
  LDM_ASSIGN_OR_RETURN_IMPL_(LDM_STATUS_CONCAT_(ldm_statusor_, __LINE__), lhs, rexpr)

#define LDM_ASSIGN_OR_RETURN_IMPL_(statusor, lhs, rexpr) \
  auto statusor = (rexpr);                              \
  if (!statusor.ok()) return std::move(statusor).status(); \
  lhs = std::move(statusor).value()
