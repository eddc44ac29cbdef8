/**
 * @file
 * The NIC-facing interface. A Port has per-core RX/TX queues driven by burst
 * calls, and a capabilities struct that upper layers consult instead of ever
 * testing a driver's name. Drivers (drivers/dpdk, drivers/pair) and
 * decorators (capture, fault injection) implement it; only apps and tests
 * choose which.
 *
 * Ownership: rx_burst() hands the caller ownership of each returned mbuf;
 * tx_burst() takes ownership of the first n mbufs it reports as sent, and the
 * caller keeps (and must free or retry) the rest.
 */
#pragma once

#include <rte_mbuf.h>

#include <array>
#include <cstdint>
#include <string>
#include <vector>

namespace tern {

/** What a port can do; filled by the driver after configuration. */
struct PortCaps {
  std::array<uint8_t, 6> mac{};  ///< the port's Ethernet address
  uint16_t mtu = 1500;           ///< L3 MTU (bytes of IPv4 datagram per frame)
  uint16_t rx_queues = 1;        ///< configured RX queues
  uint16_t tx_queues = 1;        ///< configured TX queues
  bool rx_ipv4_csum = false;     ///< NIC verifies IPv4 header checksums (flags in mbuf)
  bool rx_l4_csum = false;       ///< NIC verifies UDP/TCP checksums
  bool tx_ipv4_csum = false;     ///< NIC fills IPv4 header checksums
  bool tx_udp_csum = false;      ///< NIC fills UDP checksums (pseudo-header sum precomputed)
  bool tx_tcp_csum = false;      ///< NIC fills TCP checksums
  bool tso = false;              ///< TCP segmentation offload
  bool lro = false;              ///< the NIC merges received TCP segments (RTE_MBUF_F_RX_LRO, tso_segsz)
  /// TSO: most segments one super-segment may be cut into (0: no limit but the 64 KiB datagram).
  uint16_t tso_max_segs = 0;
  /// TSO: largest frame, Ethernet header included, a cut segment may be (0: mtu + 14). net_tap
  /// compares the whole frame with the MTU, so its segments carry 14 bytes less payload.
  uint16_t tso_max_frame = 0;
  bool multi_seg_tx = true;   ///< chained mbufs may be transmitted
  bool rss = false;           ///< hardware RSS usable (key programmable)
  uint16_t rss_key_size = 0;  ///< bytes of RSS key
  uint16_t reta_size = 0;     ///< RSS redirection table entries
};

/**
 * The receive-side scaling a port really applies, read back from the device
 * (not what was asked for): a frame of an IPv4 TCP/UDP flow lands on RX queue
 * reta[toeplitz(key, src, dst, sport, dport) % reta.size()] (issue 10).
 */
struct RssState {
  std::vector<uint8_t> key;    ///< Toeplitz key as the device holds it (at least 16 bytes)
  std::vector<uint16_t> reta;  ///< RX queue of each redirection-table entry (non-empty)
  bool l4 = true;              ///< TCP and UDP over IPv4 are hashed on the 4-tuple (else on addresses only)
};

/** Link state as the driver reports it. */
struct LinkStatus {
  bool up = false;
  uint32_t speed_mbps = 0;
  bool full_duplex = false;
};

/** Port counters (driver-level: what the device saw). */
struct PortStats {
  uint64_t rx_packets = 0, tx_packets = 0;
  uint64_t rx_bytes = 0, tx_bytes = 0;
  uint64_t rx_dropped = 0;  ///< device missed/no-mbuf drops
  uint64_t tx_dropped = 0;  ///< frames the device refused (queue full)
  uint64_t rx_errors = 0, tx_errors = 0;
};

/** A network port with per-queue burst I/O. Each queue is used by one core only. */
class Port {
 public:
  virtual ~Port() = default;
  /** Short name for logs and counters (e.g. "tap0"). */
  virtual const std::string& name() const = 0;
  /** Capabilities (stable after construction). */
  virtual const PortCaps& caps() const = 0;
  /**
   * Receive up to @p n frames from RX queue @p queue into @p pkts.
   * @return how many were received (0..n); the caller owns them.
   */
  virtual uint16_t rx_burst(uint16_t queue, rte_mbuf** pkts, uint16_t n) = 0;
  /**
   * Send up to @p n frames on TX queue @p queue.
   * @return how many were accepted (0..n); those now belong to the port.
   *         The rest still belong to the caller.
   */
  virtual uint16_t tx_burst(uint16_t queue, rte_mbuf** pkts, uint16_t n) = 0;
  /** Current link state. */
  virtual LinkStatus link() const = 0;
  /** Device counters. */
  virtual PortStats stats() const = 0;
  /**
   * Periodic housekeeping from the owning core (decorators release delayed
   * frames here); @p now_ns is the caller's clock. Default: nothing.
   */
  virtual void poll(uint16_t /*queue*/, uint64_t /*now_ns*/) {}
  /**
   * The hashing and redirection the device applies to received frames, read
   * back from it. @return false when the port has no usable RSS (one RX
   * queue, no programmable key, or a driver that spreads frames by a hash of
   * its own, as net_tap's kernel side does): the stack then steers in software.
   * Default: false.
   */
  virtual bool rss_state(RssState& /*out*/) const { return false; }
};

}  // namespace tern
