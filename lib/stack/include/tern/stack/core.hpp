/**
 * @file
 * Core: the per-lcore stack instance. It owns this core's queue on every
 * port, its interfaces (ARP tables), IPv4 (routes, reassembly), ICMP, UDP,
 * its timer wheel and counters. poll() is one turn of the loop:
 * RX burst -> l2 -> l3 -> transports, timers, application events, TCP output, TX flush.
 * Nothing here is shared with another core.
 */
#pragma once

#include <rte_ring.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <vector>

#include "tern/base/json.hpp"
#include "tern/base/timer_wheel.hpp"
#include "tern/buf/packet.hpp"
#include "tern/l2/interface.hpp"
#include "tern/l3/icmp.hpp"
#include "tern/l3/ipv4.hpp"
#include "tern/port/port.hpp"
#include "tern/port/tx_queue.hpp"
#include "tern/tcp/tcp.hpp"
#include "tern/udp/udp.hpp"

namespace tern {

/** One interface of a core: the port, this core's queue on it, and its L2 parameters. */
struct CoreInterface {
  Port* port = nullptr;
  uint16_t queue = 0;
  l2::InterfaceParams params;
};

/** Everything a Core needs; built by Stack (or by a test). */
struct CoreParams {
  uint16_t index = 0;           ///< core number (0..n-1)
  rte_mempool* pool = nullptr;  ///< this core's mbuf pool
  std::vector<CoreInterface> interfaces;
  l3::RouteTable routes;  ///< connected routes are added from the interfaces
  l3::Ipv4Params ipv4;
  l3::IcmpParams icmp;
  udp::UdpParams udp;
  tcp::TcpParams tcp;
  uint64_t housekeeping_ns = 100'000'000;  ///< ARP/reassembly timers period
  uint16_t rx_burst = 32;
  /**
   * Free mbufs in `pool` below which TCP's out-of-order queues are pruned at once
   * (docs/robustness.md): the part of TcpParams::rx_reserve that is not sitting in RX/TX rings
   * or the mempool cache. 0: max(rx_reserve / 8, 2 * rx_burst).
   */
  uint32_t pool_low_water = 0;
};

/** Per-core loop counters. */
struct CoreStats {
  uint64_t polls = 0;
  uint64_t busy_polls = 0;  ///< polls that received something
  uint64_t rx_packets = 0;
  uint64_t last_rx_ns = 0;        ///< time of the last received frame
  uint64_t neigh_shared = 0;      ///< neighbour updates posted to siblings
  uint64_t neigh_share_lost = 0;  ///< posts that found a sibling's inbox full
  uint64_t neigh_received = 0;    ///< updates taken from siblings
  uint64_t pool_low = 0;          ///< checks that found the pool below its low-water mark (TCP reclaimed)
  uint64_t pool_reclaimed = 0;    ///< truesize bytes TCP freed at those checks
  BufStats buf;                   ///< copies/linearizations on this core (snapshot)
};

class Core {
 public:
  explicit Core(CoreParams params);
  ~Core();
  Core(const Core&) = delete;
  Core& operator=(const Core&) = delete;

  /** Free mbufs below which TCP gives back out-of-order data (CoreParams::pool_low_water as applied). */
  uint32_t pool_low_water() const noexcept { return low_water_; }
  /** Send gratuitous ARPs; call once before the first poll(). */
  void start(uint64_t now);
  /** One turn of the loop at time @p now. @return frames received. */
  uint32_t poll(uint64_t now);
  /**
   * Join this core to its siblings for neighbour sharing: ARP answers are
   * delivered to whichever queue the NIC picks, so a core that learns a
   * mapping posts it to every sibling's @p inbox (a multi-producer,
   * single-consumer ring of NeighUpdate elements); each core drains its own
   * in poll() and updates only entries it already has (waking queued packets).
   * @p inbox is owned by the caller and outlives the core.
   */
  void connect_siblings(rte_ring* inbox, std::vector<rte_ring*> sibling_inboxes);
  /** One neighbour update crossing cores (16 bytes: the ring's element size). */
  struct NeighUpdate {
    uint32_t ip;
    uint8_t mac[6];
    uint16_t iface;
    uint32_t pad;
  };
  /** Optional hook run at the end of every poll() (application work, client load). */
  void set_on_poll(std::function<void(Core&, uint64_t)> fn) { on_poll_ = std::move(fn); }

  uint16_t index() const noexcept { return p_.index; }
  rte_mempool* pool() const noexcept { return p_.pool; }
  l3::Ipv4& ipv4() noexcept { return *ipv4_; }
  l3::Icmp& icmp() noexcept { return *icmp_; }
  udp::Udp& udp() noexcept { return *udp_; }
  tcp::Tcp& tcp() noexcept { return *tcp_; }
  TimerWheel& timers() noexcept { return wheel_; }
  size_t interface_count() const noexcept { return ifaces_.size(); }
  l2::Interface& interface(size_t i) noexcept { return *ifaces_[i]; }
  const CoreStats& stats() const noexcept { return stats_; }
  /** Copy this thread's buffer counters into stats() (call on the core's own thread). */
  void snapshot_buf_stats() noexcept { stats_.buf = buf_stats(); }
  /** Write this core's counters as a JSON object. */
  void write_json(JsonWriter& w) const;

 private:
  static void housekeeping(Timer& t, uint64_t now);
  static void on_learn(void* ctx, uint16_t iface, wire::Ipv4Addr ip, const wire::MacAddr& mac);
  void drain_inbox(uint64_t now);
  void check_pool();

  CoreParams p_;
  std::vector<std::unique_ptr<TxQueue>> tx_;
  std::vector<std::unique_ptr<l2::Interface>> ifaces_;
  std::unique_ptr<l3::Ipv4> ipv4_;
  std::unique_ptr<l3::Icmp> icmp_;
  std::unique_ptr<udp::Udp> udp_;
  std::unique_ptr<tcp::Tcp> tcp_;
  TimerWheel wheel_;
  Timer housekeeping_timer_;
  CoreStats stats_;
  uint32_t low_water_ = 0;  ///< CoreParams::pool_low_water as applied
  std::function<void(Core&, uint64_t)> on_poll_;
  rte_ring* inbox_ = nullptr;
  std::vector<rte_ring*> siblings_;
};

}  // namespace tern
