// BurstGuard (issue 10): a munmap from another thread (net_memif's control thread) must wait
// while a guarded queue is inside a burst, and proceed once it has left.
#include "tern/drivers/burst_guard.hpp"

#include <gtest/gtest.h>
#include <sys/mman.h>

#include <atomic>
#include <chrono>
#include <thread>

namespace tern::drivers {
namespace {

TEST(BurstGuard, MunmapWaitsForACoreInsideABurst) {
  BurstGuard* g = BurstGuard::acquire(2);
  ASSERT_NE(g, nullptr);
  void* page = mmap(nullptr, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  ASSERT_NE(page, MAP_FAILED);
  g->enter(1);  // a core is inside rte_eth_rx_burst() on queue 1
  std::atomic<bool> unmapped{false};
  std::atomic<int> rc{-2};
  std::thread control([&] {
    rc = munmap(page, 4096);  // the PMD tearing the peer's region down
    unmapped = true;
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  EXPECT_FALSE(unmapped.load()) << "the region was unmapped under a burst";
  g->leave(1);
  control.join();
  EXPECT_TRUE(unmapped.load());
  EXPECT_EQ(rc.load(), 0);
  BurstGuard::release(g);
}

TEST(BurstGuard, QuietQueuesDoNotDelayMunmap) {
  BurstGuard* g = BurstGuard::acquire(4);
  ASSERT_NE(g, nullptr);
  g->enter(0);
  g->leave(0);
  void* page = mmap(nullptr, 4096, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  ASSERT_NE(page, MAP_FAILED);
  EXPECT_TRUE(BurstGuard::wait_quiet(0));
  EXPECT_EQ(munmap(page, 4096), 0);
  BurstGuard::release(g);
}

}  // namespace
}  // namespace tern::drivers
