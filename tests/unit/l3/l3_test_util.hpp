/**
 * @file
 * Helpers for the l3 tests: byte builders for Ethernet/IPv4/ICMP/UDP, a
 * recording transport, and Host, one interface + IPv4 + ICMP on a Port
 * (what Core wires together, without lib/stack).
 */
#pragma once

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <optional>
#include <span>
#include <vector>

#include "tern/base/byteorder.hpp"
#include "tern/base/checksum.hpp"
#include "tern/l2/interface.hpp"
#include "tern/l3/icmp.hpp"
#include "tern/l3/ipv4.hpp"
#include "tern/port/tx_queue.hpp"
#include "tern/wire/ethernet.hpp"
#include "tern/wire/icmp.hpp"
#include "tern/wire/ipv4.hpp"
#include "test_support.hpp"

namespace tern::l3::test {

using Bytes = std::vector<uint8_t>;
using wire::Ipv4Addr;
using wire::MacAddr;

inline constexpr uint64_t kSec = 1'000'000'000;

/** The fields of an IPv4 header a test sets. */
struct IpSpec {
  Ipv4Addr src;
  Ipv4Addr dst;
  uint8_t proto = 17;
  uint8_t ttl = 64;
  uint16_t id = 0x1234;
  bool df = false;
  bool mf = false;
  uint16_t frag_offset = 0;  // bytes
  uint8_t tos = 0;
  Bytes options;  // raw, a multiple of 4
};

/** An IPv4 datagram: a header with a correct checksum, then @p payload. */
inline Bytes ipv4_bytes(const IpSpec& s, std::span<const uint8_t> payload) {
  wire::Ipv4Header h;
  h.tos = s.tos;
  h.id = s.id;
  h.df = s.df;
  h.mf = s.mf;
  h.frag_offset = s.frag_offset;
  h.ttl = s.ttl;
  h.protocol = s.proto;
  h.src = s.src;
  h.dst = s.dst;
  std::copy(s.options.begin(), s.options.end(), h.options.begin());
  h.options_len = static_cast<uint8_t>(s.options.size());
  h.total_length = static_cast<uint16_t>(h.length() + payload.size());
  Bytes b(h.length());
  h.emit(b, true);
  b.insert(b.end(), payload.begin(), payload.end());
  return b;
}

inline Bytes eth_frame(const MacAddr& dst, const MacAddr& src, uint16_t type,
                       std::span<const uint8_t> payload) {
  wire::EthernetHeader eh{dst, src, type, std::nullopt};
  Bytes f(eh.length());
  eh.emit(f);
  f.insert(f.end(), payload.begin(), payload.end());
  return f;
}

/** An ICMP message with a correct checksum. */
inline Bytes icmp_bytes(uint8_t type, uint8_t code, uint32_t rest, std::span<const uint8_t> body) {
  Bytes b(wire::kIcmpHeaderLen);
  b[0] = type;
  b[1] = code;
  store_be32(&b[4], rest);
  b.insert(b.end(), body.begin(), body.end());
  store_be16(&b[2], internet_checksum(b));
  return b;
}

/** A UDP datagram (header + payload) with its checksum over the pseudo-header. */
inline Bytes udp_bytes(Ipv4Addr src, Ipv4Addr dst, uint16_t sport, uint16_t dport,
                       std::span<const uint8_t> payload) {
  Bytes b(8);
  store_be16(&b[0], sport);
  store_be16(&b[2], dport);
  store_be16(&b[4], static_cast<uint16_t>(8 + payload.size()));
  b.insert(b.end(), payload.begin(), payload.end());
  ChecksumAccumulator acc;
  add_ipv4_pseudo_header(acc, src.v, dst.v, 17, static_cast<uint16_t>(b.size()));
  acc.add(b);
  uint16_t c = acc.finish();
  store_be16(&b[6], c == 0 ? 0xffff : c);
  return b;
}

inline Bytes pattern(size_t n, uint8_t seed = 0) {
  Bytes b(n);
  for (size_t i = 0; i < n; ++i) b[i] = static_cast<uint8_t>(seed + i * 31 + (i >> 8));
  return b;
}

/** A transport that records what it gets; answers port_unreachable when told to. */
class RecordingL4 final : public L4Handler {
 public:
  struct Error {
    IcmpError err;
    Bytes quoted;
  };
  std::vector<Bytes> payloads;
  std::vector<Ipv4Meta> metas;
  std::vector<Error> errors;
  bool closed = false;

  L4Verdict input(Packet& payload, const Ipv4Meta& meta, uint64_t) override {
    if (closed) return L4Verdict::port_unreachable;
    payloads.push_back(tern::test::bytes_of(payload));
    metas.push_back(meta);
    payload.reset();
    return L4Verdict::consumed;
  }
  void icmp_error(const IcmpError& err, uint64_t) override {
    errors.push_back({err, Bytes(err.quoted_l4.begin(), err.quoted_l4.end())});
    errors.back().err.quoted_l4 = {};
  }
};

inline PortCaps caps_for(const MacAddr& mac, uint16_t mtu = 1500) {
  PortCaps c;
  c.mac = mac.b;
  c.mtu = mtu;
  return c;
}

/** One interface, IPv4 and ICMP on queue 0 of @p port: a host without lib/stack. */
class Host {
 public:
  Host(Port& port, wire::Ipv4Prefix addr, const Ipv4Params& ip_params = {},
       const IcmpParams& icmp_params = {})
      : port_(port),
        tx_(port, 0),
        iface_(iface_params(addr), tx_, tern::test::pool()),
        ip_(ip_params, {&iface_}, routes(addr), tern::test::pool()),
        icmp_(icmp_params, ip_) {}

  /** Take one frame as if received now, then flush what that caused. */
  void receive(Packet&& frame, uint64_t now) {
    bool link_bcast = false;  // as Core::poll() does
    Packet d = iface_.input(std::move(frame), now, &link_bcast);
    if (d) ip_.input(std::move(d), iface_, now, link_bcast);
    tx_.flush();
  }
  void receive(std::span<const uint8_t> frame, uint64_t now) { receive(tern::test::make_packet(frame), now); }
  /** As Core::poll() does for a router: the forwarding fast path first, then the full path. */
  bool receive_fast_first(std::span<const uint8_t> frame, uint64_t now) {
    Packet p = tern::test::make_packet(frame);
    bool fast = ip_.forward_fast(p, iface_, now);
    if (!fast) receive(std::move(p), now);
    tx_.flush();
    return fast;
  }
  /** Receive everything waiting on the port. @return frames received. */
  size_t poll(uint64_t now) {
    size_t n = 0;
    rte_mbuf* m = nullptr;
    while (port_.rx_burst(0, &m, 1) == 1) {
      receive(Packet(m), now);
      ++n;
    }
    tx_.flush();
    return n;
  }
  /** Timers (what Core's housekeeping does). */
  void tick(uint64_t now) {
    iface_.tick(now);
    ip_.tick(now);
    tx_.flush();
  }
  Status output(std::span<const uint8_t> l4, const OutputParams& p, uint64_t now) {
    Status s = ip_.output(tern::test::make_packet(l4), p, now);
    tx_.flush();
    return s;
  }

  l2::Interface& iface() { return iface_; }
  Ipv4& ip() { return ip_; }
  Icmp& icmp() { return icmp_; }
  TxQueue& tx() { return tx_; }

 private:
  static l2::InterfaceParams iface_params(wire::Ipv4Prefix addr) {
    l2::InterfaceParams p;
    p.name = "if0";
    p.address = addr;
    return p;
  }
  static RouteTable routes(wire::Ipv4Prefix addr) {
    RouteTable r;
    EXPECT_TRUE(r.add(Route{addr, Ipv4Addr{}, 0}).ok());
    return r;
  }

  Port& port_;
  TxQueue tx_;
  l2::Interface iface_;
  Ipv4 ip_;
  Icmp icmp_;
};

/** Frames waiting on @p port's RX queue 0, copied out and freed. */
inline std::vector<Bytes> drain(Port& port) {
  std::vector<Bytes> out;
  rte_mbuf* m = nullptr;
  while (port.rx_burst(0, &m, 1) == 1) {
    Packet p(m);
    out.push_back(tern::test::bytes_of(p));
  }
  return out;
}

/** The IPv4 datagram inside an Ethernet frame (no VLAN). */
inline std::span<const uint8_t> l3_of(const Bytes& frame) {
  return std::span<const uint8_t>(frame).subspan(wire::kEthernetHeaderLen);
}

}  // namespace tern::l3::test
