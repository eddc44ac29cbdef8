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
#include <string>
#include <vector>

#include "tern/base/json.hpp"
#include "tern/base/timer_wheel.hpp"
#include "tern/buf/packet.hpp"
#include "tern/config/config.hpp"
#include "tern/l2/interface.hpp"
#include "tern/l3/gro.hpp"
#include "tern/l3/icmp.hpp"
#include "tern/l3/ipv4.hpp"
#include "tern/port/port.hpp"
#include "tern/port/tx_queue.hpp"
#include "tern/stack/steering.hpp"
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
  /**
   * Several cores: who owns each received frame (not owned; outlives the core). Null: one core,
   * every frame is this core's. Interface i is port i of the steering's modes.
   */
  const FlowSteering* steering = nullptr;
  uint32_t selftest_frames = 64;  ///< hardware mode: TCP/UDP frames whose NIC hash is checked per interface
};

/**
 * The TCP engine parameters of one core for the `tcp:` section of the
 * configuration: times to ns, `congestion` to tcp::CcAlgo, the socket
 * defaults (buffers, nodelay, keepalive) into TcpParams::socket, the RTO
 * bounds into TcpParams::rtt. Limits are per core: Stack::create() gives
 * every core these same values (max_connections is not divided among
 * cores). Fields the config does not name keep TcpParams' defaults.
 * @p cfg must have passed config::validate().
 */
tcp::TcpParams tcp_params(const config::TcpConfig& cfg);

/**
 * Keys of the `tcp:` section (and `tcp.keepalive:`) with a number or a switch that tcp_params()
 * maps to no engine field: what a new key forgot. Empty when every key is mapped (a unit test
 * checks it); the three name keys (congestion, recovery, ecn) are mapped by hand and not listed.
 */
std::vector<std::string> tcp_keys_without_engine_field();

class Core;

/**
 * A unit of work crossing cores (Core::submit_to): @p fn runs on the target
 * core's thread, then @p done on the sender's. Heap-allocated by the sender,
 * deleted by whichever core runs its last part.
 */
struct Envelope {
  std::function<void(Core&)> fn;    ///< run on the target core
  std::function<void(Core&)> done;  ///< then on the sender's core; empty: nothing comes back
  uint16_t from = 0xffff;           ///< the sender core (0xffff: a thread that is not a core)
  bool completion = false;          ///< on its way back: run done
};

/**
 * The rings that join the cores of one stack, one of each kind per core
 * (index = core number), each drained only by its core once per poll:
 * `steer` carries SteeredPacket elements (frames handed to their owner),
 * `mail` carries Envelope pointers (the mailbox). Multi-producer,
 * single-consumer, bounded: a full ring is a counted drop (frames) or an
 * error to the sender (mail), never a wait.
 */
struct CoreLinks {
  std::vector<rte_ring*> steer;
  std::vector<rte_ring*> mail;

  /**
   * Create the rings for @p cores cores (names start with @p prefix) on NUMA @p socket.
   * @return false with @p error set (what failed, what to do) on failure; what was made is freed.
   */
  bool create(uint16_t cores, const std::string& prefix, uint32_t steer_size, uint32_t mail_size, int socket,
              std::string& error);
  /** Free what is still queued (frames back to their pools, envelopes deleted unrun) and the rings. */
  void destroy() noexcept;
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
  uint64_t steered_out = 0;       ///< frames handed to their owner core
  uint64_t steered_in = 0;        ///< frames other cores handed to this one
  uint64_t steer_dropped = 0;     ///< hand-overs that found the owner's ring full (frame freed)
  uint64_t missteered = 0;  ///< hardware mode: frames that arrived on this core's queue but are not its own
  uint64_t selftest_checked = 0;  ///< hardware mode: NIC hashes compared with the software hash
  uint64_t selftest_failed = 0;   ///< ... that differed (the port was switched to software steering)
  uint64_t mail_sent = 0;         ///< tasks this core submitted
  uint64_t mail_refused = 0;      ///< submissions refused: the target's mailbox was full
  uint64_t mail_run = 0;          ///< tasks run on this core (from any core or thread)
  uint64_t mail_completions = 0;  ///< completions run on this core
  uint64_t mail_deferred = 0;     ///< completions that found the sender's mailbox full (retried)
  uint64_t pool_low = 0;          ///< checks that found the pool below its low-water mark (TCP reclaimed)
  uint64_t pool_reclaimed = 0;    ///< truesize bytes TCP freed at those checks
  BufStats buf;                   ///< copies/linearizations on this core (snapshot)
  ChecksumStats gro_csum;         ///< checksums GRO verified (Core::checksum_stats() sums all)
  l3::GroStats gro;               ///< software GRO on received bursts (docs/offloads.md)
};

class alignas(64) Core {
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
   * Join this core to its siblings (@p links outlives the core; its rings
   * at index index() are this core's). Then:
   * - frames another core owns (CoreParams::steering) are handed to it, and
   *   frames handed to this core are taken in poll();
   * - submit_to() reaches any core;
   * - neighbour sharing: ARP answers reach whichever core the NIC picks, so a
   *   core that learns a mapping sends it to every sibling through the
   *   mailbox; a sibling updates only entries it already has (waking queued
   *   packets), never creating any.
   */
  void connect(const CoreLinks& links);
  /**
   * Run @p fn on core @p target's thread during its next poll, then @p done
   * (if any) back on this core's. Call on this core's thread. The target may
   * be this core. Errors: invalid_argument (no such core, or not connected),
   * would_block (the target's mailbox is full: nothing was queued; retry
   * later). A completion that finds this core's mailbox full waits on the
   * target and is retried every poll, so it is never lost.
   */
  Status submit_to(uint16_t target, std::function<void(Core&)> fn, std::function<void(Core&)> done = {});
  /** Number of cores joined by connect() (1 when alone). */
  uint16_t core_count() const noexcept { return links_ ? static_cast<uint16_t>(links_->mail.size()) : 1; }
  /** The time of the current (or last) poll. */
  uint64_t now() const noexcept { return now_; }
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
  /** Every interface's port reports its link up (load generators wait for it before starting). */
  bool links_up() const noexcept {
    for (const CoreInterface& ci : p_.interfaces) {
      if (ci.port == nullptr || !ci.port->link().up) return false;
    }
    return true;
  }
  l2::Interface& interface(size_t i) noexcept { return *ifaces_[i]; }
  const CoreStats& stats() const noexcept { return stats_; }
  /** Copy this thread's buffer counters into stats() (call on the core's own thread). */
  void snapshot_buf_stats() noexcept { stats_.buf = buf_stats(); }
  /** Where this core's transport checksums were computed, verified or skipped (all layers). */
  ChecksumStats checksum_stats() const noexcept;
  /** Write this core's counters as a JSON object. */
  void write_json(JsonWriter& w) const;

 private:
  static void housekeeping(Timer& t, uint64_t now);
  static void on_learn(void* ctx, uint16_t iface, wire::Ipv4Addr ip, const wire::MacAddr& mac);
  static bool on_reassembled(void* ctx, Packet& dgram, uint16_t iface, bool broadcast);
  static bool on_pin(void* ctx, const tcp::FourTuple& t, bool on);
  void learn_from_sibling(uint16_t iface, wire::Ipv4Addr ip, const wire::MacAddr& mac);
  void check_pool();
  void receive(size_t i, rte_mbuf** pkts, uint16_t n, uint64_t now);
  void input_frame(size_t i, rte_mbuf* m, uint64_t now);
  uint16_t owner_of(size_t i, const rte_mbuf* m);
  void hand_over(uint16_t owner, SteeredPacket e);
  void flush_hand_overs();
  uint32_t drain_steered(uint64_t now);
  void drain_mail();
  bool post(uint16_t target, Envelope* e) noexcept;

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
  const CoreLinks* links_ = nullptr;
  uint64_t now_ = 0;
  std::vector<uint32_t> selftest_left_;              // per interface, hardware mode
  std::vector<std::vector<SteeredPacket>> handoff_;  // per owner core: this burst's frames for it
  std::vector<Envelope*> deferred_;                  // completions waiting for room in their sender's mailbox
};

}  // namespace tern
