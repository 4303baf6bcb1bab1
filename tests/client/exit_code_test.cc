#include "client/exit_code.h"

#include <gtest/gtest.h>

namespace ldm::client {
namespace {

TEST(ExitCodeTest, DocumentedTable) {
  EXPECT_EQ(ExitCodeFor(absl::OkStatus()), 0);
  EXPECT_EQ(ExitCodeFor(absl::InternalError("x")), 1);
  EXPECT_EQ(ExitCodeFor(absl::UnknownError("x")), 1);
  EXPECT_EQ(ExitCodeFor(absl::InvalidArgumentError("x")), 3);
  EXPECT_EQ(ExitCodeFor(absl::FailedPreconditionError("x")), 3);
  EXPECT_EQ(ExitCodeFor(absl::OutOfRangeError("x")), 3);
  EXPECT_EQ(ExitCodeFor(absl::NotFoundError("x")), 4);
  EXPECT_EQ(ExitCodeFor(absl::UnavailableError("x")), 5);
  EXPECT_EQ(ExitCodeFor(absl::ResourceExhaustedError("x")), 5);
  EXPECT_EQ(ExitCodeFor(absl::DeadlineExceededError("x")), 6);
  EXPECT_EQ(ExitCodeFor(absl::CancelledError("x")), 7);
  EXPECT_EQ(kExitUsage, 2);
  EXPECT_EQ(kExitNotServing, 8);
}

}  // namespace
}  // namespace ldm::client
