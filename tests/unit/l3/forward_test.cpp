// IPv4 forwarding (RFC 1812) through one Host on a PairWire: the test plays
// the neighbours on the other end with hand-built frames.
#include <gtest/gtest.h>

#include "l3_test_util.hpp"
#include "tern/base/byteorder.hpp"
#include "tern/base/checksum.hpp"
#include "tern/drivers/pair_wire.hpp"

namespace tern::l3 {
namespace {

using namespace tern::l3::test;

const MacAddr kRouterMac{{0x02, 0x00, 0x00, 0x00, 0x00, 0x01}};
const MacAddr kPeerMac{{0x02, 0x00, 0x00, 0x00, 0x00, 0x02}};
const MacAddr kNextHopMac{{0x02, 0x00, 0x00, 0x00, 0x09, 0x09}};
const Ipv4Addr kRouterIp = Ipv4Addr::from_octets(198, 18, 0, 1);
const Ipv4Addr kPeerIp = Ipv4Addr::from_octets(198, 18, 0, 2);
const Ipv4Addr kFar = Ipv4Addr::from_octets(198, 18, 9, 1);      // via a static MAC
const Ipv4Addr kViaGw = Ipv4Addr::from_octets(198, 18, 8, 1);    // via gateway kPeerIp (ARP)
const Ipv4Addr kNowhere = Ipv4Addr::from_octets(198, 19, 2, 1);  // no route

class ForwardTest : public ::testing::Test {
 protected:
  ForwardTest() : host_(wire_.a(), wire::Ipv4Prefix{kRouterIp, 24}, Ipv4Params{}, IcmpParams{}) {
    host_.iface().neighbours().learn(kPeerIp, kPeerMac, true, now_);
    host_.ip().set_forwarding(true);
    (void)host_.ip().routes().add(Route{*wire::Ipv4Prefix::parse("198.18.9.0/24"), {}, 0, kNextHopMac});
    (void)host_.ip().routes().add(Route{*wire::Ipv4Prefix::parse("198.18.8.0/24"), kPeerIp, 0, {}});
  }
  Bytes datagram(Ipv4Addr dst, uint8_t ttl = 64, size_t payload = 32, bool df = false) {
    IpSpec s;
    s.src = kPeerIp;
    s.dst = dst;
    s.ttl = ttl;
    s.df = df;
    return ipv4_bytes(s, udp_bytes(kPeerIp, dst, 1000, 2000, pattern(payload)));
  }
  void inject(const Bytes& dgram, const MacAddr& eth_dst = kRouterMac) {
    host_.receive(eth_frame(eth_dst, kPeerMac, wire::ethertype::ipv4, dgram), now_);
  }
  std::vector<Bytes> sent() { return drain(wire_.b()); }
  const L3Stats& st() { return host_.ip().stats(); }

  uint64_t now_ = 10 * kSec;
  drivers::PairWire wire_{caps_for(kRouterMac), caps_for(kPeerMac)};
  Host host_;
};

TEST_F(ForwardTest, ForwardsWithTtlDecrementedChecksumValidAndMacsRewritten) {
  Bytes in = datagram(kFar, 64);
  inject(in);
  auto out = sent();
  ASSERT_EQ(out.size(), 1u);
  const Bytes& f = out[0];
  EXPECT_EQ(MacAddr::load(f.data()), kNextHopMac);
  EXPECT_EQ(MacAddr::load(f.data() + 6), kRouterMac);
  auto l3 = l3_of(f);
  ASSERT_EQ(l3.size(), in.size());
  EXPECT_EQ(l3[8], 63) << "RFC 1812 §5.3.1: TTL decremented";
  EXPECT_TRUE(checksum_valid(l3.first(20))) << "RFC 1624 incremental update keeps the header checksum valid";
  Bytes expect = in;
  expect[8] = 63;
  expect[10] = l3[10];
  expect[11] = l3[11];
  EXPECT_EQ(Bytes(l3.begin(), l3.end()), expect) << "nothing else changes";
  EXPECT_EQ(st().forwarded, 1u);
}

TEST_F(ForwardTest, RouteWithoutStaticMacResolvesTheGatewayByArp) {
  inject(datagram(kViaGw));
  auto out = sent();
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(MacAddr::load(out[0].data()), kPeerMac);
  EXPECT_EQ(l3_of(out[0])[8], 63);
}

TEST_F(ForwardTest, TtlOneIsAnsweredWithTimeExceeded) {
  Bytes in = datagram(kFar, 1);
  inject(in);
  auto out = sent();
  ASSERT_EQ(out.size(), 1u);
  auto l3 = l3_of(out[0]);
  EXPECT_EQ(Ipv4Addr{load_be32(l3.data() + 16)}, kPeerIp);
  const uint8_t* icmp = l3.data() + 20;
  EXPECT_EQ(icmp[0], wire::icmp_type::time_exceeded);
  EXPECT_EQ(icmp[1], wire::icmp_code::ttl_exceeded);
  EXPECT_TRUE(checksum_valid(l3.subspan(20)));
  EXPECT_EQ(Bytes(icmp + 8, icmp + 8 + 20), Bytes(in.begin(), in.begin() + 20)) << "quotes the header";
  EXPECT_EQ(st().dropped(L3Drop::ttl_exceeded), 1u);
  EXPECT_EQ(st().forwarded, 0u);
}

TEST_F(ForwardTest, NoRouteIsAnsweredWithNetUnreachable) {
  inject(datagram(kNowhere));
  auto out = sent();
  ASSERT_EQ(out.size(), 1u);
  const uint8_t* icmp = l3_of(out[0]).data() + 20;
  EXPECT_EQ(icmp[0], wire::icmp_type::dest_unreachable);
  EXPECT_EQ(icmp[1], wire::icmp_code::net_unreachable);
  EXPECT_EQ(st().dropped(L3Drop::no_route), 1u);
}

TEST_F(ForwardTest, TooBigWithDontFragmentIsAnsweredWithFragNeeded) {
  inject(datagram(kFar, 64, 1600, true));
  auto out = sent();
  ASSERT_EQ(out.size(), 1u);
  const uint8_t* icmp = l3_of(out[0]).data() + 20;
  EXPECT_EQ(icmp[0], wire::icmp_type::dest_unreachable);
  EXPECT_EQ(icmp[1], wire::icmp_code::frag_needed);
  EXPECT_EQ(load_be16(icmp + 6), 1500) << "RFC 1191 §4: next-hop MTU";
  EXPECT_EQ(st().dropped(L3Drop::too_big_df), 1u);
}

TEST_F(ForwardTest, TooBigWithoutDontFragmentIsFragmented) {
  inject(datagram(kFar, 64, 2000, false));
  auto out = sent();
  ASSERT_EQ(out.size(), 2u);
  for (const Bytes& f : out) {
    auto l3 = l3_of(f);
    EXPECT_LE(l3.size(), 1500u);
    EXPECT_EQ(l3[8], 63);
    EXPECT_TRUE(checksum_valid(l3.first(20)));
  }
  EXPECT_EQ(st().forwarded, 1u);
  EXPECT_EQ(st().fragmented, 1u);
}

TEST_F(ForwardTest, LinkLayerBroadcastIsNeverForwarded) {
  inject(datagram(kFar), MacAddr::broadcast());
  EXPECT_TRUE(sent().empty());
  EXPECT_EQ(st().dropped(L3Drop::not_forwardable), 1u);
}

// Our own subnet's broadcast in a unicast frame is taken as a broadcast for us,
// never forwarded. (A directed broadcast for another port's subnet, RFC 2644,
// needs two ports: integration-l3fwd_pcap covers it.)
TEST_F(ForwardTest, OwnSubnetBroadcastIsNotForwarded) {
  inject(datagram(Ipv4Addr::from_octets(198, 18, 0, 255)));
  EXPECT_TRUE(sent().empty());
  EXPECT_EQ(st().forwarded, 0u);
}

TEST_F(ForwardTest, ForwardingOffMeansNotForUs) {
  host_.ip().set_forwarding(false);
  inject(datagram(kFar));
  EXPECT_TRUE(sent().empty());
  EXPECT_EQ(st().dropped(L3Drop::not_for_us), 1u);
}

TEST_F(ForwardTest, DatagramsToTheRouterItselfAreStillDelivered) {
  IpSpec s;
  s.src = kPeerIp;
  s.dst = kRouterIp;
  s.proto = wire::ip_proto::icmp;
  inject(ipv4_bytes(s, icmp_bytes(wire::icmp_type::echo_request, 0, 0x00010001, pattern(8))));
  auto out = sent();
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(l3_of(out[0])[20], wire::icmp_type::echo_reply);
  EXPECT_EQ(st().forwarded, 0u);
}

// ---- the fast path (l3/forward_fast.cpp): same output, same counters, declines the rest ----

TEST_F(ForwardTest, FastPathForwardsPlainDatagramsExactlyAsTheFullPathDoes) {
  // A static-MAC route and an ARP-resolved gateway; with and without Ethernet padding.
  for (Ipv4Addr dst : {kFar, kViaGw}) {
    for (size_t payload : {size_t{0}, size_t{32}, size_t{1400}}) {
      Bytes frame = eth_frame(kRouterMac, kPeerMac, wire::ethertype::ipv4, datagram(dst, 64, payload));
      inject(datagram(dst, 64, payload));
      auto slow = sent();
      const L3Stats before = st();
      const uint64_t rx_ipv4 = host_.iface().stats().rx_ipv4;
      ASSERT_TRUE(host_.receive_fast_first(frame, now_)) << dst.to_string() << " " << payload;
      auto fast = sent();
      ASSERT_EQ(slow.size(), 1u);
      ASSERT_EQ(fast.size(), 1u);
      EXPECT_EQ(fast[0], slow[0]) << "byte-identical output";
      EXPECT_EQ(st().forwarded, before.forwarded + 1);
      EXPECT_EQ(st().rx_datagrams, before.rx_datagrams + 1);
      EXPECT_EQ(host_.iface().stats().rx_ipv4, rx_ipv4 + 1);
    }
  }
}

TEST_F(ForwardTest, FastPathLeavesEverythingElseUntouchedForTheFullPath) {
  auto with = [&](auto edit, Bytes dgram) {
    Bytes f = eth_frame(kRouterMac, kPeerMac, wire::ethertype::ipv4, dgram);
    edit(f);
    return f;
  };
  auto none = [](Bytes&) {};
  IpSpec opt;
  opt.src = kPeerIp;
  opt.dst = kFar;
  opt.options = {1, 1, 1, 1};  // NOPs: IHL 6
  IpSpec from_bcast = opt;
  from_bcast.options.clear();
  from_bcast.src = Ipv4Addr::from_octets(198, 18, 0, 255);
  struct Case {
    const char* what;
    Bytes frame;
  };
  const Case cases[] = {
      {"TTL 1 (time exceeded)", with(none, datagram(kFar, 1))},
      {"TTL 0", with(none, datagram(kFar, 0))},
      {"bad header checksum", with([](Bytes& f) { f[14 + 10] ^= 0x01; }, datagram(kFar))},
      {"IP options", with(none, ipv4_bytes(opt, udp_bytes(kPeerIp, kFar, 1, 2, pattern(8))))},
      {"to the router itself", with(none, datagram(kRouterIp))},
      {"to our subnet broadcast", with(none, datagram(Ipv4Addr::from_octets(198, 18, 0, 255)))},
      {"from our subnet broadcast",
       with(none, ipv4_bytes(from_bcast, udp_bytes(from_bcast.src, kFar, 1, 2, {})))},
      {"to multicast", with(none, datagram(Ipv4Addr::from_octets(224, 0, 0, 9)))},
      {"no route", with(none, datagram(kNowhere))},
      {"too big for the MTU", with(none, datagram(kFar, 64, 1500))},
      {"link broadcast", eth_frame(MacAddr::broadcast(), kPeerMac, wire::ethertype::ipv4, datagram(kFar))},
      {"another station's MAC", eth_frame(kNextHopMac, kPeerMac, wire::ethertype::ipv4, datagram(kFar))},
      {"ARP", eth_frame(kRouterMac, kPeerMac, wire::ethertype::arp, Bytes(28, 0))},
      {"truncated header", with([](Bytes& f) { f.resize(14 + 16); }, datagram(kFar))},
      {"length beyond the frame", with([](Bytes& f) { f[14 + 3] = 0xff; }, datagram(kFar))},
  };
  for (const Case& c : cases) {
    Packet p = tern::test::make_packet(c.frame);
    EXPECT_FALSE(host_.ip().forward_fast(p, host_.iface(), now_)) << c.what;
    ASSERT_TRUE(p) << c.what << ": the frame must stay with the caller";
    EXPECT_EQ(tern::test::bytes_of(p), c.frame) << c.what << ": untouched";
  }
  EXPECT_EQ(st().forwarded, 0u) << "nothing above was forwarded";
  // A gateway without a resolved MAC: the full path queues it and asks ARP.
  (void)host_.ip().routes().add(
      Route{*wire::Ipv4Prefix::parse("198.18.7.0/24"), Ipv4Addr::from_octets(198, 18, 0, 3), 0, {}});
  EXPECT_FALSE(host_.receive_fast_first(
      eth_frame(kRouterMac, kPeerMac, wire::ethertype::ipv4, datagram(Ipv4Addr::from_octets(198, 18, 7, 1))),
      now_));
  EXPECT_EQ(host_.iface().stats().arp_requests_out, 1u);
}

// ---- TTL 0: delivered when it is for us (RFC 1122 §3.2.1.7), never forwarded (RFC 1812 §5.3.1) ----

TEST_F(ForwardTest, TtlZeroInTransitIsNeverForwardedAndGetsTimeExceeded) {
  const Bytes in = datagram(kFar, 0);
  EXPECT_FALSE(host_.receive_fast_first(eth_frame(kRouterMac, kPeerMac, wire::ethertype::ipv4, in), now_))
      << "the fast path leaves it to the full path";
  auto out = sent();
  ASSERT_EQ(out.size(), 1u);
  auto l3 = l3_of(out[0]);
  EXPECT_EQ(Ipv4Addr{load_be32(l3.data() + 16)}, kPeerIp);
  const uint8_t* icmp = l3.data() + 20;
  EXPECT_EQ(icmp[0], wire::icmp_type::time_exceeded);
  EXPECT_EQ(icmp[1], wire::icmp_code::ttl_exceeded);
  EXPECT_EQ(Bytes(icmp + 8, icmp + 8 + 20), Bytes(in.begin(), in.begin() + 20)) << "quotes the header";
  EXPECT_EQ(st().forwarded, 0u);
  EXPECT_EQ(st().dropped(L3Drop::ttl_exceeded), 1u);
}

TEST_F(ForwardTest, TtlZeroAndOneToTheRouterItselfAreDelivered) {
  for (uint8_t ttl : {uint8_t{0}, uint8_t{1}}) {
    IpSpec s;
    s.src = kPeerIp;
    s.dst = kRouterIp;
    s.ttl = ttl;
    s.proto = wire::ip_proto::icmp;
    const Bytes ping =
        ipv4_bytes(s, icmp_bytes(wire::icmp_type::echo_request, 0, 0x00020000u + ttl, pattern(8)));
    EXPECT_FALSE(
        host_.receive_fast_first(eth_frame(kRouterMac, kPeerMac, wire::ethertype::ipv4, ping), now_));
    auto out = sent();
    ASSERT_EQ(out.size(), 1u) << "TTL " << int{ttl};
    EXPECT_EQ(l3_of(out[0])[20], wire::icmp_type::echo_reply) << "TTL " << int{ttl};
  }
  EXPECT_EQ(st().forwarded, 0u);
  EXPECT_EQ(st().icmp_echo_requests, 2u);
}

}  // namespace
}  // namespace tern::l3
