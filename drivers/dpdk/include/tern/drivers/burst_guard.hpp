/**
 * @file
 * BurstGuard: keeps a PMD's control thread from unmapping memory a core is
 * reading inside rte_eth_rx_burst()/rte_eth_tx_burst() (issue 10).
 *
 * net_memif in DPDK 22.11 tears a connection down on EAL's interrupt thread
 * (memif_disconnect: link down, CONNECTED flag cleared, then munmap of the
 * peer's regions) with no lock against the data path, whose bursts test the
 * flag once on entry; a core preempted inside a burst touches unmapped memory
 * when it resumes (SIGSEGV). No ethdev event precedes the munmap (memif
 * raises none), so the hook is munmap itself: tern defines munmap (the PMD,
 * loaded as a plugin, binds to the executable's definition), and before
 * unmapping waits until no guarded queue is inside a burst. A burst that
 * starts after that wait sees the flag already cleared and returns 0. The
 * order is Dekker's: the core publishes "in a burst" (a sequentially
 * consistent exchange) before the PMD reads its flag; munmap fences before it
 * reads the cores' marks.
 *
 * Cost: two atomic operations per burst on guarded ports only (memif), and a
 * scan of the guard table in every munmap of the process while a guarded
 * port is open. A munmap waits at most 1 s (a core stuck in a burst for that
 * long is logged; the unmap then proceeds).
 */
#pragma once

#include <atomic>
#include <cstdint>

namespace tern::drivers {

class BurstGuard {
 public:
  static constexpr uint16_t kMaxQueues = 64;
  /** A guard for a port of @p queues queues, or null when all 16 are taken (the port runs unguarded). */
  static BurstGuard* acquire(uint16_t queues) noexcept;
  /** Give it back (the port is closed). */
  static void release(BurstGuard* g) noexcept;
  /** Wait until no guarded queue of any port is inside a burst (at most @p limit_ns). @return true if quiet.
   */
  static bool wait_quiet(uint64_t limit_ns) noexcept;

  void enter(uint16_t q) noexcept { q_[q].busy.exchange(1, std::memory_order_seq_cst); }
  void leave(uint16_t q) noexcept { q_[q].busy.store(0, std::memory_order_release); }

 private:
  struct alignas(64) Slot {
    std::atomic<uint32_t> busy{0};
  };
  Slot q_[kMaxQueues];
  std::atomic<bool> used_{false};
  uint16_t queues_ = 0;
};

}  // namespace tern::drivers
