/**
 * @file
 * FaultPort: a decorator that injects seeded, reproducible faults (loss,
 * duplication, reordering, bit corruption, fixed delay) into the frames a
 * port transmits and/or receives, to test the stack above it.
 *
 * Each frame passes, in order: loss -> corrupt -> duplicate -> reorder ->
 * delay. For every frame four uniform numbers are drawn (loss, duplicate,
 * reorder, corrupt; plus offset and bit when corrupting), so the same seed
 * and the same frames give the same decisions, and changing one
 * probability does not shift the others' decisions.
 *
 * Per direction and queue ("lane") the decorator holds: a reorder slot (one
 * frame), a delay line and a ready FIFO, each bounded (kHoldCapacity). No
 * allocation or locks per packet; each queue is used by one core, as for
 * any Port.
 */
#pragma once

#include <rte_mbuf.h>
#include <rte_mempool.h>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "tern/port/port.hpp"

namespace tern::drivers {

/** What to inject. Probabilities are per frame, in [0, 1] (<= 0 never, >= 1 always). */
struct FaultOptions {
  uint64_t seed = 1;      ///< PRNG seed; TX queue q draws from seed + q (RX lanes from another stream of it)
  double loss = 0;        ///< drop the frame (freed)
  double duplicate = 0;   ///< send a second, deep copy right after it (needs a pool)
  double reorder = 0;     ///< hold it and release it after the next frame (or at poll())
  double corrupt = 0;     ///< flip one random bit beyond the 14-byte Ethernet header
  uint64_t delay_ns = 0;  ///< hold every frame until now >= arrival + delay_ns (0: none)
  bool on_rx = false;     ///< apply to frames received from the inner port
  bool on_tx = true;      ///< apply to frames transmitted to the inner port
};

/** Counters over all lanes. */
struct FaultStats {
  /** Frames handed on (TX: accepted by the inner port; RX: to the caller), copies included. */
  uint64_t passed = 0;
  uint64_t dropped = 0;     ///< frames lost on purpose
  uint64_t duplicated = 0;  ///< extra copies made
  uint64_t reordered = 0;   ///< frames held back to swap with the next one
  uint64_t corrupted = 0;   ///< frames with one bit flipped
  uint64_t delayed = 0;     ///< frames put on the delay line
};

/**
 * Wraps a Port and injects faults. Name, caps, link and stats() are the
 * inner port's; fault_stats() counts what was injected.
 *
 * TX: tx_burst() accepts a frame only when the decorator can hold what it
 * produces (the inner port has taken everything that was ready before, and
 * there is room), so backpressure reaches the caller: frames not accepted
 * stay the caller's, untouched. Accepted frames are the decorator's: they
 * are dropped, held, or handed to the inner port; frames the inner port
 * refuses stay held (in order) and are retried at the next tx_burst() or
 * poll(). A mbuf is never touched after the inner port accepted it.
 *
 * RX: rx_burst() pulls from the inner port, applies the faults, and returns
 * frames in the resulting order; extra frames (duplicates) wait for the
 * next call.
 *
 * Time: delay uses the clock given to poll(queue, now_ns) (the most recent
 * value for that queue; 0 before the first poll). A frame arriving at time t
 * becomes due at t + delay_ns; due frames are released by poll(), rx_burst()
 * and tx_burst(). A frame released from the reorder slot enters the delay
 * line at its release time.
 *
 * Corruption never writes into a shared buffer: when any segment is shared
 * (refcnt > 1, an indirect clone such as a retransmission's share(), or an
 * external buffer) the frame is deep-copied first and the original reference
 * released, so the other owner's bytes stay intact. Without a pool (or when
 * the pool is exhausted) duplicates are skipped and shared frames pass
 * uncorrupted. With TX checksum offload the device recomputes checksums over
 * the corrupted bytes.
 *
 * Destroying the decorator frees every held frame, then the inner port.
 */
class FaultPort final : public Port {
 public:
  /** Frames each stage (ready FIFO, delay line) of one lane holds at most. */
  static constexpr size_t kHoldCapacity = 4096;

  /**
   * @param inner the port to wrap (owned; must not be null).
   * @param opts the faults; see FaultOptions.
   * @param pool mempool for duplicates and copy-before-corrupt (not owned,
   *        must outlive the decorator; may be null, see class notes).
   */
  FaultPort(std::unique_ptr<Port> inner, FaultOptions opts, rte_mempool* pool);
  ~FaultPort() override;
  FaultPort(const FaultPort&) = delete;
  FaultPort& operator=(const FaultPort&) = delete;

  /** Counters summed over all lanes; exact when the queues are quiescent. */
  FaultStats fault_stats() const;
  /** The wrapped port. */
  Port& inner() noexcept { return *inner_; }
  /** Frames currently held (reorder slots, delay lines, ready FIFOs) over all lanes. */
  size_t held() const;
  const FaultOptions& options() const noexcept { return opts_; }

  const std::string& name() const override { return inner_->name(); }
  const PortCaps& caps() const override { return inner_->caps(); }
  uint16_t rx_burst(uint16_t queue, rte_mbuf** pkts, uint16_t n) override;
  uint16_t tx_burst(uint16_t queue, rte_mbuf** pkts, uint16_t n) override;
  LinkStatus link() const override { return inner_->link(); }
  PortStats stats() const override { return inner_->stats(); }
  /**
   * Record @p now_ns as the queue's clock, release the reorder slot and due
   * delayed frames, push ready TX frames to the inner port, then poll the
   * inner port.
   */
  void poll(uint16_t queue, uint64_t now_ns) override;
  bool rss_state(RssState& out) const override { return inner_->rss_state(out); }

 private:
  struct Lane;  // implementation detail (fault_port.cpp)
  void process(Lane& lane, rte_mbuf* m);
  rte_mbuf* corrupt(Lane& lane, rte_mbuf* m);
  void flush_tx(uint16_t queue, Lane& lane);

  std::unique_ptr<Port> inner_;
  FaultOptions opts_;
  rte_mempool* pool_;
  std::vector<std::unique_ptr<Lane>> rx_;  // per RX queue of the inner port (when on_rx)
  std::vector<std::unique_ptr<Lane>> tx_;  // per TX queue of the inner port (when on_tx)
};

}  // namespace tern::drivers
