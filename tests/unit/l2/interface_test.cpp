// Interface: Ethernet demux and ARP (RFC 826, RFC 5227 conflicts). The
// interface sits on end a of a PairWire; the test plays the other host:
// frames are handed to input() directly and whatever the interface sends is
// read back from end b.
#include "tern/l2/interface.hpp"

#include <gtest/gtest.h>

#include <cstdint>
#include <vector>

#include "tern/drivers/pair_wire.hpp"
#include "tern/wire/arp.hpp"
#include "tern/wire/ethernet.hpp"
#include "test_support.hpp"

namespace tern::l2 {
namespace {

using Bytes = std::vector<uint8_t>;
using wire::ArpPacket;
using wire::EthernetHeader;
using wire::Ipv4Addr;
using wire::MacAddr;

constexpr uint64_t kT0 = 5'000'000'000;

const MacAddr kOurMac{{0x02, 0x00, 0x00, 0x00, 0x00, 0x01}};
const MacAddr kPeerMac{{0x02, 0x00, 0x00, 0x00, 0x00, 0x02}};
const MacAddr kOtherMac{{0x02, 0x00, 0x00, 0x00, 0x00, 0x03}};
const Ipv4Addr kOurIp = Ipv4Addr::from_octets(198, 18, 0, 1);
const Ipv4Addr kPeerIp = Ipv4Addr::from_octets(198, 18, 0, 2);

PortCaps caps(const MacAddr& mac) {
  PortCaps c;
  c.mac = mac.b;
  c.mtu = 1500;
  return c;
}

Bytes eth_frame(const MacAddr& dst, const MacAddr& src, uint16_t type, const Bytes& payload) {
  EthernetHeader eh{dst, src, type, std::nullopt};
  Bytes f(eh.length());
  eh.emit(f);
  f.insert(f.end(), payload.begin(), payload.end());
  return f;
}

Bytes arp_bytes(uint16_t op, const MacAddr& sha, Ipv4Addr spa, const MacAddr& tha, Ipv4Addr tpa) {
  Bytes b(wire::kArpLen);
  ArpPacket{op, sha, spa, tha, tpa}.emit(b);
  return b;
}

Bytes arp_frame(const MacAddr& eth_dst, uint16_t op, const MacAddr& sha, Ipv4Addr spa, const MacAddr& tha,
                Ipv4Addr tpa) {
  return eth_frame(eth_dst, sha, wire::ethertype::arp, arp_bytes(op, sha, spa, tha, tpa));
}

/** An IPv4-looking payload (the interface does not look inside). */
Bytes l3_payload(size_t n, uint8_t seed = 0) {
  Bytes b(n);
  for (size_t i = 0; i < n; ++i) b[i] = static_cast<uint8_t>(seed + i * 13);
  b[0] = 0x45;
  return b;
}

class InterfaceTest : public ::testing::Test {
 protected:
  static InterfaceParams params() {
    InterfaceParams p;
    p.index = 0;
    p.name = "if0";
    p.address = wire::Ipv4Prefix{kOurIp, 24};
    return p;
  }

  /** Feed one frame; returns what input() gave back (an IPv4 datagram or empty). */
  Packet feed(const Bytes& frame, uint64_t now = kT0, uint16_t seg = 2048) {
    return iface_.input(test::make_packet(frame, seg), now);
  }
  /** Every frame the interface has sent so far (flushes its TxQueue). */
  std::vector<Bytes> sent() {
    tx_.flush();
    std::vector<Bytes> out;
    rte_mbuf* m = nullptr;
    while (wire_.b().rx_burst(0, &m, 1) == 1) {
      Packet p(m);
      out.push_back(test::bytes_of(p));
    }
    return out;
  }

  drivers::PairWire wire_{caps(kOurMac), caps(kPeerMac)};
  TxQueue tx_{wire_.a(), 0};
  Interface iface_{params(), tx_, test::pool()};
};

struct ParsedArpFrame {
  EthernetHeader eth;
  ArpPacket arp;
};

ParsedArpFrame parse_arp_frame(const Bytes& f) {
  auto eh = EthernetHeader::parse(f);
  EXPECT_TRUE(eh.ok());
  if (!eh.ok()) return {};
  EXPECT_EQ(eh->ethertype, wire::ethertype::arp);
  auto a = ArpPacket::parse(std::span<const uint8_t>(f).subspan(eh->length()));
  EXPECT_TRUE(a.ok());
  if (!a.ok()) return {};
  return {*eh, *a};
}

TEST_F(InterfaceTest, AnswersArpRequestForOurAddressWithOneReply) {
  EXPECT_FALSE(
      feed(arp_frame(MacAddr::broadcast(), wire::arp_op::request, kPeerMac, kPeerIp, MacAddr{}, kOurIp)));
  auto out = sent();
  ASSERT_EQ(out.size(), 1u);
  const Bytes& f = out[0];
  ASSERT_EQ(f.size(), wire::kEthernetHeaderLen + wire::kArpLen);
  // RFC 826 "Packet Reception": swap sender and target, put in our addresses, op REPLY.
  auto [eh, a] = parse_arp_frame(f);
  EXPECT_EQ(eh.dst, kPeerMac);
  EXPECT_EQ(eh.src, kOurMac);
  EXPECT_FALSE(eh.vlan_tci.has_value());
  EXPECT_EQ(load_be16(&f[14]), wire::kArpHtypeEthernet);
  EXPECT_EQ(load_be16(&f[16]), wire::ethertype::ipv4);
  EXPECT_EQ(f[18], 6);
  EXPECT_EQ(f[19], 4);
  EXPECT_EQ(a.op, wire::arp_op::reply);
  EXPECT_EQ(a.sha, kOurMac);
  EXPECT_EQ(a.spa, kOurIp);
  EXPECT_EQ(a.tha, kPeerMac);
  EXPECT_EQ(a.tpa, kPeerIp);

  EXPECT_EQ(iface_.stats().arp_requests_in, 1u);
  EXPECT_EQ(iface_.stats().arp_replies_out, 1u);
  EXPECT_EQ(iface_.stats().rx_arp, 1u);
  // We were the target, so the requester is added to the table.
  const NeighEntry* e = iface_.neighbours().find(kPeerIp);
  ASSERT_NE(e, nullptr);
  EXPECT_EQ(e->mac, kPeerMac);
  EXPECT_EQ(e->state, NeighState::reachable);
}

TEST_F(InterfaceTest, AnswersPaddedMultiSegmentArpRequest) {
  Bytes f = arp_frame(MacAddr::broadcast(), wire::arp_op::request, kPeerMac, kPeerIp, MacAddr{}, kOurIp);
  f.resize(wire::kEthernetMinFrame, 0);  // Ethernet padding
  feed(f, kT0, 16);                      // 16-byte segments: headers split across mbufs
  auto out = sent();
  ASSERT_EQ(out.size(), 1u);
  auto [eh, a] = parse_arp_frame(out[0]);
  EXPECT_EQ(eh.dst, kPeerMac);
  EXPECT_EQ(a.op, wire::arp_op::reply);
  EXPECT_EQ(a.tpa, kPeerIp);
  EXPECT_EQ(a.spa, kOurIp);
}

TEST_F(InterfaceTest, IgnoresArpRequestForAnotherAddress) {
  feed(arp_frame(MacAddr::broadcast(), wire::arp_op::request, kPeerMac, kPeerIp, MacAddr{},
                 Ipv4Addr::from_octets(198, 18, 0, 9)));
  EXPECT_TRUE(sent().empty());
  EXPECT_EQ(iface_.stats().arp_requests_in, 1u);
  EXPECT_EQ(iface_.stats().arp_replies_out, 0u);
  EXPECT_EQ(iface_.neighbours().find(kPeerIp), nullptr) << "RFC 826: not the target, no new entry";
}

TEST_F(InterfaceTest, ArpReplyToUsLearnsTheSender) {
  EXPECT_FALSE(feed(arp_frame(kOurMac, wire::arp_op::reply, kPeerMac, kPeerIp, kOurMac, kOurIp)));
  EXPECT_TRUE(sent().empty()) << "a reply is not answered";
  EXPECT_EQ(iface_.stats().arp_replies_in, 1u);
  const NeighEntry* e = iface_.neighbours().find(kPeerIp);
  ASSERT_NE(e, nullptr);
  EXPECT_EQ(e->mac, kPeerMac);
  EXPECT_EQ(e->state, NeighState::reachable);
}

TEST_F(InterfaceTest, ArpFromKnownSenderUpdatesItsEntry) {
  iface_.neighbours().learn(kPeerIp, kPeerMac, true, kT0 - 2'000'000'000);  // past the lock time
  // A request for someone else still refreshes what we know about the sender (RFC 826 merge).
  feed(arp_frame(MacAddr::broadcast(), wire::arp_op::request, kOtherMac, kPeerIp, MacAddr{},
                 Ipv4Addr::from_octets(198, 18, 0, 9)));
  ASSERT_NE(iface_.neighbours().find(kPeerIp), nullptr);
  EXPECT_EQ(iface_.neighbours().find(kPeerIp)->mac, kOtherMac);
}

TEST_F(InterfaceTest, GratuitousArpIsHeldToTheLockTimeLikeAnyUpdate) {
  iface_.neighbours().learn(kPeerIp, kPeerMac, true, kT0);
  // Gratuitous ARP (RFC 5227 §3): sender and target address both the peer's, broadcast.
  const Bytes garp =
      arp_frame(MacAddr::broadcast(), wire::arp_op::request, kOtherMac, kPeerIp, MacAddr{}, kPeerIp);
  feed(garp, kT0 + 500'000'000);
  EXPECT_EQ(iface_.neighbours().find(kPeerIp)->mac, kPeerMac) << "within the lock time: ignored";
  EXPECT_EQ(iface_.stats().neigh_updates_locked, 1u);
  const Bytes garp_reply =
      arp_frame(MacAddr::broadcast(), wire::arp_op::reply, kOtherMac, kPeerIp, kOtherMac, kPeerIp);
  feed(garp_reply, kT0 + 600'000'000);
  EXPECT_EQ(iface_.stats().neigh_updates_locked, 2u) << "a reply form of it too (not an answer to us)";
  feed(garp, kT0 + 1'000'000'000);
  EXPECT_EQ(iface_.neighbours().find(kPeerIp)->mac, kOtherMac) << "after it: a genuine move is taken";
}

class InterfaceLongLockTest : public InterfaceTest {
 protected:
  static InterfaceParams long_lock() {
    InterfaceParams p = params();
    p.neighbour.lock_ns = 120'000'000'000ull;  // longer than reachable (30 s): the probe is within it
    return p;
  }
  Interface locked_{long_lock(), tx_, test::pool()};
};

TEST_F(InterfaceLongLockTest, ReplyToOurRequestIsTakenAtOnceUnsolicitedReplyIsNot) {
  locked_.neighbours().learn(kPeerIp, kPeerMac, true, kT0);
  const Bytes reply = arp_frame(kOurMac, wire::arp_op::reply, kOtherMac, kPeerIp, kOurMac, kOurIp);
  (void)locked_.input(test::make_packet(reply), kT0 + 1000);
  EXPECT_EQ(locked_.neighbours().find(kPeerIp)->mac, kPeerMac) << "a reply to us we did not ask for";
  // We ask: a stale entry is re-confirmed by unicast requests when used, the last one broadcast...
  uint64_t later = kT0 + 31'000'000'000ull;
  locked_.neighbours().tick(later);
  locked_.send_ipv4(test::make_packet(l3_payload(40)), kPeerIp, later);
  for (int i = 0; i < 2; ++i) {
    later += 1'000'000'000;
    locked_.neighbours().tick(later);
  }
  bool asked_everyone = false;
  for (const Bytes& f : sent()) {
    asked_everyone = asked_everyone || (load_be16(&f[12]) == wire::ethertype::arp && f[0] == 0xff);
  }
  ASSERT_TRUE(asked_everyone);
  // ... and the same reply now answers our request: taken at once, 33 s into a 120 s lock.
  (void)locked_.input(test::make_packet(reply), later + 1000);
  EXPECT_EQ(locked_.neighbours().find(kPeerIp)->mac, kOtherMac);
  EXPECT_EQ(locked_.stats().neigh_updates_locked, 1u);
  EXPECT_EQ(locked_.stats().neigh_mac_changes, 1u);
}

TEST_F(InterfaceTest, AnnounceSendsGratuitousArp) {
  iface_.announce(kT0);
  auto out = sent();
  ASSERT_EQ(out.size(), 1u);
  auto [eh, a] = parse_arp_frame(out[0]);
  EXPECT_TRUE(eh.dst.is_broadcast());
  EXPECT_EQ(eh.src, kOurMac);
  EXPECT_EQ(a.op, wire::arp_op::request);
  EXPECT_EQ(a.sha, kOurMac);
  EXPECT_EQ(a.spa, kOurIp);
  EXPECT_EQ(a.tpa, kOurIp) << "RFC 5227 §3: sender and target address are both ours";
  EXPECT_TRUE(a.tha.is_zero());
  EXPECT_EQ(iface_.stats().arp_gratuitous_out, 1u);
  EXPECT_EQ(iface_.stats().tx_frames, 1u);
}

TEST_F(InterfaceTest, DropsFrameForAnotherUnicastMac) {
  EXPECT_FALSE(feed(eth_frame(kOtherMac, kPeerMac, wire::ethertype::ipv4, l3_payload(40))));
  EXPECT_EQ(iface_.stats().dropped(L2Drop::not_for_us), 1u);
  EXPECT_EQ(iface_.stats().rx_ipv4, 0u);
  EXPECT_TRUE(sent().empty());
}

TEST_F(InterfaceTest, DropsMulticastFrame) {
  const MacAddr mcast{{0x01, 0x00, 0x5e, 0x00, 0x00, 0x01}};
  EXPECT_FALSE(feed(eth_frame(mcast, kPeerMac, wire::ethertype::ipv4, l3_payload(40))));
  EXPECT_EQ(iface_.stats().dropped(L2Drop::multicast), 1u);
}

TEST_F(InterfaceTest, DropsVlanTaggedFrame) {
  EthernetHeader eh{kOurMac, kPeerMac, wire::ethertype::ipv4, uint16_t{100}};
  Bytes f(eh.length());
  eh.emit(f);
  Bytes body = l3_payload(40);
  f.insert(f.end(), body.begin(), body.end());
  EXPECT_FALSE(feed(f));
  EXPECT_EQ(iface_.stats().dropped(L2Drop::vlan), 1u);
  EXPECT_EQ(iface_.stats().rx_ipv4, 0u);
}

TEST_F(InterfaceTest, DropsUnknownEthertype) {
  EXPECT_FALSE(feed(eth_frame(kOurMac, kPeerMac, wire::ethertype::ipv6, l3_payload(40))));
  EXPECT_EQ(iface_.stats().dropped(L2Drop::unknown_ethertype), 1u);
}

TEST_F(InterfaceTest, DropsFrameShorterThanEthernetHeader) {
  Bytes f = eth_frame(kOurMac, kPeerMac, wire::ethertype::ipv4, {});
  f.resize(10);
  EXPECT_FALSE(feed(f));
  EXPECT_EQ(iface_.stats().dropped(L2Drop::truncated), 1u);
  EXPECT_EQ(iface_.stats().rx_frames, 1u);
}

TEST_F(InterfaceTest, CountsTruncatedArpAsMalformed) {
  Bytes body = arp_bytes(wire::arp_op::request, kPeerMac, kPeerIp, MacAddr{}, kOurIp);
  body.resize(20);
  feed(eth_frame(MacAddr::broadcast(), kPeerMac, wire::ethertype::arp, body));
  EXPECT_EQ(iface_.stats().dropped(L2Drop::arp_malformed), 1u);
  EXPECT_TRUE(sent().empty());
  EXPECT_EQ(iface_.neighbours().size(), 0u);
}

TEST_F(InterfaceTest, CountsArpWithUnknownOpAsMalformed) {
  Bytes body = arp_bytes(wire::arp_op::request, kPeerMac, kPeerIp, MacAddr{}, kOurIp);
  store_be16(&body[6], 9);
  feed(eth_frame(MacAddr::broadcast(), kPeerMac, wire::ethertype::arp, body));
  EXPECT_EQ(iface_.stats().dropped(L2Drop::arp_malformed), 1u);
  EXPECT_TRUE(sent().empty());
}

TEST_F(InterfaceTest, CountsArpForOtherHardwareTypeAsUnsupported) {
  Bytes body = arp_bytes(wire::arp_op::request, kPeerMac, kPeerIp, MacAddr{}, kOurIp);
  store_be16(&body[0], 6);  // IEEE 802 networks
  feed(eth_frame(MacAddr::broadcast(), kPeerMac, wire::ethertype::arp, body));
  EXPECT_EQ(iface_.stats().dropped(L2Drop::arp_unsupported), 1u);
  EXPECT_TRUE(sent().empty());
}

TEST_F(InterfaceTest, ArpClaimingOurAddressIsCountedAsConflictAndNotLearned) {
  // Another host announces our address (gratuitous request, RFC 5227 §2.4).
  feed(arp_frame(MacAddr::broadcast(), wire::arp_op::request, kOtherMac, kOurIp, MacAddr{}, kOurIp));
  // ... and answers for it.
  feed(arp_frame(kOurMac, wire::arp_op::reply, kOtherMac, kOurIp, kOurMac, kOurIp));
  EXPECT_EQ(iface_.stats().arp_conflicts, 2u);
  EXPECT_EQ(iface_.stats().dropped(L2Drop::arp_bad_sender), 2u);
  EXPECT_EQ(iface_.neighbours().find(kOurIp), nullptr);
  EXPECT_EQ(iface_.neighbours().size(), 0u);
  EXPECT_TRUE(sent().empty()) << "no reply to a packet claiming our address";
}

TEST_F(InterfaceTest, OurOwnAnnouncementLoopedBackIsNotAConflict) {
  feed(arp_frame(MacAddr::broadcast(), wire::arp_op::request, kOurMac, kOurIp, MacAddr{}, kOurIp));
  EXPECT_EQ(iface_.stats().arp_conflicts, 0u);
  EXPECT_EQ(iface_.neighbours().size(), 0u);
}

// RFC 1122 §3.2.1.3: a sender address that cannot be one host is neither learned nor answered
// (each of these once created an unsolicited neighbour entry and got a reply).
TEST_F(InterfaceTest, ArpFromASenderAddressThatIsNoHostIsRejected) {
  const Ipv4Addr bad[] = {Ipv4Addr::from_octets(224, 0, 0, 1), Ipv4Addr{0xffffffffu},
                          Ipv4Addr::from_octets(240, 0, 0, 9), Ipv4Addr::from_octets(127, 0, 0, 1),
                          Ipv4Addr::from_octets(0, 1, 2, 3),   Ipv4Addr{kOurIp.v | 0xffu}};
  for (Ipv4Addr spa : bad) {
    feed(arp_frame(MacAddr::broadcast(), wire::arp_op::request, kPeerMac, spa, MacAddr{}, kOurIp));
  }
  EXPECT_EQ(iface_.stats().dropped(L2Drop::arp_bad_sender), std::size(bad));
  EXPECT_EQ(iface_.neighbours().size(), 0u);
  EXPECT_TRUE(sent().empty());
  // An ARP probe (sender 0.0.0.0, RFC 5227 §2.1.1) for our address is still answered.
  feed(arp_frame(MacAddr::broadcast(), wire::arp_op::request, kPeerMac, Ipv4Addr{}, MacAddr{}, kOurIp));
  EXPECT_EQ(sent().size(), 1u);
  EXPECT_EQ(iface_.neighbours().size(), 0u);
}

TEST_F(InterfaceTest, ArpFromMulticastOrZeroSenderMacIsRejected) {
  const MacAddr mcast{{0x01, 0x00, 0x5e, 0x00, 0x00, 0x01}};
  Bytes f = arp_frame(MacAddr::broadcast(), wire::arp_op::request, mcast, kPeerIp, MacAddr{}, kOurIp);
  feed(f);
  feed(arp_frame(MacAddr::broadcast(), wire::arp_op::request, MacAddr{}, kPeerIp, MacAddr{}, kOurIp));
  EXPECT_EQ(iface_.stats().dropped(L2Drop::arp_bad_sender), 2u);
  EXPECT_EQ(iface_.neighbours().size(), 0u);
  EXPECT_TRUE(sent().empty());
}

TEST_F(InterfaceTest, ArpProbeWithZeroSenderIpIsAnsweredButTeachesNothing) {
  // RFC 5227 §2.1.1: a probe for our address; we defend it with a reply.
  feed(arp_frame(MacAddr::broadcast(), wire::arp_op::request, kPeerMac, Ipv4Addr{}, MacAddr{}, kOurIp));
  EXPECT_EQ(iface_.neighbours().size(), 0u);
  auto out = sent();
  ASSERT_EQ(out.size(), 1u);
  auto [eh, a] = parse_arp_frame(out[0]);
  EXPECT_EQ(eh.dst, kPeerMac);
  EXPECT_EQ(a.op, wire::arp_op::reply);
  EXPECT_EQ(a.spa, kOurIp);
}

TEST_F(InterfaceTest, ReturnsIpv4DatagramWithEthernetHeaderTrimmed) {
  const Bytes body = l3_payload(100, 7);
  Packet d = feed(eth_frame(kOurMac, kPeerMac, wire::ethertype::ipv4, body));
  ASSERT_TRUE(d);
  EXPECT_EQ(test::bytes_of(d), body);
  EXPECT_EQ(iface_.stats().rx_ipv4, 1u);
  // Broadcast frames are accepted too.
  Packet b = feed(eth_frame(MacAddr::broadcast(), kPeerMac, wire::ethertype::ipv4, body));
  ASSERT_TRUE(b);
  EXPECT_EQ(test::bytes_of(b), body);
}

TEST_F(InterfaceTest, SendIpv4ToBroadcastUsesBroadcastMac) {
  const Bytes body = l3_payload(60, 1);
  iface_.send_ipv4(test::make_packet(body), Ipv4Addr{0xffffffffu}, kT0);
  iface_.send_ipv4(test::make_packet(body), Ipv4Addr::from_octets(198, 18, 0, 255), kT0);  // directed
  auto out = sent();
  ASSERT_EQ(out.size(), 2u);
  for (const Bytes& f : out) {
    auto eh = EthernetHeader::parse(f);
    ASSERT_TRUE(eh.ok());
    EXPECT_TRUE(eh->dst.is_broadcast());
    EXPECT_EQ(eh->src, kOurMac);
    EXPECT_EQ(eh->ethertype, wire::ethertype::ipv4);
    EXPECT_EQ(Bytes(f.begin() + 14, f.end()), body);
  }
  EXPECT_EQ(iface_.neighbours().size(), 0u) << "no resolution for a broadcast";
}

TEST_F(InterfaceTest, SendIpv4ToUnresolvedNeighbourQueuesThenSendsAfterReply) {
  const Bytes body1 = l3_payload(64, 1), body2 = l3_payload(80, 2);
  iface_.send_ipv4(test::make_packet(body1), kPeerIp, kT0);
  iface_.send_ipv4(test::make_packet(body2), kPeerIp, kT0 + 1);
  auto out = sent();
  ASSERT_EQ(out.size(), 1u) << "only the ARP request leaves";
  auto [eh, a] = parse_arp_frame(out[0]);
  EXPECT_TRUE(eh.dst.is_broadcast());
  EXPECT_EQ(a.op, wire::arp_op::request);
  EXPECT_EQ(a.sha, kOurMac);
  EXPECT_EQ(a.spa, kOurIp);
  EXPECT_TRUE(a.tha.is_zero());
  EXPECT_EQ(a.tpa, kPeerIp);
  EXPECT_EQ(iface_.stats().arp_requests_out, 1u);

  feed(arp_frame(kOurMac, wire::arp_op::reply, kPeerMac, kPeerIp, kOurMac, kOurIp), kT0 + 100);
  out = sent();
  ASSERT_EQ(out.size(), 2u);
  const Bytes* bodies[] = {&body1, &body2};
  for (size_t i = 0; i < 2; ++i) {
    auto h = EthernetHeader::parse(out[i]);
    ASSERT_TRUE(h.ok());
    EXPECT_EQ(h->dst, kPeerMac);
    EXPECT_EQ(h->src, kOurMac);
    EXPECT_EQ(h->ethertype, wire::ethertype::ipv4);
    EXPECT_EQ(Bytes(out[i].begin() + 14, out[i].end()), *bodies[i]);
  }
  EXPECT_EQ(iface_.stats().neigh_resolved, 1u);

  // Now resolved: straight out.
  iface_.send_ipv4(test::make_packet(body1), kPeerIp, kT0 + 200);
  out = sent();
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(EthernetHeader::parse(out[0])->dst, kPeerMac);
}

TEST_F(InterfaceTest, SendIpv4WithoutHeadroomPutsHeaderInItsOwnMbuf) {
  const Bytes body = l3_payload(50, 3);
  Packet p = Packet::alloc(test::pool());
  ASSERT_TRUE(p);
  p.mbuf()->data_off = 0;  // an application buffer with no headroom
  uint8_t* d = p.append(static_cast<uint16_t>(body.size()));
  ASSERT_NE(d, nullptr);
  std::copy(body.begin(), body.end(), d);
  iface_.send_ipv4(std::move(p), Ipv4Addr{0xffffffffu}, kT0);
  auto out = sent();
  ASSERT_EQ(out.size(), 1u);
  EXPECT_TRUE(EthernetHeader::parse(out[0])->dst.is_broadcast());
  EXPECT_EQ(Bytes(out[0].begin() + 14, out[0].end()), body);
}

TEST_F(InterfaceTest, BroadcastAddressesOfOurPrefix) {
  EXPECT_TRUE(iface_.is_broadcast(Ipv4Addr{0xffffffffu}));
  EXPECT_TRUE(iface_.is_broadcast(Ipv4Addr::from_octets(198, 18, 0, 255)));
  EXPECT_FALSE(iface_.is_broadcast(Ipv4Addr::from_octets(198, 18, 1, 255)));
  EXPECT_FALSE(iface_.is_broadcast(kPeerIp));
  EXPECT_TRUE(iface_.is_local(kOurIp));
  EXPECT_FALSE(iface_.is_local(kPeerIp));
}

TEST_F(InterfaceTest, ForgedArpRequestFloodDoesNotKeepANewPeerOut) {
  // Forged "who-has <us>" requests from many on-link senders fill the neighbour table
  // (RFC 826: the target learns the sender), then keep coming.
  const uint32_t table = params().neighbour.table_size;
  auto flood = [&](uint32_t first, uint32_t count, uint64_t now) {
    for (uint32_t i = first; i < first + count; ++i) {
      const MacAddr sha{{0x02, 0x66, static_cast<uint8_t>(i >> 16), static_cast<uint8_t>(i >> 8),
                         static_cast<uint8_t>(i), 0x01}};
      const Ipv4Addr spa{Ipv4Addr::from_octets(198, 18, 128, 0).v + i};
      feed(arp_frame(MacAddr::broadcast(), wire::arp_op::request, sha, spa, MacAddr{}, kOurIp), now);
      if (i % 16 == 0) sent();  // the replies tern sends to each of them
    }
    sent();
  };
  flood(0, table, kT0);
  ASSERT_EQ(iface_.neighbours().size(), table);
  // A legitimate new peer: tern resolves it, the datagram waits.
  const Ipv4Addr peer = Ipv4Addr::from_octets(198, 18, 0, 77);
  const MacAddr peer_mac{{0x02, 0x00, 0x00, 0x00, 0x00, 0x77}};
  const Bytes body = l3_payload(60, 7);
  iface_.send_ipv4(test::make_packet(body), peer, kT0 + 1);
  auto out = sent();
  ASSERT_EQ(out.size(), 1u) << "an ARP request for the new peer";
  EXPECT_EQ(parse_arp_frame(out[0]).arp.tpa, peer);
  flood(table, table, kT0 + 2);  // the flood goes on while the reply travels
  feed(arp_frame(kOurMac, wire::arp_op::reply, peer_mac, peer, kOurMac, kOurIp), kT0 + 3);
  out = sent();
  ASSERT_EQ(out.size(), 1u) << "the queued datagram goes out";
  EXPECT_EQ(EthernetHeader::parse(out[0])->dst, peer_mac);
  EXPECT_EQ(Bytes(out[0].begin() + 14, out[0].end()), body);
  EXPECT_EQ(iface_.stats().neigh_resolved, 1u);
  EXPECT_EQ(iface_.stats().dropped(L2Drop::neigh_table_full), 0u);
  EXPECT_EQ(iface_.stats().neigh_evicted_unsolicited, table + 1u);
}

}  // namespace
}  // namespace tern::l2
