/**
 * @file
 * DpdkPort: a tern::Port over any DPDK ethdev (net_tap, net_pcap, net_memif,
 * net_ring, real NICs). All per-NIC knowledge lives here: device probing,
 * queue setup, offload negotiation from rte_eth_dev_info, RSS, MTU, link and
 * counters. Upper layers read PortCaps and never test the driver name.
 *
 * Data path: rx_burst()/tx_burst() are exactly rte_eth_rx_burst() and
 * rte_eth_tx_burst(); on net_memif they are also marked for BurstGuard,
 * whose munmap waits for them (the PMD unmaps under the data path). Each queue must be used
 * by one core only (DPDK's rule).
 */
#pragma once

#include <rte_ethdev.h>
#include <rte_mempool.h>

#include <array>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "tern/drivers/burst_guard.hpp"
#include "tern/port/port.hpp"

namespace tern::drivers {

/** How to open and configure an ethdev. */
struct DpdkPortOptions {
  /** Short name for logs ("tap0"); defaults to the device name when empty. */
  std::string name;
  /**
   * The device, DPDK devargs syntax: "net_tap0,iface=tern0",
   * "net_pcap0,rx_pcap=in.pcap,tx_pcap=out.pcap", "net_ring0", or a PCI
   * address. The part before the first ',' names the device. If an ethdev of
   * that name already exists (given with --vdev, or a probed PCI NIC) it is
   * used as is; otherwise the devargs are probed with rte_dev_probe() and
   * the device is removed again when the DpdkPort is destroyed.
   */
  std::string devargs;
  uint16_t rx_queues = 1;   ///< RX queues; must not exceed the device's maximum
  uint16_t tx_queues = 1;   ///< TX queues; must not exceed the device's maximum
  uint16_t rx_desc = 1024;  ///< RX ring size (adjusted to the device's limits)
  uint16_t tx_desc = 1024;  ///< TX ring size (adjusted to the device's limits)
  uint16_t mtu = 1500;      ///< L3 MTU
  /// Ask for TCP LRO when the device offers it (a host with GRO on; never a router, which must
  /// forward frames as they came). Merged frames carry RTE_MBUF_F_RX_LRO and tso_segsz.
  bool lro = false;
  /**
   * Ethernet address to set with rte_eth_dev_default_mac_addr_set(); the
   * device's own when empty. A virtual device that cannot change its
   * address (net_pcap, net_ring, net_null: they do not filter on it) gets
   * the requested address in caps().mac; a NIC that refuses is an error.
   */
  std::optional<std::array<uint8_t, 6>> mac;
  /**
   * Pools RX queues allocate from: one per RX queue, or a single pool for
   * all. Not owned; they must outlive the DpdkPort.
   */
  std::vector<rte_mempool*> rx_pools;
  bool promiscuous = false;  ///< accept frames for any destination MAC
  /**
   * Lower rx_queues and tx_queues to what the device supports instead of
   * failing (both to the smaller of its RX and TX maxima, as queue pairs);
   * caps() says what was configured.
   */
  bool fit_queues = false;
};

/**
 * A configured and started ethdev.
 *
 * Offloads: RX IPv4/UDP/TCP checksum, TX IPv4/UDP/TCP checksum, TSO and
 * multi-segment TX are enabled only when rte_eth_dev_info reports them, and
 * PortCaps says exactly what was enabled. RSS is enabled when the device
 * has more than one possible RX queue and a hash key; the key programmed is
 * the symmetric Toeplitz key (0x6d, 0x5a repeated to rss_key_size bytes), so
 * both directions of a flow hash alike; the RETA is spread evenly over the RX
 * queues (entry i names queue i % rx_queues), and rss_state() returns what the
 * device reports back afterwards.
 *
 * Not copyable or movable. Destroying it drains and frees frames still in
 * the RX rings, stops and closes the device and, if open() probed it,
 * removes it (a net_tap interface disappears).
 */
class DpdkPort final : public Port {
 public:
  /**
   * Probe (if needed), configure and start a device.
   * @param opts what to open; rx_pools must hold 1 or rx_queues pools.
   * @param error on failure, one line saying what failed and what to do.
   * @return the started port, or null (with @p error set). Requires an
   *         initialised EAL. On failure, a device this call probed is
   *         closed and removed again; a port that already existed is left
   *         unclosed, so a corrected open() can still use it.
   */
  static std::unique_ptr<DpdkPort> open(const DpdkPortOptions& opts, std::string& error);

  ~DpdkPort() override;
  DpdkPort(const DpdkPort&) = delete;
  DpdkPort& operator=(const DpdkPort&) = delete;

  /** The ethdev port id. */
  uint16_t port_id() const { return port_id_; }
  /** The ethdev name (the devargs part before the first ','). */
  const std::string& device_name() const { return device_; }

  const std::string& name() const override { return name_; }
  const PortCaps& caps() const override { return caps_; }
  /** rte_eth_rx_burst(): the caller owns the returned mbufs. @p queue < caps().rx_queues. */
  uint16_t rx_burst(uint16_t queue, rte_mbuf** pkts, uint16_t n) override {
    if (guard_ == nullptr) return rte_eth_rx_burst(port_id_, queue, pkts, n);
    guard_->enter(queue);
    const uint16_t got = rte_eth_rx_burst(port_id_, queue, pkts, n);
    guard_->leave(queue);
    return got;
  }
  /** rte_eth_tx_burst(): the first (returned) frames belong to the device. @p queue < caps().tx_queues. */
  uint16_t tx_burst(uint16_t queue, rte_mbuf** pkts, uint16_t n) override {
    if (guard_ == nullptr) return rte_eth_tx_burst(port_id_, queue, pkts, n);
    guard_->enter(queue);
    const uint16_t sent = rte_eth_tx_burst(port_id_, queue, pkts, n);
    guard_->leave(queue);
    return sent;
  }
  /** rte_eth_link_get_nowait(); down with speed 0 if the device cannot tell. */
  LinkStatus link() const override;
  /**
   * rte_eth_stats_get(): rx_dropped = imissed + rx_nombuf. tx_dropped stays
   * 0: frames the device refuses are returned to the caller by tx_burst(),
   * not dropped, and the data path keeps no counters of its own.
   */
  PortStats stats() const override;
  /** The key, hash functions and RETA read back from the device after open() spread the RETA. */
  bool rss_state(RssState& out) const override;

 private:
  DpdkPort() = default;
  void close_device() noexcept;
  bool program_rss(const rte_eth_dev_info& info, uint16_t rx_queues, const char* lb);

  std::string name_;
  std::string device_;
  uint16_t port_id_ = 0;
  bool probed_ = false;   // open() probed the device, so it removes it
  bool started_ = false;  // rte_eth_dev_start() succeeded
  bool opened_ = false;   // open() succeeded: the destructor stops and closes
  bool touched_ = false;  // open() found or probed the device
  PortCaps caps_{};
  RssState rss_;
  BurstGuard* guard_ =
      nullptr;  // net_memif: bursts marked so its control thread's munmap waits (burst_guard.hpp)
};

}  // namespace tern::drivers
