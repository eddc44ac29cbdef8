// Ipv4 + Icmp: a Host (interface, IPv4, ICMP) on end a of a PairWire. The
// test plays the peer with hand-built frames and reads what the host sends
// from end b; fragmentation tests put a second Host on end b.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <vector>

#include "l3_test_util.hpp"
#include "tern/drivers/pair_wire.hpp"

namespace tern::l3 {
namespace {

using namespace tern::l3::test;

const MacAddr kHostMac{{0x02, 0x00, 0x00, 0x00, 0x00, 0x01}};
const MacAddr kPeerMac{{0x02, 0x00, 0x00, 0x00, 0x00, 0x02}};
const Ipv4Addr kHostIp = Ipv4Addr::from_octets(198, 18, 0, 1);
const Ipv4Addr kPeerIp = Ipv4Addr::from_octets(198, 18, 0, 2);
const Ipv4Addr kSubnetBcast = Ipv4Addr::from_octets(198, 18, 0, 255);
const Ipv4Addr kAllOnes{0xffffffffu};
constexpr uint8_t kUnknownProto = 99;

struct ParsedIcmp {
  Bytes ip;    // the whole datagram
  Bytes icmp;  // its payload
};

/** Parse a frame the host sent as IPv4/ICMP, checking both checksums. */
ParsedIcmp parse_icmp_frame(const Bytes& frame) {
  auto eh = wire::EthernetHeader::parse(frame);
  EXPECT_TRUE(eh.ok());
  if (!eh.ok()) return {};
  EXPECT_EQ(eh->ethertype, wire::ethertype::ipv4);
  auto v = wire::Ipv4View::parse(l3_of(frame));
  EXPECT_TRUE(v.ok());
  if (!v.ok()) return {};
  EXPECT_TRUE(v->checksum_ok()) << "IPv4 header checksum";
  EXPECT_EQ(v->protocol(), wire::ip_proto::icmp);
  EXPECT_TRUE(checksum_valid(v->payload())) << "ICMP checksum";
  return {Bytes(v->bytes().begin(), v->bytes().end()), Bytes(v->payload().begin(), v->payload().end())};
}

class Ipv4IcmpTest : public ::testing::Test {
 protected:
  explicit Ipv4IcmpTest(const Ipv4Params& ip = {}, const IcmpParams& icmp = {}, uint64_t start = 10 * kSec)
      : now_(start), host_(wire_.a(), wire::Ipv4Prefix{kHostIp, 24}, ip, icmp) {
    host_.iface().neighbours().learn(kPeerIp, kPeerMac, true, now_);
    host_.ip().set_handler(wire::ip_proto::udp, &udp_);
  }
  ~Ipv4IcmpTest() override { host_.ip().set_handler(wire::ip_proto::udp, nullptr); }

  IpSpec from_peer(uint8_t proto, Ipv4Addr dst = kHostIp) {
    IpSpec s;
    s.src = kPeerIp;
    s.dst = dst;
    s.proto = proto;
    return s;
  }
  /** Deliver an IPv4 datagram from the peer in a frame to @p eth_dst. */
  void inject(const Bytes& dgram, const MacAddr& eth_dst = kHostMac) {
    host_.receive(eth_frame(eth_dst, kPeerMac, wire::ethertype::ipv4, dgram), now_);
  }
  std::vector<Bytes> sent() { return drain(wire_.b()); }
  /** As sent(), without ARP frames (a stale neighbour entry is re-confirmed by a probe). */
  std::vector<Bytes> sent_ipv4() {
    std::vector<Bytes> out;
    for (Bytes& f : drain(wire_.b())) {
      if (load_be16(&f[12]) == wire::ethertype::ipv4) out.push_back(std::move(f));
    }
    return out;
  }
  const L3Stats& st() { return host_.ip().stats(); }

  uint64_t now_ = 10 * kSec;
  drivers::PairWire wire_{caps_for(kHostMac), caps_for(kPeerMac)};
  RecordingL4 udp_;
  Host host_;
};

TEST_F(Ipv4IcmpTest, EchoRequestGetsByteExactEchoReply) {
  const Bytes data = pattern(100, 5);
  IpSpec s = from_peer(wire::ip_proto::icmp);
  s.tos = 0x10;
  inject(ipv4_bytes(s, icmp_bytes(wire::icmp_type::echo_request, 0, 0x4242'0007, data)));
  auto out = sent();
  ASSERT_EQ(out.size(), 1u);
  auto eh = wire::EthernetHeader::parse(out[0]);
  EXPECT_EQ(eh->dst, kPeerMac);
  EXPECT_EQ(eh->src, kHostMac);
  ParsedIcmp r = parse_icmp_frame(out[0]);
  auto v = wire::Ipv4View::parse(r.ip);
  ASSERT_TRUE(v.ok());
  EXPECT_EQ(v->src(), kHostIp);
  EXPECT_EQ(v->dst(), kPeerIp);
  EXPECT_EQ(v->ttl(), 64u);
  EXPECT_EQ(v->tos(), 0x10u);
  EXPECT_EQ(v->total_length(), 20u + 8u + data.size());
  // RFC 792: type 0, same identifier, sequence and data.
  EXPECT_EQ(r.icmp, icmp_bytes(wire::icmp_type::echo_reply, 0, 0x4242'0007, data));
  EXPECT_EQ(st().icmp_echo_requests, 1u);
  EXPECT_EQ(st().icmp_out, 1u);
  EXPECT_EQ(st().rx_delivered, 1u);
  EXPECT_EQ(st().tx_datagrams, 1u);
}

TEST_F(Ipv4IcmpTest, EchoRequestInChainedMbufsIsAnswered) {
  const Bytes data = pattern(1000, 1);
  Bytes frame = eth_frame(kHostMac, kPeerMac, wire::ethertype::ipv4,
                          ipv4_bytes(from_peer(wire::ip_proto::icmp),
                                     icmp_bytes(wire::icmp_type::echo_request, 0, 0x0001'0002, data)));
  Packet chained = tern::test::make_packet(frame, 300);
  ASSERT_EQ(chained.segments(), 4u);
  host_.receive(std::move(chained), now_);
  auto out = sent();
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(parse_icmp_frame(out[0]).icmp, icmp_bytes(wire::icmp_type::echo_reply, 0, 0x0001'0002, data));
}

TEST_F(Ipv4IcmpTest, EchoRequestToBroadcastIsNotAnswered) {
  inject(ipv4_bytes(from_peer(wire::ip_proto::icmp, kSubnetBcast),
                    icmp_bytes(wire::icmp_type::echo_request, 0, 1, pattern(8))),
         MacAddr::broadcast());
  EXPECT_TRUE(sent().empty());
  EXPECT_EQ(st().icmp_echo_requests, 1u);
}

TEST_F(Ipv4IcmpTest, EchoRequestWithBadIcmpChecksumIsDropped) {
  Bytes icmp = icmp_bytes(wire::icmp_type::echo_request, 0, 1, pattern(20));
  icmp[12] ^= 0x01;
  inject(ipv4_bytes(from_peer(wire::ip_proto::icmp), icmp));
  EXPECT_TRUE(sent().empty());
  EXPECT_EQ(st().dropped(L3Drop::icmp_malformed), 1u);
}

TEST_F(Ipv4IcmpTest, DropsDatagramWithBadHeaderChecksum) {
  Bytes d = ipv4_bytes(from_peer(wire::ip_proto::icmp),
                       icmp_bytes(wire::icmp_type::echo_request, 0, 1, pattern(8)));
  d[10] ^= 0x40;
  inject(d);
  EXPECT_TRUE(sent().empty());
  EXPECT_EQ(st().dropped(L3Drop::bad_checksum), 1u);
  EXPECT_EQ(st().rx_delivered, 0u);
  EXPECT_EQ(st().icmp_in, 0u);
}

TEST_F(Ipv4IcmpTest, DatagramsWithTtlZeroOrOneToUsAreDelivered) {
  // RFC 1122 §3.2.1.7: a host MUST NOT discard a datagram just because it was received with TTL < 2.
  for (uint8_t ttl : {uint8_t{0}, uint8_t{1}}) {
    IpSpec s = from_peer(wire::ip_proto::udp);
    s.ttl = ttl;
    inject(ipv4_bytes(s, udp_bytes(kPeerIp, kHostIp, 1, 2, pattern(10, ttl))));
  }
  ASSERT_EQ(udp_.payloads.size(), 2u);
  EXPECT_EQ(udp_.metas[0].ttl, 0u);
  EXPECT_EQ(udp_.metas[1].ttl, 1u);
  EXPECT_EQ(udp_.payloads[0], udp_bytes(kPeerIp, kHostIp, 1, 2, pattern(10, 0)));
  // An echo request with TTL 0 is answered, and the answer carries our own TTL (never 0).
  IpSpec s = from_peer(wire::ip_proto::icmp);
  s.ttl = 0;
  inject(ipv4_bytes(s, icmp_bytes(wire::icmp_type::echo_request, 0, 0x0001'0001, pattern(8))));
  auto out = sent();
  ASSERT_EQ(out.size(), 1u);
  ParsedIcmp r = parse_icmp_frame(out[0]);
  ASSERT_GE(r.icmp.size(), 8u);
  EXPECT_EQ(r.icmp[0], wire::icmp_type::echo_reply);
  EXPECT_EQ(r.ip[8], 64u) << "RFC 1122 §3.2.1.7: a host MUST NOT send TTL 0";
  EXPECT_EQ(st().rx_delivered, 3u);
}

TEST_F(Ipv4IcmpTest, DropsDatagramNotForUs) {
  inject(ipv4_bytes(from_peer(kUnknownProto, Ipv4Addr::from_octets(198, 18, 0, 9)), pattern(20)));
  EXPECT_EQ(st().dropped(L3Drop::not_for_us), 1u);
  EXPECT_EQ(st().dropped(L3Drop::unknown_protocol), 0u);
  EXPECT_TRUE(sent().empty()) << "hosts neither forward nor complain";
}

TEST_F(Ipv4IcmpTest, DropsDatagramFromBroadcastSource) {
  IpSpec s = from_peer(wire::ip_proto::udp);
  s.src = kAllOnes;
  inject(ipv4_bytes(s, pattern(20)));
  EXPECT_EQ(st().dropped(L3Drop::bad_source), 1u);
  EXPECT_TRUE(udp_.payloads.empty());
}

TEST_F(Ipv4IcmpTest, DeliversTransportPayloadWithoutEthernetPadding) {
  const Bytes udp = udp_bytes(kPeerIp, kHostIp, 1000, 2000, pattern(4));
  Bytes frame = eth_frame(kHostMac, kPeerMac, wire::ethertype::ipv4, ipv4_bytes(from_peer(17), udp));
  frame.resize(wire::kEthernetMinFrame, 0);
  host_.receive(tern::test::make_packet(frame), now_);
  ASSERT_EQ(udp_.payloads.size(), 1u);
  EXPECT_EQ(udp_.payloads[0], udp);
  EXPECT_EQ(udp_.metas[0].src, kPeerIp);
  EXPECT_EQ(udp_.metas[0].dst, kHostIp);
  EXPECT_EQ(udp_.metas[0].proto, 17u);
  EXPECT_EQ(udp_.metas[0].header_len, 20u);
  EXPECT_FALSE(udp_.metas[0].broadcast);
}

TEST_F(Ipv4IcmpTest, ClosedPortGetsPortUnreachableQuotingTheOriginal) {
  udp_.closed = true;
  const Bytes original = ipv4_bytes(from_peer(17), udp_bytes(kPeerIp, kHostIp, 1000, 2000, pattern(30)));
  inject(original);
  auto out = sent();
  ASSERT_EQ(out.size(), 1u);
  ParsedIcmp e = parse_icmp_frame(out[0]);
  auto v = wire::Ipv4View::parse(e.ip);
  EXPECT_EQ(v->src(), kHostIp);
  EXPECT_EQ(v->dst(), kPeerIp);
  // RFC 792: type 3 code 3, unused 0, then the original IP header and data.
  ASSERT_GE(e.icmp.size(), 8u);
  EXPECT_EQ(e.icmp[0], wire::icmp_type::dest_unreachable);
  EXPECT_EQ(e.icmp[1], wire::icmp_code::port_unreachable);
  EXPECT_EQ(load_be32(&e.icmp[4]), 0u);
  EXPECT_EQ(Bytes(e.icmp.begin() + 8, e.icmp.end()), original);
  EXPECT_EQ(st().icmp_unreach_out, 1u);
  EXPECT_EQ(st().icmp_errors_out, 1u);
}

TEST_F(Ipv4IcmpTest, ErrorQuoteKeepsTheErrorWithin576Bytes) {
  udp_.closed = true;
  const Bytes original = ipv4_bytes(from_peer(17), udp_bytes(kPeerIp, kHostIp, 1000, 2000, pattern(1000)));
  inject(original);
  auto out = sent();
  ASSERT_EQ(out.size(), 1u);
  ParsedIcmp e = parse_icmp_frame(out[0]);
  EXPECT_EQ(e.ip.size(), 576u) << "RFC 1812 §4.3.2.3";
  EXPECT_EQ(Bytes(e.icmp.begin() + 8, e.icmp.end()), Bytes(original.begin(), original.begin() + 548));
}

TEST_F(Ipv4IcmpTest, UnknownProtocolGetsProtocolUnreachable) {
  const Bytes original = ipv4_bytes(from_peer(kUnknownProto), pattern(12));
  inject(original);
  auto out = sent();
  ASSERT_EQ(out.size(), 1u);
  ParsedIcmp e = parse_icmp_frame(out[0]);
  EXPECT_EQ(e.icmp[0], wire::icmp_type::dest_unreachable);
  EXPECT_EQ(e.icmp[1], wire::icmp_code::protocol_unreachable);
  EXPECT_EQ(Bytes(e.icmp.begin() + 8, e.icmp.end()), original);
  EXPECT_EQ(st().dropped(L3Drop::unknown_protocol), 1u);
}

TEST_F(Ipv4IcmpTest, NoIcmpErrorAboutIpBroadcast) {
  inject(ipv4_bytes(from_peer(kUnknownProto, kSubnetBcast), pattern(12)), MacAddr::broadcast());
  inject(ipv4_bytes(from_peer(kUnknownProto, kAllOnes), pattern(12)), MacAddr::broadcast());
  udp_.closed = true;
  inject(ipv4_bytes(from_peer(17, kSubnetBcast), udp_bytes(kPeerIp, kSubnetBcast, 1, 2, pattern(4))),
         MacAddr::broadcast());
  EXPECT_EQ(st().dropped(L3Drop::unknown_protocol), 2u);
  EXPECT_TRUE(sent().empty()) << "RFC 1122 §3.2.2: never about an IP broadcast";
  EXPECT_EQ(st().icmp_errors_out, 0u);
}

TEST_F(Ipv4IcmpTest, NoIcmpErrorAboutLinkLayerBroadcast) {
  // Unicast to our address, but sent to ff:ff:ff:ff:ff:ff.
  inject(ipv4_bytes(from_peer(kUnknownProto), pattern(12)), MacAddr::broadcast());
  EXPECT_EQ(st().dropped(L3Drop::unknown_protocol), 1u);
  EXPECT_TRUE(sent().empty()) << "RFC 1122 §3.2.2: MUST NOT send an ICMP error about a link-layer broadcast";
}

TEST_F(Ipv4IcmpTest, NoIcmpErrorAboutUnspecifiedOrLoopbackSource) {
  IpSpec s = from_peer(kUnknownProto);
  s.src = Ipv4Addr::from_octets(0, 0, 0, 0);
  inject(ipv4_bytes(s, pattern(12)));
  s.src = Ipv4Addr::from_octets(127, 0, 0, 1);
  inject(ipv4_bytes(s, pattern(12)));
  EXPECT_TRUE(sent().empty()) << "RFC 1122 §3.2.2: only about datagrams from a single host";
  EXPECT_EQ(st().icmp_errors_out, 0u);
  EXPECT_EQ(st().rx_delivered, 0u);
}

TEST_F(Ipv4IcmpTest, ReassemblyTimeoutSendsTimeExceededAboutFirstFragment) {
  IpSpec s = from_peer(17);
  s.mf = true;
  s.id = 77;
  const Bytes first = ipv4_bytes(s, pattern(24));
  inject(first);
  host_.tick(now_ + 1);
  EXPECT_TRUE(sent().empty());
  host_.tick(now_ + ReassemblyParams{}.timeout_ns);
  auto out = sent_ipv4();
  ASSERT_EQ(out.size(), 1u);
  ParsedIcmp e = parse_icmp_frame(out[0]);
  EXPECT_EQ(e.icmp[0], wire::icmp_type::time_exceeded);
  EXPECT_EQ(e.icmp[1], wire::icmp_code::reassembly_exceeded);
  EXPECT_EQ(Bytes(e.icmp.begin() + 8, e.icmp.end()), first);
  EXPECT_EQ(st().dropped(L3Drop::reassembly_timeout), 1u);
}

TEST_F(Ipv4IcmpTest, NoTimeExceededAboutAFragmentedIcmpError) {
  IpSpec s = from_peer(wire::ip_proto::icmp);
  s.mf = true;
  Bytes body = icmp_bytes(wire::icmp_type::dest_unreachable, 3, 0, pattern(40));
  body.resize(24);
  inject(ipv4_bytes(s, body));
  host_.tick(now_ + ReassemblyParams{}.timeout_ns);
  EXPECT_TRUE(sent().empty()) << "RFC 1122 §3.2.2: never about an ICMP error";
  EXPECT_EQ(st().dropped(L3Drop::reassembly_timeout), 1u);
}

TEST_F(Ipv4IcmpTest, OutputFailsWithoutRoute) {
  OutputParams p;
  p.dst = Ipv4Addr::from_octets(198, 19, 1, 1);
  p.proto = 17;
  Status s = host_.output(pattern(20), p, now_);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().code, Errc::no_route);
  EXPECT_EQ(st().dropped(L3Drop::no_route), 1u);
  EXPECT_TRUE(sent().empty());
}

TEST_F(Ipv4IcmpTest, DontFragmentAndTooBigFails) {
  OutputParams p;
  p.dst = kPeerIp;
  p.proto = 17;
  p.dont_fragment = true;
  Status s = host_.output(pattern(2000), p, now_);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().code, Errc::would_block);
  EXPECT_EQ(st().dropped(L3Drop::too_big_df), 1u);
  EXPECT_TRUE(sent().empty());
  // Within the MTU, DF goes out as set.
  ASSERT_TRUE(host_.output(pattern(1480), p, now_).ok());
  auto out = sent();
  ASSERT_EQ(out.size(), 1u);
  auto v = wire::Ipv4View::parse(l3_of(out[0]));
  ASSERT_TRUE(v.ok());
  EXPECT_TRUE(v->dont_fragment());
  EXPECT_EQ(v->total_length(), 1500u);
}

/** An ICMP "fragmentation needed" from the peer about a UDP datagram we sent it (from @p src). */
Bytes frag_needed(uint16_t mtu, bool df = true, Ipv4Addr src = kHostIp) {
  IpSpec quoted;
  quoted.src = src;
  quoted.dst = kPeerIp;
  quoted.proto = 17;
  quoted.df = df;
  Bytes q = ipv4_bytes(quoted, udp_bytes(kHostIp, kPeerIp, 1000, 2000, pattern(1400)));
  q.resize(20 + 8);  // header and the first 8 bytes, as RFC 792 requires
  IpSpec s;
  s.src = kPeerIp;
  s.dst = kHostIp;
  s.proto = wire::ip_proto::icmp;
  return ipv4_bytes(s, icmp_bytes(wire::icmp_type::dest_unreachable, wire::icmp_code::frag_needed, mtu, q));
}

class PmtuTest : public Ipv4IcmpTest {
 protected:
  static Ipv4Params with_expiry() {
    Ipv4Params p;
    p.pmtu_expiry_ns = 600 * kSec;
    return p;
  }
  PmtuTest() : Ipv4IcmpTest(with_expiry()) {}
};

// RFC 5927 §4.1, §7.2: ICMP only passes the message on; the transport, which
// alone can check that the quoted datagram is one it has in flight, lowers the
// path MTU (TCP does: tests/unit/tcp/tcp_icmp_test.cpp).
TEST_F(PmtuTest, FragNeededGoesToTheTransportWhichAloneLowersThePathMtuUntilItExpires) {
  ASSERT_EQ(host_.ip().path(kPeerIp)->mtu, 1500u);
  const uint64_t t1 = now_;
  inject(frag_needed(1000));
  EXPECT_EQ(host_.ip().path(kPeerIp)->mtu, 1500u) << "not from ICMP alone";
  EXPECT_EQ(st().pmtu_updates, 0u);
  EXPECT_EQ(st().icmp_errors_in, 1u);
  // The transport that sent the quoted datagram hears about it.
  ASSERT_EQ(udp_.errors.size(), 1u);
  const auto& e = udp_.errors[0];
  EXPECT_EQ(e.err.type, wire::icmp_type::dest_unreachable);
  EXPECT_EQ(e.err.code, wire::icmp_code::frag_needed);
  EXPECT_EQ(e.err.next_hop_mtu, 1000u);
  EXPECT_EQ(e.err.reporter, kPeerIp);
  EXPECT_EQ(e.err.src, kHostIp);
  EXPECT_EQ(e.err.dst, kPeerIp);
  EXPECT_EQ(e.err.proto, 17u);
  ASSERT_GE(e.quoted.size(), 8u);
  EXPECT_EQ(load_be16(&e.quoted[0]), 1000u);
  EXPECT_EQ(load_be16(&e.quoted[2]), 2000u);

  // What the transport does once it believes the message.
  EXPECT_TRUE(host_.ip().update_pmtu(kPeerIp, e.err.next_hop_mtu, now_));
  EXPECT_EQ(host_.ip().path(kPeerIp)->mtu, 1000u);
  EXPECT_FALSE(host_.ip().path(kPeerIp)->pmtu_locked);
  EXPECT_EQ(st().pmtu_updates, 1u);

  // A larger value never raises it (RFC 1191 §6.3).
  EXPECT_FALSE(host_.ip().update_pmtu(kPeerIp, 1400, now_));
  EXPECT_EQ(host_.ip().path(kPeerIp)->mtu, 1000u);
  EXPECT_EQ(st().pmtu_updates, 1u);
  EXPECT_EQ(st().dropped(L3Drop::pmtu_not_lower), 1u);

  // Output now fragments to the path MTU.
  OutputParams p;
  p.dst = kPeerIp;
  p.proto = 17;
  ASSERT_TRUE(host_.output(pattern(1400), p, now_).ok());
  auto out = sent();
  ASSERT_EQ(out.size(), 2u);
  for (const Bytes& f : out) EXPECT_LE(f.size() - 14, 1000u);

  host_.tick(t1 + 600 * kSec - 1);
  EXPECT_EQ(host_.ip().path(kPeerIp)->mtu, 1000u);
  host_.tick(t1 + 600 * kSec);
  EXPECT_EQ(host_.ip().path(kPeerIp)->mtu, 1500u) << "RFC 1191 §6.3: learned PMTU ages out";
  // Other destinations were never affected.
  EXPECT_EQ(host_.ip().path(Ipv4Addr::from_octets(198, 18, 0, 3))->mtu, 1500u);
}

// A report at or above the interface's MTU lowers nothing and is not recorded (it would take
// the slot of another destination's real entry).
TEST_F(PmtuTest, ReportAtOrAboveTheInterfaceMtuIsNotRecorded) {
  EXPECT_FALSE(host_.ip().update_pmtu(kPeerIp, 1500, now_));
  EXPECT_FALSE(host_.ip().update_pmtu(kPeerIp, 9000, now_));
  EXPECT_EQ(st().pmtu_updates, 0u);
  EXPECT_EQ(st().dropped(L3Drop::pmtu_not_lower), 2u);
  EXPECT_EQ(host_.ip().path(kPeerIp)->mtu, 1500u);
  EXPECT_TRUE(host_.ip().update_pmtu(kPeerIp, 1499, now_));
  EXPECT_EQ(host_.ip().path(kPeerIp)->mtu, 1499u);
}

// RFC 5927 §7.2 (Linux min_pmtu): below the floor, the floor, locked: sent without DF.
TEST_F(PmtuTest, PathMtuNeverGoesBelowTheFloor) {
  EXPECT_TRUE(host_.ip().update_pmtu(kPeerIp, 40, now_));
  auto path = host_.ip().path(kPeerIp);
  EXPECT_EQ(path->mtu, 552u);
  EXPECT_TRUE(path->pmtu_locked);
  EXPECT_EQ(st().pmtu_clamped, 1u);
  EXPECT_FALSE(host_.ip().update_pmtu(kPeerIp, 300, now_));
  EXPECT_EQ(host_.ip().path(kPeerIp)->mtu, 552u);
  EXPECT_EQ(st().dropped(L3Drop::pmtu_not_lower), 1u);
}

// RFC 1191 §4: routers send it only for datagrams with DF; tern's UDP never sets DF.
TEST_F(PmtuTest, FragNeededAboutADatagramWithoutDfIsIgnored) {
  inject(frag_needed(1000, false));
  EXPECT_TRUE(udp_.errors.empty());
  EXPECT_EQ(st().dropped(L3Drop::icmp_frag_no_df), 1u);
  EXPECT_EQ(host_.ip().path(kPeerIp)->mtu, 1500u);
}

TEST_F(PmtuTest, RedirectsAndErrorsAboutProtocolsWithoutATransportAreIgnoredAndCounted) {
  IpSpec quoted;
  quoted.src = kHostIp;
  quoted.dst = kPeerIp;
  quoted.proto = 99;  // no transport registered
  Bytes q = ipv4_bytes(quoted, pattern(8));
  IpSpec s = from_peer(wire::ip_proto::icmp);
  using wire::icmp_code::host_unreachable;
  inject(ipv4_bytes(s, icmp_bytes(wire::icmp_type::dest_unreachable, host_unreachable, 0, q)));
  EXPECT_EQ(st().dropped(L3Drop::icmp_no_transport), 1u);
  inject(ipv4_bytes(s, icmp_bytes(wire::icmp_type::redirect, 1, kPeerIp.v, q)));
  EXPECT_EQ(st().dropped(L3Drop::icmp_type_ignored), 1u);
  EXPECT_TRUE(udp_.errors.empty());
  EXPECT_EQ(st().icmp_errors_in, 2u);
}

TEST_F(PmtuTest, IcmpErrorAboutADatagramWeDidNotSendIsIgnored) {
  inject(frag_needed(1000, true, Ipv4Addr::from_octets(198, 18, 0, 7)));
  EXPECT_TRUE(udp_.errors.empty());
  EXPECT_EQ(st().dropped(L3Drop::icmp_not_ours), 1u);
  EXPECT_EQ(host_.ip().path(kPeerIp)->mtu, 1500u);
}

const Ipv4Addr kOtherPeerIp = Ipv4Addr::from_octets(198, 18, 0, 3);
const MacAddr kOtherPeerMac{{0x02, 0x00, 0x00, 0x00, 0x00, 0x03}};

// Errors are limited per destination (a token bucket each) and by the core's random budget.
class RateLimitTest : public Ipv4IcmpTest {
 protected:
  static IcmpParams limited() {
    IcmpParams p;
    p.error_rate = 1000;     // the core's mean: far above what these tests send
    p.dest_error_rate = 10;  // per second and destination
    p.dest_error_burst = 3;
    return p;
  }
  explicit RateLimitTest(uint64_t start = 10 * kSec, const IcmpParams& p = limited())
      : Ipv4IcmpTest({}, p, start) {
    host_.iface().neighbours().learn(kOtherPeerIp, kOtherPeerMac, true, now_);
  }
  /** @p n datagrams from @p from that each deserve an error (protocol unreachable); @return errors sent. */
  size_t provoke(int n, Ipv4Addr from = kPeerIp) {
    IpSpec s = from_peer(kUnknownProto);
    s.src = from;
    const MacAddr& mac = from == kPeerIp ? kPeerMac : kOtherPeerMac;
    for (int i = 0; i < n; ++i) {
      host_.receive(eth_frame(kHostMac, mac, wire::ethertype::ipv4, ipv4_bytes(s, pattern(8))), now_);
    }
    return sent_ipv4().size();
  }
};

class RateLimitFromTimeZeroTest : public RateLimitTest {
 protected:
  RateLimitFromTimeZeroTest() : RateLimitTest(0) {}
};

TEST_F(RateLimitTest, ADestinationGetsItsBurstThenItsRate) {
  EXPECT_EQ(provoke(5), 3u);
  EXPECT_EQ(st().dropped(L3Drop::icmp_dest_limited), 2u);
  now_ += 100'000'000;  // 100 ms at 10/s: one token
  EXPECT_EQ(provoke(2), 1u);
  EXPECT_EQ(st().dropped(L3Drop::icmp_dest_limited), 3u);
  now_ += 10 * kSec;  // refills, but never beyond the burst
  EXPECT_EQ(provoke(5), 3u);
  EXPECT_EQ(st().dropped(L3Drop::icmp_dest_limited), 5u);
  EXPECT_EQ(st().icmp_errors_out, 7u);
  EXPECT_EQ(st().dropped(L3Drop::icmp_rate_limited), 0u);
}

TEST_F(RateLimitFromTimeZeroTest, BucketRefillsAfterABurstAtTimeZero) {
  ASSERT_EQ(now_, 0u);  // a fake clock that starts at zero
  EXPECT_EQ(provoke(3), 3u);
  EXPECT_EQ(provoke(1), 0u);
  now_ = 1 * kSec;
  EXPECT_EQ(provoke(3), 3u) << "one second at 10/s refills the bucket of 3";
}

TEST_F(RateLimitTest, AFloodFromOnePeerLeavesAnotherPeersErrorsIntact) {
  // Issue 14: one peer provoking errors as fast as it can, for two seconds...
  size_t flood = 0;
  for (int ms = 0; ms < 2000; ++ms) {
    flood += provoke(20);
    now_ += 1'000'000;
  }
  EXPECT_LE(flood, 3u + 20u + 1u) << "the burst, then 10 per second";
  // ... and another peer still gets every error it is owed.
  EXPECT_EQ(provoke(3, kOtherPeerIp), 3u);
  EXPECT_GE(st().dropped(L3Drop::icmp_dest_limited), 39'000u);
}

// The core's budget: random windows, a mean of error_rate per second, whoever asks.
class GlobalBudgetTest : public RateLimitTest {
 protected:
  static IcmpParams global_only() {
    IcmpParams p;
    p.error_rate = 100;
    p.dest_error_rate = 0;  // no per-destination limit: only the core's budget
    return p;
  }
  GlobalBudgetTest() : RateLimitTest(10 * kSec, global_only()) {}
};

TEST_F(GlobalBudgetTest, TheCoresBudgetHoldsTheMeanRateInWindowsOfRandomSize) {
  // Ten errors asked for every millisecond for 60 s: what is sent per second varies (random
  // windows and budgets), and the total stays near 100 per second.
  std::vector<size_t> per_second;
  size_t total = 0;
  for (int s = 0; s < 60; ++s) {
    size_t n = 0;
    for (int ms = 0; ms < 1000; ++ms) {
      n += provoke(10, ms % 2 == 0 ? kPeerIp : kOtherPeerIp);
      now_ += 1'000'000;
    }
    per_second.push_back(n);
    total += n;
  }
  EXPECT_GT(total, 60u * 100 * 7 / 10);
  EXPECT_LT(total, 60u * 100 * 13 / 10);
  std::sort(per_second.begin(), per_second.end());
  EXPECT_GT(per_second.back() - per_second.front(), 20u) << "a fixed budget would send the same each second";
  EXPECT_LE(per_second.back(), 2u * 225u) << "at most two windows' largest budgets in one second";
}

TEST_F(Ipv4IcmpTest, EchoRepliesDoNotSpendTheErrorBudget) {
  for (int i = 0; i < 500; ++i) {
    inject(ipv4_bytes(
        from_peer(wire::ip_proto::icmp),
        icmp_bytes(wire::icmp_type::echo_request, 0, 0x0001'0000u + static_cast<uint32_t>(i), {})));
  }
  EXPECT_EQ(sent_ipv4().size(), 500u);
  EXPECT_EQ(st().dropped(L3Drop::icmp_echo_limited), 0u);
  inject(ipv4_bytes(from_peer(kUnknownProto), pattern(8)));
  EXPECT_EQ(sent_ipv4().size(), 1u) << "the error budget is untouched by echo replies";
}

class EchoLimitTest : public Ipv4IcmpTest {
 protected:
  static IcmpParams echo_limited() {
    IcmpParams p;
    p.echo_rate = 5;
    return p;
  }
  EchoLimitTest() : Ipv4IcmpTest({}, echo_limited()) {}
};

TEST_F(EchoLimitTest, EchoRepliesKeepTheirOwnLimit) {
  for (int i = 0; i < 8; ++i) {
    inject(ipv4_bytes(from_peer(wire::ip_proto::icmp), icmp_bytes(wire::icmp_type::echo_request, 0, 7, {})));
  }
  EXPECT_EQ(sent_ipv4().size(), 5u);
  EXPECT_EQ(st().dropped(L3Drop::icmp_echo_limited), 3u);
  inject(ipv4_bytes(from_peer(kUnknownProto), pattern(8)));
  EXPECT_EQ(sent_ipv4().size(), 1u) << "errors are not limited by the echo limit";
}

// --- IPv4 identification ------------------------------------------------------

/** The IDs of the datagrams the host sends (UDP through Ipv4::output, DF clear) to @p dst. */
std::vector<uint16_t> ids_toward(Host& host, drivers::PairWire& wire, Ipv4Addr dst, int n, uint64_t& now) {
  std::vector<uint16_t> ids;
  for (int i = 0; i < n; ++i) {
    OutputParams o;
    o.dst = dst;
    o.proto = wire::ip_proto::udp;
    EXPECT_TRUE(host.output(pattern(8), o, now));
    now += 100'000;  // 100 us
    for (const Bytes& f : drain(wire.b())) {
      if (load_be16(&f[12]) == wire::ethertype::ipv4) ids.push_back(load_be16(&f[14 + 4]));
    }
  }
  return ids;
}

TEST_F(RateLimitTest, IpIdsTowardTwoDestinationsAreNotOneSequence) {
  // RFC 6274 §3.5, RFC 7739 §5.3: no counter shared by all destinations.
  std::vector<uint16_t> a, b;
  for (int round = 0; round < 50; ++round) {  // interleaved: a, b, a, b, ...
    auto x = ids_toward(host_, wire_, kPeerIp, 1, now_);
    auto y = ids_toward(host_, wire_, kOtherPeerIp, 1, now_);
    ASSERT_EQ(x.size(), 1u);
    ASSERT_EQ(y.size(), 1u);
    a.push_back(x[0]);
    b.push_back(y[0]);
  }
  // Toward one destination the IDs move on by one per datagram within a millisecond (RFC 6864
  // §4.1: no repeats); across destinations they are unrelated: one shared counter would make
  // b[i] == a[i] + 1 and a[i+1] == b[i] + 1.
  int shared_steps = 0, own_steps = 0;
  for (size_t i = 0; i + 1 < a.size(); ++i) {
    shared_steps += (static_cast<uint16_t>(a[i] + 1) == b[i]) + (static_cast<uint16_t>(b[i] + 1) == a[i + 1]);
    own_steps += a[i + 1] != a[i];
  }
  EXPECT_LE(shared_steps, 2) << "IDs to two destinations step together: one global counter";
  EXPECT_EQ(own_steps, 49) << "an ID repeated toward one destination";
  std::vector<uint16_t> sa(a.begin(), a.end());
  std::sort(sa.begin(), sa.end());
  EXPECT_EQ(std::adjacent_find(sa.begin(), sa.end()), sa.end()) << "an ID repeated toward one destination";
}

TEST_F(RateLimitTest, IpIdsTowardOneDestinationCountItsOwnDatagramsOnly) {
  // Datagrams to another destination in between do not move this destination's IDs (unless the
  // two share a hash bucket: 1 in 2048, then only by those datagrams; allowed for below).
  auto first = ids_toward(host_, wire_, kPeerIp, 1, now_);
  (void)ids_toward(host_, wire_, kOtherPeerIp, 200, now_);  // 20 ms of traffic elsewhere
  now_ = (now_ / 1'000'000) * 1'000'000;                    // same millisecond for the next two
  auto second = ids_toward(host_, wire_, kPeerIp, 2, now_);
  ASSERT_EQ(first.size(), 1u);
  ASSERT_EQ(second.size(), 2u);
  EXPECT_EQ(static_cast<uint16_t>(second[0] + 1), second[1]) << "consecutive within a millisecond";
}

// --- two hosts: fragmentation on output, reassembly on input ----------------

class TwoHostsTest : public ::testing::Test {
 protected:
  TwoHostsTest() {
    a_.iface().neighbours().learn(kPeerIp, kPeerMac, true, now_);
    b_.iface().neighbours().learn(kHostIp, kHostMac, true, now_);
    b_.ip().set_handler(17, &b_udp_);
  }
  ~TwoHostsTest() override { b_.ip().set_handler(17, nullptr); }

  /** Move every frame a sent to b, keeping a copy of each. */
  std::vector<Bytes> deliver_to_b() {
    std::vector<Bytes> copies;
    rte_mbuf* m = nullptr;
    while (wire_.b().rx_burst(0, &m, 1) == 1) {
      Packet p(m);
      copies.push_back(tern::test::bytes_of(p));
      b_.receive(std::move(p), now_);
    }
    return copies;
  }

  uint64_t now_ = 10 * kSec;
  drivers::PairWire wire_{caps_for(kHostMac), caps_for(kPeerMac)};
  Host a_{wire_.a(), wire::Ipv4Prefix{kHostIp, 24}};
  Host b_{wire_.b(), wire::Ipv4Prefix{kPeerIp, 24}};
  RecordingL4 b_udp_;
};

TEST_F(TwoHostsTest, LargeDatagramIsFragmentedAndReassembledByteExact) {
  const Bytes udp = udp_bytes(kHostIp, kPeerIp, 1000, 2000, pattern(3992, 11));  // 4000 bytes
  OutputParams p;
  p.dst = kPeerIp;
  p.proto = 17;
  ASSERT_TRUE(a_.output(udp, p, now_).ok());
  auto frames = deliver_to_b();
  ASSERT_EQ(frames.size(), 3u);
  const uint16_t totals[] = {1500, 1500, 20 + 4000 - 2 * 1480};
  const uint16_t offsets[] = {0, 1480, 2960};
  uint16_t id = 0;
  for (size_t i = 0; i < 3; ++i) {
    auto v = wire::Ipv4View::parse(l3_of(frames[i]));
    ASSERT_TRUE(v.ok());
    EXPECT_TRUE(v->checksum_ok()) << "fragment " << i;
    EXPECT_EQ(v->total_length(), totals[i]) << "fragment " << i;
    EXPECT_EQ(v->fragment_offset(), offsets[i]) << "fragment " << i;
    EXPECT_EQ(v->more_fragments(), i < 2) << "fragment " << i;
    EXPECT_FALSE(v->dont_fragment());
    EXPECT_EQ(v->src(), kHostIp);
    EXPECT_EQ(v->dst(), kPeerIp);
    EXPECT_EQ(v->protocol(), 17u);
    if (i == 0) id = v->id();
    EXPECT_EQ(v->id(), id) << "all fragments share the identification";
    EXPECT_EQ(Bytes(v->payload().begin(), v->payload().end()),
              Bytes(udp.begin() + offsets[i], udp.begin() + offsets[i] + (totals[i] - 20)));
  }
  EXPECT_EQ(a_.ip().stats().fragmented, 1u);
  EXPECT_EQ(a_.ip().stats().fragments_created, 3u);
  ASSERT_EQ(b_udp_.payloads.size(), 1u);
  EXPECT_EQ(b_udp_.payloads[0], udp);
  EXPECT_EQ(b_.ip().stats().reassembled, 1u);
  EXPECT_EQ(b_.ip().stats().rx_fragments, 3u);
}

TEST_F(TwoHostsTest, FragmentsArrivingOutOfOrderAreReassembled) {
  const Bytes udp = udp_bytes(kHostIp, kPeerIp, 1000, 2000, pattern(5000, 3));
  OutputParams p;
  p.dst = kPeerIp;
  p.proto = 17;
  ASSERT_TRUE(a_.output(udp, p, now_).ok());
  std::vector<rte_mbuf*> ms;
  rte_mbuf* m = nullptr;
  while (wire_.b().rx_burst(0, &m, 1) == 1) ms.push_back(m);
  ASSERT_EQ(ms.size(), 4u);
  for (size_t i = ms.size(); i-- > 0;) b_.receive(Packet(ms[i]), now_);
  ASSERT_EQ(b_udp_.payloads.size(), 1u);
  EXPECT_EQ(b_udp_.payloads[0], udp);
}

TEST_F(TwoHostsTest, LargeEchoRequestIsAnsweredAcrossFragmentation) {
  const Bytes data = pattern(3000, 4);
  OutputParams p;
  p.dst = kPeerIp;
  p.proto = wire::ip_proto::icmp;
  ASSERT_TRUE(a_.output(icmp_bytes(wire::icmp_type::echo_request, 0, 0x0101'0001, data), p, now_).ok());
  deliver_to_b();
  // b answered with a fragmented reply; a reassembles it.
  EXPECT_EQ(b_.ip().stats().icmp_echo_requests, 1u);
  EXPECT_EQ(b_.ip().stats().fragmented, 1u);
  a_.poll(now_);
  EXPECT_EQ(a_.ip().stats().reassembled, 1u);
  EXPECT_EQ(a_.ip().stats().icmp_echo_replies, 1u);
}

// --- malformed IP options: Parameter Problem (RFC 1122 §3.2.2.5, RFC 792) ----

/** A datagram from the peer to @p dst carrying the raw option bytes @p opts (a multiple of 4). */
Bytes with_options(Bytes opts, uint8_t proto = wire::ip_proto::udp, Ipv4Addr dst = kHostIp) {
  IpSpec s;
  s.src = kPeerIp;
  s.dst = dst;
  s.proto = proto;
  s.options = std::move(opts);
  return ipv4_bytes(
      s, proto == wire::ip_proto::udp ? udp_bytes(kPeerIp, dst, 1000, 2000, pattern(12)) : pattern(12));
}

TEST_F(Ipv4IcmpTest, MalformedOptionGetsParameterProblemPointingAtTheOffendingOctet) {
  struct Case {
    Bytes opts;
    uint8_t pointer;  // octet of the original header (RFC 792)
    const char* what;
  };
  constexpr uint8_t kNop = wire::ipv4_opt::nop, kAlert = wire::ipv4_opt::router_alert;
  const Case cases[] = {
      {{kAlert, 0, 0, 0}, 21, "option length 0: its length octet"},
      {{kNop, kAlert, 1, 0}, 22, "length 1 after a NOP: its length octet"},
      {{kAlert, 8, 0, 0}, 21, "length 8 overruns the 4-byte options area"},
      {{kNop, kNop, kNop, kAlert}, 23, "no room for the length octet: the option's type octet"},
  };
  for (const Case& c : cases) {
    const Bytes original = with_options(c.opts);
    inject(original);
    auto out = sent();
    ASSERT_EQ(out.size(), 1u) << c.what;
    ParsedIcmp e = parse_icmp_frame(out[0]);
    auto v = wire::Ipv4View::parse(e.ip);
    ASSERT_TRUE(v.ok());
    EXPECT_EQ(v->src(), kHostIp);
    EXPECT_EQ(v->dst(), kPeerIp);
    ASSERT_GE(e.icmp.size(), 8u + original.size());
    // RFC 792: type 12, code 0, the pointer in the first octet after the checksum, then zeros.
    EXPECT_EQ(e.icmp[0], wire::icmp_type::parameter_problem) << c.what;
    EXPECT_EQ(e.icmp[1], 0u) << c.what;
    EXPECT_EQ(e.icmp[4], c.pointer) << c.what;
    EXPECT_EQ(e.icmp[5] | e.icmp[6] | e.icmp[7], 0) << c.what;
    EXPECT_EQ(Bytes(e.icmp.begin() + 8, e.icmp.end()), original) << c.what << ": quotes the datagram";
  }
  EXPECT_TRUE(udp_.payloads.empty()) << "the datagram itself is still discarded";
  EXPECT_EQ(st().dropped(L3Drop::bad_option), 4u);
  EXPECT_EQ(st().icmp_errors_out, 4u);
  EXPECT_EQ(st().icmp_param_problem_out, 4u);
}

TEST_F(Ipv4IcmpTest, NoParameterProblemAboutBroadcastsErrorsFragmentsOrCorruptHeaders) {
  const Bytes bad = {wire::ipv4_opt::router_alert, 0, 0, 0};
  // RFC 1122 §3.2.2: not about an IP broadcast, a link-layer broadcast or an ICMP error...
  inject(with_options(bad, wire::ip_proto::udp, kSubnetBcast), MacAddr::broadcast());
  inject(with_options(bad), MacAddr::broadcast());
  inject(with_options(bad, wire::ip_proto::icmp));  // pattern(12) starts with 0x00: an echo reply
  Bytes unreach = with_options(bad, wire::ip_proto::icmp);
  unreach[24] = wire::icmp_type::dest_unreachable;
  inject(unreach);
  // ...nor a fragment other than the first.
  IpSpec frag;
  frag.src = kPeerIp;
  frag.dst = kHostIp;
  frag.frag_offset = 64;
  frag.options = bad;
  inject(ipv4_bytes(frag, pattern(16)));
  // Not about a header whose checksum is wrong (it may be the options that are damaged).
  Bytes corrupt = with_options(bad);
  corrupt[22] ^= 0x30;
  inject(corrupt);
  // Not about a datagram from an invalid source, nor one for somebody else.
  IpSpec from_zero;
  from_zero.dst = kHostIp;
  from_zero.options = bad;
  inject(ipv4_bytes(from_zero, pattern(8)));
  IpSpec from_this_network = from_zero;  // 0.x.x.x: RFC 1122 §3.2.1.3 (b), never one host to answer
  from_this_network.src = Ipv4Addr::from_octets(0, 130, 127, 240);
  inject(ipv4_bytes(from_this_network, pattern(8)));
  inject(with_options(bad, wire::ip_proto::udp, Ipv4Addr::from_octets(198, 18, 7, 7)));
  auto out = sent_ipv4();
  std::vector<int> types;
  for (const Bytes& f : out) types.push_back(parse_icmp_frame(f).icmp.at(0));
  EXPECT_EQ(types, std::vector<int>{wire::icmp_type::parameter_problem})
      << "only the echo reply (not an error) with a bad option is answered";
  EXPECT_EQ(st().dropped(L3Drop::bad_option), 9u);
  EXPECT_EQ(st().icmp_param_problem_out, 1u);
}

TEST_F(RateLimitTest, ParameterProblemsShareTheErrorRateLimit) {
  for (int i = 0; i < 5; ++i) inject(with_options({wire::ipv4_opt::router_alert, 0, 0, 0}));
  EXPECT_EQ(sent_ipv4().size(), 3u) << "the destination's burst of 3";
  EXPECT_EQ(st().dropped(L3Drop::icmp_dest_limited), 2u);
  EXPECT_EQ(st().dropped(L3Drop::bad_option), 5u);
}

}  // namespace
}  // namespace tern::l3
