// FlowSteering::classify() on hand-built frames (issue 10): what each kind of frame belongs to.
// TCP/UDP by the 4-tuple as received, fragments by the address pair, ICMP errors by the flow they
// quote seen from the peer, pinned flows against the hash; ARP, echo and malformed frames stay
// where they arrived.
#include "tern/stack/steering.hpp"

#include <gtest/gtest.h>

#include <array>
#include <vector>

#include "tern/base/byteorder.hpp"
#include "test_support.hpp"

namespace tern {
namespace {

const wire::Ipv4Addr kUs = wire::Ipv4Addr::from_octets(198, 18, 0, 1);
const wire::Ipv4Addr kPeer = wire::Ipv4Addr::from_octets(198, 18, 0, 2);

FlowSteering steering(uint16_t cores, const std::array<uint8_t, 40>& key = wire::kSymmetricRssKey) {
  wire::RssSteering t;
  t.key = key;
  for (uint16_t i = 0; i < 128; ++i) t.reta.push_back(static_cast<uint16_t>(i % cores));
  return FlowSteering(t, cores, {SteerMode::software});
}

// Ethernet + IPv4 (+ the first bytes of @p l4) from @p src to @p dst.
std::vector<uint8_t> ipv4_frame(wire::Ipv4Addr src, wire::Ipv4Addr dst, uint8_t proto,
                                const std::vector<uint8_t>& l4, uint16_t frag = 0) {
  std::vector<uint8_t> f(14 + 20 + l4.size());
  f[12] = 0x08;
  f[13] = 0x00;
  uint8_t* ip = f.data() + 14;
  ip[0] = 0x45;
  store_be16(ip + 2, static_cast<uint16_t>(20 + l4.size()));
  store_be16(ip + 6, frag);
  ip[8] = 64;
  ip[9] = proto;
  store_be32(ip + 12, src.v);
  store_be32(ip + 16, dst.v);
  for (size_t i = 0; i < l4.size(); ++i) f[34 + i] = l4[i];
  return f;
}

std::vector<uint8_t> ports(uint16_t sport, uint16_t dport, size_t len = 20) {
  std::vector<uint8_t> l4(len);
  store_be16(l4.data(), sport);
  store_be16(l4.data() + 2, dport);
  return l4;
}

uint16_t owner_of(const FlowSteering& fs, const std::vector<uint8_t>& frame) {
  Packet p = test::make_packet(frame);
  return fs.classify(p.mbuf(), nullptr).owner;
}

TEST(FlowSteering, TcpAndUdpGoToTheOwnerOfTheirFourTuple) {
  const FlowSteering fs = steering(4);
  size_t seen[4] = {};
  for (uint16_t sport = 40000; sport < 40400; ++sport) {
    const uint16_t want = fs.flow_owner(kPeer, kUs, sport, 80);
    EXPECT_EQ(owner_of(fs, ipv4_frame(kPeer, kUs, 6, ports(sport, 80))), want);
    EXPECT_EQ(owner_of(fs, ipv4_frame(kPeer, kUs, 17, ports(sport, 80, 8))), want);
    ++seen[want];
  }
  for (size_t c : seen) EXPECT_GT(c, 50u) << "the table spreads flows over every core";
}

TEST(FlowSteering, BothDirectionsOfAFlowHaveOneOwner) {
  const FlowSteering fs = steering(2);
  for (uint16_t sport = 1024; sport < 1124; ++sport) {
    EXPECT_EQ(fs.flow_owner(kPeer, kUs, sport, 7), fs.flow_owner(kUs, kPeer, 7, sport)) << "symmetric key";
  }
}

TEST(FlowSteering, FragmentsGoByAddressPairThenTheWholeDatagramByItsFlow) {
  const FlowSteering fs = steering(4);
  // Every fragment of a datagram (first, middle, last) meets on one core whatever its ports...
  const uint16_t first = owner_of(fs, ipv4_frame(kPeer, kUs, 17, ports(5000, 53), 0x2000));
  EXPECT_EQ(owner_of(fs, ipv4_frame(kPeer, kUs, 17, std::vector<uint8_t>(24, 0xee), 0x2003)), first);
  EXPECT_EQ(owner_of(fs, ipv4_frame(kPeer, kUs, 17, std::vector<uint8_t>(24, 0xee), 0x0006)), first);
  EXPECT_EQ(owner_of(fs, ipv4_frame(kPeer, kUs, 6, ports(6000, 80), 0x2000)), first);
  // ...and the reassembled datagram is handed to the owner of its 4-tuple.
  for (uint16_t sport = 5000; sport < 5100; ++sport) {
    auto whole = ipv4_frame(kPeer, kUs, 17, ports(sport, 53, 8));
    EXPECT_EQ(fs.datagram_owner(whole.data() + 14, static_cast<uint32_t>(whole.size() - 14)),
              fs.flow_owner(kPeer, kUs, sport, 53));
  }
}

TEST(FlowSteering, AnIcmpErrorGoesToTheOwnerOfTheFlowItQuotes) {
  // An asymmetric key, so that getting the direction of the quoted flow wrong shows.
  const FlowSteering fs = steering(4, wire::kMicrosoftRssKey);
  for (uint16_t our_port = 50000; our_port < 50100; ++our_port) {
    // We sent TCP us:our_port -> peer:443; a router answers "fragmentation needed" quoting it.
    auto quoted = ipv4_frame(kUs, kPeer, 6, ports(our_port, 443, 8));
    std::vector<uint8_t> icmp = {3, 4, 0, 0, 0, 0, 0x05, 0xdc};
    icmp.insert(icmp.end(), quoted.begin() + 14, quoted.end());
    const auto router = wire::Ipv4Addr::from_octets(198, 18, 0, 254);
    EXPECT_EQ(owner_of(fs, ipv4_frame(router, kUs, 1, icmp)), fs.flow_owner(kPeer, kUs, 443, our_port));
  }
}

TEST(FlowSteering, ArpEchoAndMalformedFramesStayWhereTheyArrived) {
  const FlowSteering fs = steering(2);
  std::vector<uint8_t> arp(60, 0);
  arp[12] = 0x08;
  arp[13] = 0x06;
  EXPECT_EQ(owner_of(fs, arp), FlowSteering::kAnyCore);
  EXPECT_EQ(owner_of(fs, ipv4_frame(kPeer, kUs, 1, {8, 0, 0, 0, 0, 1, 0, 1})), FlowSteering::kAnyCore)
      << "echo";
  auto short_tcp = ipv4_frame(kPeer, kUs, 6, {0x12});  // no room for the ports
  EXPECT_EQ(owner_of(fs, short_tcp), FlowSteering::kAnyCore);
  auto bad_ihl = ipv4_frame(kPeer, kUs, 6, ports(1, 2));
  bad_ihl[14] = 0x4f;  // IHL 60 bytes, longer than the frame
  EXPECT_EQ(owner_of(fs, bad_ihl), FlowSteering::kAnyCore);
  auto v6 = ipv4_frame(kPeer, kUs, 6, ports(1, 2));
  v6[14] = 0x65;
  EXPECT_EQ(owner_of(fs, v6), FlowSteering::kAnyCore);
  std::vector<uint8_t> runt(20, 0);
  runt[12] = 0x08;
  EXPECT_EQ(owner_of(fs, runt), FlowSteering::kAnyCore);
}

TEST(FlowSteering, APinnedFlowGoesToItsCoreAgainstTheHashUntilUnpinned) {
  const FlowSteering fs = steering(2);
  const uint16_t natural = fs.flow_owner(kPeer, kUs, 443, 40001);
  const uint16_t other = static_cast<uint16_t>(1 - natural);
  ASSERT_TRUE(fs.pins().pin(kPeer, kUs, 443, 40001, other));
  EXPECT_EQ(owner_of(fs, ipv4_frame(kPeer, kUs, 6, ports(443, 40001))), other);
  EXPECT_EQ(fs.flow_owner(kPeer, kUs, 443, 40001), other);
  EXPECT_EQ(owner_of(fs, ipv4_frame(kPeer, kUs, 6, ports(443, 40002))), fs.flow_owner(kPeer, kUs, 443, 40002))
      << "other flows keep their owner";
  fs.pins().unpin(kPeer, kUs, 443, 40001);
  EXPECT_TRUE(fs.pins().empty());
  EXPECT_EQ(owner_of(fs, ipv4_frame(kPeer, kUs, 6, ports(443, 40001))), natural);
  // Bounded: three quarters of the slots, then pin() refuses.
  uint32_t pinned = 0;
  for (uint32_t i = 0; i < PinnedFlows::kSlots; ++i) {
    if (fs.pins().pin(kPeer, kUs, static_cast<uint16_t>(i), 1, 0)) ++pinned;
  }
  EXPECT_EQ(pinned, PinnedFlows::kSlots * 3 / 4);
  for (uint32_t i = 0; i < PinnedFlows::kSlots; ++i) fs.pins().unpin(kPeer, kUs, static_cast<uint16_t>(i), 1);
  EXPECT_TRUE(fs.pins().empty());
}

}  // namespace
}  // namespace tern
