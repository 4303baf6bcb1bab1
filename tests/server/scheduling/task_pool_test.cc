#include "server/scheduling/task_pool.h"

#include <atomic>

#include <gtest/gtest.h>

namespace ldm::server {
namespace {

TEST(TaskPoolTest, RunsEveryTaskAndWaitBlocksUntilDone) {
  TaskPool pool(3);
  std::atomic<int> n{0};
  for (int i = 0; i < 100; ++i) pool.Submit([&] { n.fetch_add(1); });
  pool.Wait();
  EXPECT_EQ(n.load(), 100);
  EXPECT_EQ(pool.pending(), 0);
}

TEST(TaskPoolTest, DestructorRunsQueuedTasks) {
  std::atomic<int> n{0};
  {
    TaskPool pool(1);
    for (int i = 0; i < 20; ++i) pool.Submit([&] { n.fetch_add(1); });
  }
  EXPECT_EQ(n.load(), 20);
}

}  // namespace
}  // namespace ldm::server
