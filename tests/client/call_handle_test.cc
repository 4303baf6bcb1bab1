#include "client/call_handle.h"

#include <grpcpp/client_context.h>
#include <gtest/gtest.h>

#include <thread>

namespace ldm::client {
namespace {

TEST(CallHandleTest, CancelBeforeAttachRefusesTheAttempt) {
  CallHandle handle;
  EXPECT_FALSE(handle.cancelled());
  handle.Cancel();
  EXPECT_TRUE(handle.cancelled());
  grpc::ClientContext context;
  EXPECT_FALSE(handle.Attach(&context));
}

TEST(CallHandleTest, AttachThenCancelAndDetach) {
  CallHandle handle;
  grpc::ClientContext context;
  ASSERT_TRUE(handle.Attach(&context));
  handle.Cancel();  // TryCancel on a context without a call is harmless
  handle.Detach();
  handle.Cancel();  // idempotent, no context to touch
  EXPECT_TRUE(handle.cancelled());
}

TEST(CallHandleTest, SleepWakesUpOnCancel) {
  CallHandle handle;
  EXPECT_FALSE(handle.SleepUnlessCancelled(absl::Milliseconds(10)));
  std::thread canceller([&] {
    absl::SleepFor(absl::Milliseconds(50));
    handle.Cancel();
  });
  const absl::Time start = absl::Now();
  EXPECT_TRUE(handle.SleepUnlessCancelled(absl::Seconds(30)));
  EXPECT_LT(absl::Now() - start, absl::Seconds(10));
  canceller.join();
}

}  // namespace
}  // namespace ldm::client
