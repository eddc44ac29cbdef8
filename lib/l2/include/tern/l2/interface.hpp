/**
 * @file
 * Interface: one port as one core sees it (its RX/TX queue pair, MAC, IPv4
 * address, neighbour table). Receive: Core::poll() hands each frame to
 * input(), which answers ARP itself and returns IPv4 datagrams (Ethernet
 * header trimmed) for lib/l3. Transmit: lib/l3 calls send_ipv4() with a
 * datagram and its next hop; the neighbour table resolves the MAC, the
 * Ethernet header goes into headroom, and the frame joins the TxQueue.
 */
#pragma once

#include <cstdint>
#include <string>

#include "tern/base/checksum.hpp"
#include "tern/buf/packet.hpp"
#include "tern/l2/neighbour.hpp"
#include "tern/l2/stats.hpp"
#include "tern/port/port.hpp"
#include "tern/port/tx_queue.hpp"
#include "tern/wire/addr.hpp"
#include "tern/wire/ethernet.hpp"

namespace tern::l2 {

/** Static description of an interface. */
struct InterfaceParams {
  uint16_t index = 0;        ///< position in the core's interface list
  std::string name;          ///< for logs and counters
  wire::Ipv4Prefix address;  ///< our address and its connected prefix
  NeighbourParams neighbour;
  bool gratuitous_arp = true;  ///< announce our address at start
  /// Transport checksums (docs/offloads.md): automatic uses what the port offers; software
  /// ignores the port's checksum and TSO offloads; trusted neither computes nor verifies.
  ChecksumMode checksum = ChecksumMode::automatic;
  /// TCP may hand this interface super-segments of up to 64 KiB: the port cuts them (TSO) or
  /// the software GSO does just before TX. Off: TCP builds one MSS-sized segment at a time.
  bool gso = true;
  /// Merge in-order TCP segments of one flow within an RX burst before TCP input (Core, l3/gro).
  bool gro = true;
};

class alignas(64) Interface final : private NeighbourSink {
 public:
  /**
   * @param tx the egress batch of this core's queue on the port (outlives this)
   * @param pool where ARP frames and fallback header mbufs come from
   */
  Interface(const InterfaceParams& params, TxQueue& tx, rte_mempool* pool);
  Interface(const Interface&) = delete;
  Interface& operator=(const Interface&) = delete;

  /**
   * Receive one frame (takes ownership). ARP is handled here.
   * @return the IPv4 datagram (data at the IPv4 header) for lib/l3, or an
   *         empty Packet when the frame was consumed or dropped (counted).
   *         @p link_broadcast (optional) is set when the frame went to ff:ff:ff:ff:ff:ff.
   */
  Packet input(Packet&& frame, uint64_t now, bool* link_broadcast = nullptr);
  /**
   * Transmit an IPv4 datagram (data at the IPv4 header) to @p next_hop on
   * this link (takes ownership); a limited or directed broadcast goes to ff:ff:ff:ff:ff:ff.
   */
  void send_ipv4(Packet dgram, wire::Ipv4Addr next_hop, uint64_t now);
  /** Transmit an IPv4 datagram to a known MAC, without ARP (static next hops). Takes ownership. */
  void send_ipv4_to(Packet dgram, const wire::MacAddr& dst) {
    emit(std::move(dgram), dst, wire::ethertype::ipv4);
  }
  /** Neighbour timers; call about every 100 ms. */
  void tick(uint64_t now) { neigh_.tick(now); }
  /** Send a gratuitous ARP announcing our address (RFC 5227 §3 announcement). */
  void announce(uint64_t now);
  /**
   * Called after ARP taught this interface that @p ip is at @p mac (so a
   * Core can tell its sibling cores, whose queues may never see the reply).
   */
  using LearnHook = void (*)(void* ctx, uint16_t iface, wire::Ipv4Addr ip, const wire::MacAddr& mac);
  void set_learn_hook(LearnHook fn, void* ctx) noexcept {
    learn_hook_ = fn;
    learn_ctx_ = ctx;
  }
  /** Queue a finished frame for transmit (takes ownership). */
  void transmit_frame(Packet&& frame) {
    // A TCP super-segment (RTE_MBUF_F_TX_TCP_SEG): the port cuts it, or the software GSO does.
    if ((frame.ol_flags() & RTE_MBUF_F_TX_TCP_SEG) != 0) [[unlikely]] {
      transmit_super(std::move(frame));
      return;
    }
    queue_frame(std::move(frame));
  }
  /** Count a received IPv4 frame that a fast path consumed without input(). */
  void count_rx_ipv4() noexcept {
    ++stats_.rx_frames;
    ++stats_.rx_ipv4;
  }

  uint16_t index() const noexcept { return p_.index; }
  const std::string& name() const noexcept { return p_.name; }
  const wire::MacAddr& mac() const noexcept { return mac_; }
  wire::Ipv4Addr address() const noexcept { return p_.address.addr; }
  const wire::Ipv4Prefix& prefix() const noexcept { return p_.address; }
  uint16_t mtu() const noexcept { return caps_.mtu; }
  /**
   * The port's capabilities as this interface uses them: the checksum mode
   * (InterfaceParams::checksum) has removed the offloads it overrides.
   */
  const PortCaps& caps() const noexcept { return caps_; }
  ChecksumMode checksum_mode() const noexcept { return p_.checksum; }
  /** Checksum work done here: trusted receive, the software GSO's per-frame checksums. */
  const ChecksumStats& checksum_stats() const noexcept { return csum_; }
  /**
   * Largest TCP super-segment (IPv4 datagram bytes) TCP may hand this
   * interface: 65535 with TSO or the software GSO, 0 when TCP must build
   * MSS-sized segments (InterfaceParams::gso off).
   */
  uint32_t gso_max() const noexcept { return gso_max_; }
  /** Merge received TCP segments (InterfaceParams::gro). */
  bool gro() const noexcept { return p_.gro; }
  /** True for our own address. */
  bool is_local(wire::Ipv4Addr a) const noexcept { return a == p_.address.addr; }
  /** True for 255.255.255.255 and our subnet's directed broadcast. */
  bool is_broadcast(wire::Ipv4Addr a) const noexcept {
    return a.is_broadcast() || (has_subnet_broadcast() && a == p_.address.broadcast());
  }
  /** /31 and /32 have no directed broadcast (RFC 3021); every shorter prefix has one. */
  bool has_subnet_broadcast() const noexcept { return p_.address.len < 31; }
  const L2Stats& stats() const noexcept { return stats_; }
  const NeighbourTable& neighbours() const noexcept { return neigh_; }
  NeighbourTable& neighbours() noexcept { return neigh_; }
  rte_mempool* pool() const noexcept { return pool_; }
  TxQueue& tx() noexcept { return tx_; }

 private:
  bool linearize_for_tx(Packet& frame);
  // The last step of every frame (whole, TSO or cut by the GSO): the one place that knows the port,
  // where a chain goes flat for ports that cannot send chains (counted).
  void queue_frame(Packet&& frame) {
    if (frame.segments() > 1 && !caps_.multi_seg_tx && !linearize_for_tx(frame)) return;
    ++stats_.tx_frames;
    tx_.push(std::move(frame));
  }
  // gso.cpp: a TCP super-segment to the port (TSO) or cut here (segment_and_send), out of line.
  void transmit_super(Packet&& frame);
  // gso.cpp: cut a TCP super-segment into frames of tso_segsz payload and queue them.
  void segment_and_send(Packet&& frame);
  void arp_input(Packet&& frame, size_t eth_len, uint64_t now);
  void arp_reply_in_place(Packet&& frame, const wire::MacAddr& to_mac, wire::Ipv4Addr to_ip);
  void send_arp(uint16_t op, const wire::MacAddr& eth_dst, const wire::MacAddr& tha, wire::Ipv4Addr tpa);
  void emit(Packet payload, const wire::MacAddr& dst, uint16_t ethertype);
  // NeighbourSink
  void neigh_request(wire::Ipv4Addr target, const wire::MacAddr* unicast, uint64_t now) override;
  void neigh_transmit(Packet&& dgram, const wire::MacAddr& dst) override;

  InterfaceParams p_;
  TxQueue& tx_;
  rte_mempool* pool_;
  PortCaps caps_;
  uint32_t gso_max_ = 0;
  ChecksumStats csum_;
  wire::MacAddr mac_;
  L2Stats stats_;
  NeighbourTable neigh_;
  LearnHook learn_hook_ = nullptr;
  void* learn_ctx_ = nullptr;
};

}  // namespace tern::l2
