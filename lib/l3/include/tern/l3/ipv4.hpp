/**
 * @file
 * IPv4 for one core. Receive: l2::Interface::input() returns a datagram,
 * Core::poll() passes it to Ipv4::input(), which validates it once
 * (RFC 791, RFC 1122 §3.2.1), reassembles fragments, and hands the payload
 * to the transport registered for its protocol (UDP, TCP, ICMP). Transmit:
 * a transport calls output() with its segment; the IPv4 header goes into
 * headroom, the route table picks the interface and next hop, datagrams
 * above the path MTU are fragmented, and l2 resolves and sends.
 */
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <span>
#include <vector>

#include "tern/base/result.hpp"
#include "tern/buf/packet.hpp"
#include "tern/l2/interface.hpp"
#include "tern/l3/ip_id.hpp"
#include "tern/l3/reassembly.hpp"
#include "tern/l3/route.hpp"
#include "tern/l3/stats.hpp"
#include "tern/wire/addr.hpp"
#include "tern/wire/ipv4.hpp"

namespace tern::l3 {

/** Facts about a received datagram, passed to transports with its payload. */
struct Ipv4Meta {
  wire::Ipv4Addr src, dst;
  uint8_t proto = 0;
  uint8_t ttl = 0;
  uint8_t tos = 0;
  uint8_t header_len = 20;
  uint16_t iface = 0;
  bool broadcast = false;     ///< sent to an IP or link-layer broadcast address
  bool l4_csum_good = false;  ///< the NIC verified the transport checksum
};

/** An ICMP error about a datagram we sent, delivered to its transport. */
struct IcmpError {
  uint8_t type = 0, code = 0;
  uint16_t next_hop_mtu = 0;  ///< for fragmentation needed (RFC 1191)
  wire::Ipv4Addr reporter;    ///< who sent the ICMP error
  wire::Ipv4Addr src, dst;    ///< of the quoted datagram (src is us)
  uint8_t proto = 0;
  std::span<const uint8_t> quoted_l4;  ///< at least 8 bytes of the quoted transport header
};

/** What a transport did with a datagram given to it. */
enum class L4Verdict {
  consumed,          ///< taken (queued, answered or dropped and counted by the transport)
  port_unreachable,  ///< nobody listens: the caller sends ICMP port unreachable and frees it
};

/** A transport protocol registered with Ipv4. */
class L4Handler {
 public:
  virtual ~L4Handler() = default;
  /**
   * A datagram's payload (data at the transport header). Take ownership by
   * moving from @p payload, or leave it and return port_unreachable.
   */
  virtual L4Verdict input(Packet& payload, const Ipv4Meta& meta, uint64_t now) = 0;
  /** An ICMP error about something this transport sent (RFC 1122 §3.2.2). */
  virtual void icmp_error(const IcmpError& err, uint64_t now) { (void)err, (void)now; }
};

/** Where a datagram to some destination would go. */
struct PathInfo {
  l2::Interface* iface = nullptr;
  wire::Ipv4Addr src;  ///< our address on that interface
  wire::Ipv4Addr next_hop;
  uint16_t mtu = 0;     ///< min(interface MTU, learned path MTU)
  wire::MacAddr mac{};  ///< the route's static next-hop MAC; zero: resolve next_hop by ARP
  /// The learned path MTU is the floor (Ipv4Params::pmtu_min) because a smaller one was reported:
  /// send without DF so a router on the real, smaller path can fragment (Linux's locked MTU).
  bool pmtu_locked = false;
};

/** How to send one datagram. */
struct OutputParams {
  wire::Ipv4Addr src;  ///< 0.0.0.0: the outgoing interface's address
  wire::Ipv4Addr dst;
  uint8_t proto = 0;
  uint8_t ttl = 0;  ///< 0: the configured default
  uint8_t tos = 0;
  bool dont_fragment = false;
  /**
   * The Identification of an atomic datagram (dont_fragment set), from a
   * sender that numbers its flow itself (a TCP connection). Ignored without
   * DF: datagrams that may be fragmented always take the per-destination
   * value of IpIdGenerator (RFC 6864 §4.1, RFC 7739 §5.3).
   */
  std::optional<uint16_t> id;
};

struct Ipv4Params {
  uint8_t default_ttl = 64;
  ReassemblyParams reassembly;
  uint64_t pmtu_expiry_ns = 600'000'000'000;  ///< RFC 1191 §6.3: learned PMTU ages out after 10 minutes
  /// Floor of a learned path MTU (RFC 5927 §7.2; Linux's min_pmtu, 552): a report below it
  /// records the floor and locks it (PathInfo::pmtu_locked). 68..9000 (config::validate).
  uint16_t pmtu_min = 552;
  bool forwarding = false;  ///< act as a router (RFC 1812) for datagrams not addressed to us
};

/**
 * Check the transport checksum of @p l4 (data at the UDP or TCP header, the
 * whole segment) over the IPv4 pseudo-header of @p meta (RFC 768, RFC 9293
 * §3.1). @return true when it sums to 0xffff.
 */
bool l4_checksum_ok(const Packet& l4, const Ipv4Meta& meta, ChecksumStats& st) noexcept;

/** How a transport checksum is filled on transmit. */
enum class L4Csum : uint8_t {
  software,  ///< computed here, over header and data
  offload,   ///< pseudo-header sum in the field, the NIC adds the rest
  none,      ///< trusted link (ChecksumMode::trusted): the pseudo-header sum only, nobody completes it
  deferred,  ///< a super-segment: the software GSO checksums each frame it cuts (l2/gso.cpp)
};

/** What an interface does with @p proto's checksum on transmit (its checksum mode and offloads). */
inline L4Csum l4_csum_tx(const l2::Interface& iface, uint8_t proto) noexcept {
  if (iface.checksum_mode() == ChecksumMode::trusted) return L4Csum::none;
  const PortCaps& c = iface.caps();
  return (proto == wire::ip_proto::udp ? c.tx_udp_csum : c.tx_tcp_csum) ? L4Csum::offload : L4Csum::software;
}

/**
 * Fill the UDP or TCP checksum of @p l4 (data at the transport header, whose
 * checksum field is at @p field_off) for @p src -> @p dst, as @p how says:
 * with offload the field gets the pseudo-header sum and the mbuf asks the NIC
 * for the rest (l4_len = @p l4_header_len); software computes it (a computed
 * UDP 0 is sent as 0xffff, RFC 768); none leaves the pseudo-header sum.
 * Counted in @p st.
 */
void fill_l4_checksum(Packet& l4, uint16_t field_off, wire::Ipv4Addr src, wire::Ipv4Addr dst, uint8_t proto,
                      L4Csum how, uint8_t l4_header_len, ChecksumStats& st) noexcept;

class Icmp;

class alignas(64) Ipv4 {
 public:
  /**
   * @param ifaces this core's interfaces, indexed by Interface::index() (they outlive this)
   * @param pool for fragments and header mbufs
   */
  Ipv4(const Ipv4Params& params, std::vector<l2::Interface*> ifaces, RouteTable routes, rte_mempool* pool);
  Ipv4(const Ipv4&) = delete;
  Ipv4& operator=(const Ipv4&) = delete;

  /** Register the transport for @p proto (null to remove). */
  void set_handler(uint8_t proto, L4Handler* h) noexcept { handlers_[proto] = h; }
  L4Handler* handler(uint8_t proto) const noexcept { return handlers_[proto]; }
  /** ICMP, used to report errors about received datagrams. */
  void set_icmp(Icmp* icmp) noexcept { icmp_ = icmp; }
  /**
   * Called with each datagram reassembly completes, before it is delivered:
   * @return true when the hook took it (another core owns its flow, issue 10).
   * @p iface is the interface it arrived on; @p broadcast whether it came as one.
   */
  using ReassembledHook = bool (*)(void* ctx, Packet& dgram, uint16_t iface, bool broadcast);
  void set_reassembled_hook(ReassembledHook h, void* ctx) noexcept {
    reasm_hook_ = h;
    reasm_ctx_ = ctx;
  }
  /**
   * Deliver a datagram another core reassembled and handed here (its head
   * segment holds the whole header, as reassembly leaves it).
   */
  void input_reassembled(Packet dgram, l2::Interface& iface, uint64_t now, bool broadcast);

  /**
   * A received datagram (data at the IPv4 header) from @p iface; takes ownership.
   * @p link_broadcast: it arrived in an Ethernet broadcast frame (no ICMP errors about it).
   */
  void input(Packet dgram, l2::Interface& iface, uint64_t now, bool link_broadcast = false);
  /**
   * Send @p l4 (data at the transport header) per @p params. Takes ownership
   * in every case. Errors: no_route, bad_length (over 65535), would_block
   * (DF and too big; the caller should lower its segment size), no_memory.
   */
  Status output(Packet l4, const OutputParams& params, uint64_t now);
  /** As above with the path already looked up by path(params.dst) (saves a second route lookup). */
  Status output(Packet l4, const OutputParams& params, const PathInfo& path, uint64_t now);
  /** Route, source address and path MTU toward @p dst. */
  Result<PathInfo> path(wire::Ipv4Addr dst) const noexcept;
  /**
   * Record a smaller path MTU toward @p dst (RFC 1191 §6.3), for pmtu_expiry_ns.
   * Only a transport that validated the ICMP message calls this (TCP: a quoted
   * sequence number in flight, RFC 5927 §4.1); ICMP itself never does.
   * Below Ipv4Params::pmtu_min the floor is recorded instead, locked (counted in
   * pmtu_clamped). Not below the current path MTU (the learned one, else the
   * interface's): ignored (pmtu_not_lower drop).
   * @return true when the path MTU was lowered.
   */
  bool update_pmtu(wire::Ipv4Addr dst, uint16_t mtu, uint64_t now) noexcept;
  /** True when @p a is one of our addresses. */
  bool is_local(wire::Ipv4Addr a) const noexcept {
    for (uint32_t x : locals_) {
      if (x == a.v) return true;
    }
    return false;
  }
  /** True when @p a is 255.255.255.255 or the subnet-directed broadcast of one of our interfaces. */
  bool is_our_broadcast(wire::Ipv4Addr a) const noexcept {
    if (a.is_broadcast()) return true;
    for (uint32_t x : broadcasts_) {
      if (x == a.v) return true;
    }
    return false;
  }
  /** Act as a router (RFC 1812) for datagrams not addressed to us, or stop. */
  void set_forwarding(bool on) noexcept { p_.forwarding = on; }
  bool forwarding() const noexcept { return p_.forwarding; }
  /**
   * The forwarding fast path (RFC 1812 §5.2-5.3 for the plain case), run on a
   * whole received Ethernet frame before l2::Interface::input(). It forwards
   * in place, rewriting the MACs and the TTL/checksum inside the frame, when
   * the frame is the common case: one segment, unicast to @p in's MAC,
   * untagged IPv4 without options, a good header checksum, TTL above 1,
   * neither address special nor ours nor one of our broadcasts, a route whose
   * next hop has a static or fresh MAC, and a length within the MTU. It then
   * takes @p frame and returns true, with the same counters the slow path
   * keeps. Otherwise it returns false and leaves @p frame untouched: the slow
   * path (input()) handles it, drops it with a reason or answers with ICMP.
   */
  bool forward_fast(Packet& frame, l2::Interface& in, uint64_t now);
  /** Reassembly timeouts (learned path MTUs age out lazily, when looked up). */
  void tick(uint64_t now);

  const L3Stats& stats() const noexcept { return stats_; }
  /** Transport checksum work of this core's transports (they count through csum()). */
  const ChecksumStats& checksum_stats() const noexcept { return csum_; }
  ChecksumStats& csum() noexcept { return csum_; }
  L3Stats& stats() noexcept { return stats_; }
  const RouteTable& routes() const noexcept { return routes_; }
  RouteTable& routes() noexcept { return routes_; }
  const std::vector<l2::Interface*>& interfaces() const noexcept { return ifaces_; }
  rte_mempool* pool() const noexcept { return pool_; }
  const Reassembler& reassembler() const noexcept { return reasm_; }

 private:
  struct PmtuEntry {
    uint32_t dst = 0;
    uint16_t mtu = 0;
    bool locked = false;  // reported below pmtu_min: mtu is the floor
    uint64_t expires_ns = 0;
  };
  std::optional<wire::Ipv4View> validate(Packet& dgram, bool link_broadcast, uint64_t now);
  void report_bad_options(Packet& dgram, bool link_broadcast, uint64_t now);
  bool source_valid(wire::Ipv4Addr src) const noexcept;
  void forward(Packet dgram, bool link_broadcast, uint64_t now);
  void transmit(Packet dgram, const PathInfo& path, uint64_t now);
  bool forward_checks(Packet& dgram, bool link_broadcast, uint64_t now, const Route*& route);
  void deliver(Packet dgram, const wire::Ipv4View& v, bool broadcast, l2::Interface& iface, uint64_t now,
               bool whole_frame);
  void finish_header(Packet& dgram, const PortCaps& caps);
  Status fragment(Packet dgram, const PathInfo& path, uint64_t now);
  void software_l4_checksum(Packet& dgram);
  uint16_t pmtu_lookup(wire::Ipv4Addr dst, bool* locked = nullptr) const noexcept;

  Ipv4Params p_;
  std::vector<l2::Interface*> ifaces_;
  RouteTable routes_;
  rte_mempool* pool_;
  L3Stats stats_;
  ChecksumStats csum_;
  Reassembler reasm_;
  std::array<L4Handler*, 256> handlers_{};
  Icmp* icmp_ = nullptr;
  ReassembledHook reasm_hook_ = nullptr;
  void* reasm_ctx_ = nullptr;
  IpIdGenerator ids_;
  uint64_t now_ = 0;
  std::array<PmtuEntry, 64> pmtu_{};
  // Our addresses and subnet-directed broadcasts (Interface::is_local/is_broadcast),
  // taken once: interfaces and their addresses are fixed at construction.
  std::vector<uint32_t> locals_, broadcasts_;
};

}  // namespace tern::l3
