/**
 * @file
 * BurstGuard's table and the munmap that consults it (see burst_guard.hpp).
 * No allocation and no lock here: munmap may be called from anywhere,
 * including inside malloc.
 */
#include "tern/drivers/burst_guard.hpp"

#include <sys/mman.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <cstdio>

namespace tern::drivers {

namespace {
constexpr int kGuards = 16;
BurstGuard g_guards[kGuards];
std::atomic<int> g_active{0};  // guards in use: munmap scans only when some are

uint64_t now_ns() noexcept {
  timespec ts{};
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return uint64_t(ts.tv_sec) * 1'000'000'000u + uint64_t(ts.tv_nsec);
}
}  // namespace

BurstGuard* BurstGuard::acquire(uint16_t queues) noexcept {
  if (queues > kMaxQueues) return nullptr;
  for (auto& g : g_guards) {
    bool expected = false;
    if (g.used_.compare_exchange_strong(expected, true)) {
      g.queues_ = queues;
      for (auto& s : g.q_) s.busy.store(0, std::memory_order_relaxed);
      g_active.fetch_add(1, std::memory_order_seq_cst);
      return &g;
    }
  }
  return nullptr;
}

void BurstGuard::release(BurstGuard* g) noexcept {
  if (g == nullptr) return;
  g_active.fetch_sub(1, std::memory_order_seq_cst);
  g->used_.store(false, std::memory_order_release);
}

bool BurstGuard::wait_quiet(uint64_t limit_ns) noexcept {
  std::atomic_thread_fence(std::memory_order_seq_cst);  // the caller's earlier stores before our reads
  uint64_t deadline = 0;
  for (auto& g : g_guards) {
    if (!g.used_.load(std::memory_order_acquire)) continue;
    for (uint16_t q = 0; q < g.queues_; ++q) {
      while (g.q_[q].busy.load(std::memory_order_seq_cst) != 0) {
        if (deadline == 0) deadline = now_ns() + limit_ns;
        if (now_ns() >= deadline) return false;
        sched_yield();  // the core may share this CPU: let it finish its burst
      }
    }
  }
  return true;
}

}  // namespace tern::drivers

// The PMD's munmap (and every other in the process) comes here: wait for the guarded cores to
// leave their bursts, then unmap with the system call glibc's munmap makes.
extern "C" int munmap(void* addr, size_t len) noexcept {
  using tern::drivers::BurstGuard;
  if (tern::drivers::g_active.load(std::memory_order_seq_cst) > 0 && !BurstGuard::wait_quiet(1'000'000'000)) {
    static const char msg[] = "tern: munmap waited 1 s for a core inside a burst; unmapping anyway\n";
    (void)!write(2, msg, sizeof msg - 1);
  }
  return static_cast<int>(syscall(SYS_munmap, addr, len));
}
