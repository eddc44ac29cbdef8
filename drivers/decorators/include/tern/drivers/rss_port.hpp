/**
 * @file
 * RssPort: a decorator that makes any single-queue port behave like a NIC
 * with receive-side scaling: N RX/TX queues, a programmable 40-byte Toeplitz
 * key and a redirection table (RETA). Every frame the inner port receives is
 * hashed as a NIC would (IPv4 source and destination, plus the ports for
 * TCP and UDP unless it is a fragment; Microsoft "RSS hashing" spec),
 * stamped with the hash (mbuf hash.rss, RTE_MBUF_F_RX_RSS_HASH) and queued for
 * the queue RETA[hash % RETA size] names. Frames that are not IPv4 (ARP) go to
 * queue 0, as NICs send unhashed traffic to their default queue. So the
 * hardware-RSS path of the stack is tested without hardware (issue 10).
 *
 * Threads: each queue is used by one core, as for any Port. The cores share
 * the inner port through the decorator: rx_burst() drains the inner port when
 * no other core is doing so (a try-lock: a core never waits for another) into
 * per-queue bounded rings (rte_ring; a full ring drops the frame and counts
 * it), then returns from its own ring. tx_burst() passes frames to the inner
 * port's queue 0 under a lock.
 */
#pragma once

#include <rte_ring.h>

#include <array>
#include <atomic>
#include <cstdint>
#include <mutex>
#include <span>
#include <string>
#include <vector>

#include "tern/port/port.hpp"

namespace tern::drivers {

/** How the emulated NIC is set up. */
struct RssOptions {
  uint16_t queues = 2;        ///< RX and TX queues, 1..64
  uint16_t reta_size = 128;   ///< redirection table entries, 1..512 (filled round robin over the queues)
  uint32_t ring_size = 1024;  ///< frames held per queue before drops, a power of two
};

/** Counters. */
struct RssStats {
  uint64_t hashed = 0;     ///< IPv4 frames hashed and steered
  uint64_t unhashed = 0;   ///< other frames, sent to queue 0
  uint64_t ring_full = 0;  ///< frames dropped because their queue's ring was full
};

class RssPort final : public Port {
 public:
  /**
   * @param inner the port to decorate (not owned; outlives this); its RX and TX queue 0 are used.
   * @param opt queues and table sizes; out-of-range values throw std::invalid_argument.
   * The key starts as the symmetric key (wire::kSymmetricRssKey), the RETA round robin.
   */
  RssPort(Port& inner, const RssOptions& opt);
  ~RssPort() override;
  RssPort(const RssPort&) = delete;
  RssPort& operator=(const RssPort&) = delete;

  const std::string& name() const override { return inner_.name(); }
  /** The inner port's, with rx/tx_queues = RssOptions::queues, rss, the key and RETA sizes. */
  const PortCaps& caps() const override { return caps_; }
  uint16_t rx_burst(uint16_t queue, rte_mbuf** pkts, uint16_t n) override;
  uint16_t tx_burst(uint16_t queue, rte_mbuf** pkts, uint16_t n) override;
  LinkStatus link() const override { return inner_.link(); }
  PortStats stats() const override { return inner_.stats(); }
  /** The inner port's housekeeping, from the core of queue 0 (the inner port has that queue only). */
  void poll(uint16_t queue, uint64_t now_ns) override {
    if (queue == 0) inner_.poll(0, now_ns);
  }
  /** The key and RETA programmed now (always available). */
  bool rss_state(RssState& out) const override;

  /** Program the key (exactly caps().rss_key_size bytes). @return false (unchanged) otherwise. */
  bool set_key(std::span<const uint8_t> key);
  /** Program the RETA (exactly caps().reta_size entries, each below queues). @return false otherwise. */
  bool set_reta(std::span<const uint16_t> reta);
  /** What the emulated NIC holds now (read back, as rte_eth_dev_rss_hash_conf_get would). */
  std::array<uint8_t, 40> key() const;
  std::vector<uint16_t> reta() const;
  /** The Toeplitz hash this port computes for @p frame (Ethernet), and whether it hashed it. */
  bool hash(const rte_mbuf* frame, uint32_t* out) const;
  RssStats rss_stats() const;

 private:
  void distribute();
  static bool hash_with(const std::array<uint8_t, 40>& key, const rte_mbuf* m, uint32_t* out);

  Port& inner_;
  PortCaps caps_;
  std::vector<rte_ring*> rings_;
  mutable std::mutex conf_mu_;  // key_ and reta_ (set_* and reads; distribute copies them under it)
  std::array<uint8_t, 40> key_{};
  std::vector<uint16_t> reta_;
  std::vector<uint16_t> reta_copy_;  // distribute()'s snapshot (only the rx_busy_ holder touches it)
  std::atomic_flag rx_busy_ = ATOMIC_FLAG_INIT;
  std::mutex tx_mu_;
  std::atomic<uint64_t> hashed_{0}, unhashed_{0}, ring_full_{0};
};

}  // namespace tern::drivers
