#include "client/interrupt_watcher.h"

#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>

#include "absl/synchronization/notification.h"

namespace ldm::client {
namespace {

TEST(InterruptWatcherTest, FirstSignalRunsTheCallbackInsteadOfKillingTheProcess) {
  absl::Notification called;
  {
    InterruptWatcher watcher;
    watcher.Start([&] { called.Notify(); });
    EXPECT_FALSE(watcher.interrupted());
    ASSERT_EQ(kill(getpid(), SIGINT), 0);
    ASSERT_TRUE(called.WaitForNotificationWithTimeout(absl::Seconds(10)));
    EXPECT_TRUE(watcher.interrupted());
  }
  // The destructor restored the mask: SIGINT is no longer blocked here.
  sigset_t mask;
  pthread_sigmask(SIG_SETMASK, nullptr, &mask);
  EXPECT_EQ(sigismember(&mask, SIGINT), 0);
}

TEST(InterruptWatcherTest, StopsWithoutASignal) {
  InterruptWatcher watcher;
  watcher.Start([] {});
  EXPECT_FALSE(watcher.interrupted());
}

}  // namespace
}  // namespace ldm::client
