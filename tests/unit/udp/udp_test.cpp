// UDP between two Cores joined by a PairWire (198.18.0.1/24 on end a,
// 198.18.0.2/24 on end b), driven by calling poll() alternately with a fake
// clock. Frames can be taken off the wire, edited and put back.
#include "tern/udp/udp.hpp"

#include <gtest/gtest.h>

#include <cstdint>
#include <optional>
#include <vector>

#include "core_pair.hpp"
#include "tern/base/byteorder.hpp"
#include "tern/drivers/pair_wire.hpp"
#include "tern/stack/core.hpp"
#include "tern/wire/ethernet.hpp"
#include "tern/wire/ipv4.hpp"
#include "test_support.hpp"

namespace tern::udp {
namespace {

using test::caps;
using test::kIpA;
using test::kIpB;
using test::kMacA;
using test::kMacB;

using Bytes = std::vector<uint8_t>;
using wire::Ipv4Addr;
using wire::MacAddr;

constexpr uint64_t kMs = 1'000'000;
constexpr uint64_t kSec = 1'000'000'000;

// Offsets in an untagged Ethernet/IPv4(20)/UDP frame.
constexpr size_t kUdpOff = 14 + 20;
constexpr size_t kPayloadOff = kUdpOff + 8;

Bytes pattern(size_t n, uint8_t seed = 0) {
  Bytes b(n);
  for (size_t i = 0; i < n; ++i) b[i] = static_cast<uint8_t>(seed + i * 7 + (i >> 9));
  return b;
}

class UdpTest : public ::testing::Test {
 protected:
  static CoreParams core_params(Port& port, Ipv4Addr addr, const UdpParams& udp) {
    CoreParams p = test::core_params(port, addr);
    p.udp = udp;
    return p;
  }
  explicit UdpTest(const UdpParams& a = {}, const UdpParams& b = {}, PortCaps a_caps = caps(kMacA))
      : wire_(a_caps, caps(kMacB)), a_(core_params(wire_.a(), kIpA, a)), b_(core_params(wire_.b(), kIpB, b)) {
    a_.start(now_);
    b_.start(now_);
  }

  /** Poll both cores @p turns times, 1 ms apart. */
  void run(int turns = 5) {
    for (int i = 0; i < turns; ++i) {
      now_ += kMs;
      a_.poll(now_);
      b_.poll(now_);
    }
  }
  /** Both neighbour tables know each other (no ARP on the wire afterwards). */
  void resolved() {
    a_.interface(0).neighbours().learn(kIpB, kMacB, true, now_);
    b_.interface(0).neighbours().learn(kIpA, kMacA, true, now_);
    run(1);  // let the gratuitous ARPs of start() pass
  }
  /**
   * Flush a's TX, take every frame headed for b off the wire, let @p edit
   * change each, put them back and let b receive them.
   */
  template <typename F>
  void tamper(F&& edit) {
    a_.poll(now_);
    std::vector<rte_mbuf*> ms;
    rte_mbuf* m = nullptr;
    while (wire_.b().rx_burst(0, &m, 1) == 1) ms.push_back(m);
    for (rte_mbuf* f : ms) edit(rte_pktmbuf_mtod(f, uint8_t*), f->data_len);
    ASSERT_EQ(wire_.a().tx_burst(0, ms.data(), static_cast<uint16_t>(ms.size())), ms.size());
    b_.poll(now_);
  }
  Socket* bind(Core& c, uint16_t port) {
    auto r = c.udp().bind(port);
    EXPECT_TRUE(r.ok());
    return r.ok() ? *r : nullptr;
  }

  uint64_t now_ = 1 * kSec;
  drivers::PairWire wire_;
  Core a_;
  Core b_;
};

TEST_F(UdpTest, DeliversDatagramZeroCopy) {
  Socket* sb = bind(b_, 5000);
  Socket* sa = bind(a_, 0);
  const Bytes data = pattern(200, 1);
  Packet p = test::make_packet(data);
  const rte_mbuf* sent_mbuf = p.mbuf();
  const uint8_t* sent_data = p.data();
  const uint64_t copies = buf_stats().copies;
  ASSERT_TRUE(sa->send({kIpB, 5000}, std::move(p)).ok());
  run();  // includes the ARP exchange
  ASSERT_EQ(sb->queued(), 1u);
  Datagram d;
  ASSERT_TRUE(sb->recv(d));
  EXPECT_EQ(buf_stats().copies, copies) << "no byte was copied on the way";
  EXPECT_EQ(d.payload.mbuf(), sent_mbuf) << "the received mbuf is the one that was sent";
  EXPECT_EQ(d.payload.data(), sent_data) << "headers were prepended and trimmed in place";
  EXPECT_EQ(test::bytes_of(d.payload), data);
  EXPECT_EQ(d.from, (Endpoint{kIpA, sa->port()}));
  EXPECT_EQ(d.to, (Endpoint{kIpB, 5000}));
  EXPECT_FALSE(sb->recv(d));
  EXPECT_EQ(b_.udp().stats().rx_datagrams, 1u);
  EXPECT_EQ(b_.udp().stats().rx_bytes, 200u);
  EXPECT_EQ(a_.udp().stats().tx_datagrams, 1u);
  EXPECT_EQ(a_.udp().stats().tx_bytes, 200u);
}

TEST_F(UdpTest, SendCopyDeliversTheBytes) {
  Socket* sb = bind(b_, 5000);
  Socket* sa = bind(a_, 4000);
  const Bytes data = pattern(999, 2);
  ASSERT_TRUE(sa->send_copy({kIpB, 5000}, data).ok());
  run();
  Bytes got(2000);
  Endpoint from;
  auto n = sb->recv_copy(got, &from);
  ASSERT_TRUE(n.ok());
  EXPECT_EQ(*n, data.size());
  got.resize(*n);
  EXPECT_EQ(got, data);
  EXPECT_EQ(from, (Endpoint{kIpA, 4000}));
  auto none = sb->recv_copy(got);
  ASSERT_FALSE(none.ok());
  EXPECT_EQ(none.error().code, Errc::would_block);
}

TEST_F(UdpTest, RecvCopyTruncatesToTheBufferButReportsTheFullLength) {
  Socket* sb = bind(b_, 5000);
  const Bytes data = pattern(100, 3);
  ASSERT_TRUE(bind(a_, 4000)->send_copy({kIpB, 5000}, data).ok());
  run();
  Bytes got(10);
  auto n = sb->recv_copy(got);
  ASSERT_TRUE(n.ok());
  EXPECT_EQ(*n, 100u);
  EXPECT_EQ(got, Bytes(data.begin(), data.begin() + 10));
  EXPECT_EQ(sb->queued(), 0u);
}

TEST_F(UdpTest, CorruptedPayloadIsDroppedAsBadChecksum) {
  resolved();
  Socket* sb = bind(b_, 5000);
  ASSERT_TRUE(bind(a_, 4000)->send_copy({kIpB, 5000}, pattern(64, 4)).ok());
  tamper([](uint8_t* f, size_t) { f[kPayloadOff + 3] ^= 0x01; });
  EXPECT_EQ(sb->queued(), 0u);
  EXPECT_EQ(b_.udp().stats().dropped(UdpDrop::bad_checksum), 1u);
  EXPECT_EQ(b_.udp().stats().rx_datagrams, 0u);
}

TEST_F(UdpTest, ZeroChecksumIsAccepted) {
  resolved();
  Socket* sb = bind(b_, 5000);
  ASSERT_TRUE(bind(a_, 4000)->send_copy({kIpB, 5000}, pattern(64, 5)).ok());
  tamper([](uint8_t* f, size_t) {
    store_be16(f + kUdpOff + 6, 0);  // RFC 768: no checksum computed
    f[kPayloadOff] ^= 0xff;          // so nothing can notice this
  });
  ASSERT_EQ(sb->queued(), 1u);
  Datagram d;
  ASSERT_TRUE(sb->recv(d));
  Bytes want = pattern(64, 5);
  want[0] ^= 0xff;
  EXPECT_EQ(test::bytes_of(d.payload), want);
}

TEST_F(UdpTest, LengthFieldBelowHeaderSizeIsDropped) {
  resolved();
  Socket* sb = bind(b_, 5000);
  ASSERT_TRUE(bind(a_, 4000)->send_copy({kIpB, 5000}, pattern(20)).ok());
  tamper([](uint8_t* f, size_t) { store_be16(f + kUdpOff + 4, 7); });
  EXPECT_EQ(sb->queued(), 0u);
  EXPECT_EQ(b_.udp().stats().dropped(UdpDrop::bad_length), 1u);
}

TEST_F(UdpTest, LengthFieldBeyondTheDatagramIsDropped) {
  resolved();
  Socket* sb = bind(b_, 5000);
  ASSERT_TRUE(bind(a_, 4000)->send_copy({kIpB, 5000}, pattern(20)).ok());
  tamper([](uint8_t* f, size_t) { store_be16(f + kUdpOff + 4, 8 + 21); });
  EXPECT_EQ(sb->queued(), 0u);
  EXPECT_EQ(b_.udp().stats().dropped(UdpDrop::bad_length), 1u);
}

TEST_F(UdpTest, LengthFieldShorterThanTheDatagramTrimsThePayload) {
  resolved();
  Socket* sb = bind(b_, 5000);
  const Bytes data = pattern(20, 6);
  ASSERT_TRUE(bind(a_, 4000)->send_copy({kIpB, 5000}, data).ok());
  tamper([](uint8_t* f, size_t) {
    store_be16(f + kUdpOff + 4, 8 + 4);
    store_be16(f + kUdpOff + 6, 0);
  });
  ASSERT_EQ(sb->queued(), 1u);
  Datagram d;
  ASSERT_TRUE(sb->recv(d));
  EXPECT_EQ(test::bytes_of(d.payload), Bytes(data.begin(), data.begin() + 4));
}

class SmallQueueUdpTest : public UdpTest {
 protected:
  static UdpParams four() {
    UdpParams p;
    p.rx_queue_len = 4;
    return p;
  }
  SmallQueueUdpTest() : UdpTest({}, four()) {}
};

TEST_F(SmallQueueUdpTest, ReceiveQueueBoundDropsAndCounts) {
  Socket* sb = bind(b_, 5000);
  Socket* sa = bind(a_, 4000);
  for (uint8_t i = 0; i < 6; ++i) ASSERT_TRUE(sa->send_copy({kIpB, 5000}, Bytes{i}).ok());
  run();
  EXPECT_EQ(sb->queued(), 4u);
  EXPECT_EQ(sb->rx_dropped(), 2u);
  EXPECT_EQ(b_.udp().stats().dropped(UdpDrop::queue_full), 2u);
  for (uint8_t i = 0; i < 4; ++i) {
    Datagram d;
    ASSERT_TRUE(sb->recv(d));
    EXPECT_EQ(test::bytes_of(d.payload), Bytes{i}) << "oldest first";
  }
  // Room again.
  ASSERT_TRUE(sa->send_copy({kIpB, 5000}, Bytes{9}).ok());
  run();
  EXPECT_EQ(sb->queued(), 1u);
}

TEST_F(UdpTest, BindingABoundPortFailsWithExists) {
  Socket* s = bind(b_, 5000);
  auto again = b_.udp().bind(5000);
  ASSERT_FALSE(again.ok());
  EXPECT_EQ(again.error().code, Errc::exists);
  b_.udp().close(s);
  EXPECT_TRUE(b_.udp().bind(5000).ok()) << "free again after close";
}

TEST_F(UdpTest, EphemeralPortsAreFreeAndInRange) {
  bind(a_, 49153);
  std::vector<uint16_t> ports;
  for (int i = 0; i < 5; ++i) ports.push_back(bind(a_, 0)->port());
  EXPECT_EQ(ports, (std::vector<uint16_t>{49152, 49154, 49155, 49156, 49157})) << "49153 is skipped";
  EXPECT_EQ(a_.udp().sockets(), 6u);
}

class TinyQueueUdpTest : public UdpTest {
 protected:
  static UdpParams one() {
    UdpParams p;
    p.rx_queue_len = 1;
    return p;
  }
  TinyQueueUdpTest() : UdpTest(one(), {}) {}
};

TEST_F(TinyQueueUdpTest, EphemeralPortsRunOutAndWrapAround) {
  std::vector<Socket*> socks;
  for (int i = 0; i < 16384; ++i) {
    auto r = a_.udp().bind(0);
    ASSERT_TRUE(r.ok()) << i;
    ASSERT_GE((*r)->port(), 49152);
    socks.push_back(*r);
  }
  auto none = a_.udp().bind(0);
  ASSERT_FALSE(none.ok());
  EXPECT_EQ(none.error().code, Errc::no_memory);
  a_.udp().close(socks[100]);  // port 49252
  auto again = a_.udp().bind(0);
  ASSERT_TRUE(again.ok());
  EXPECT_EQ((*again)->port(), 49252);
}

TEST_F(UdpTest, CloseFreesQueuedDatagrams) {
  Socket* sb = bind(b_, 5000);
  Socket* sa = bind(a_, 4000);
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(sa->send_copy({kIpB, 5000}, pattern(100)).ok());
  run();
  ASSERT_EQ(sb->queued(), 3u);
  const unsigned before = test::mbufs_in_use();
  b_.udp().close(sb);
  EXPECT_EQ(test::mbufs_in_use(), before - 3);
  EXPECT_EQ(b_.udp().sockets(), 0u);
  // Later datagrams to the port are refused.
  ASSERT_TRUE(sa->send_copy({kIpB, 5000}, pattern(100)).ok());
  run();
  EXPECT_EQ(b_.udp().stats().dropped(UdpDrop::no_socket), 1u);
}

TEST_F(UdpTest, PortUnreachableReachesTheSendingSocket) {
  Socket* sa = bind(a_, 4000);
  int callbacks = 0;
  sa->on_readable([&](Socket& s) {
    EXPECT_EQ(&s, sa);
    ++callbacks;
  });
  ASSERT_TRUE(sa->send_copy({kIpB, 9}, pattern(30)).ok());
  run();
  EXPECT_EQ(b_.udp().stats().dropped(UdpDrop::no_socket), 1u);
  EXPECT_EQ(b_.ipv4().stats().icmp_unreach_out, 1u);
  EXPECT_EQ(callbacks, 1);
  std::optional<SocketError> e = sa->take_error();
  ASSERT_TRUE(e.has_value());
  EXPECT_EQ(e->icmp_type, 3u);
  EXPECT_EQ(e->icmp_code, 3u);
  EXPECT_EQ(e->remote, (Endpoint{kIpB, 9}));
  EXPECT_FALSE(sa->take_error().has_value()) << "cleared on read";
  EXPECT_EQ(sa->queued(), 0u);
  EXPECT_EQ(a_.udp().stats().icmp_errors, 1u);
}

TEST_F(UdpTest, IcmpErrorForAPortNoLongerBoundIsCounted) {
  Socket* sa = bind(a_, 4000);
  ASSERT_TRUE(sa->send_copy({kIpB, 9}, pattern(30)).ok());
  a_.udp().close(sa);  // before b's port unreachable comes back
  run();
  EXPECT_EQ(b_.ipv4().stats().icmp_unreach_out, 1u);
  EXPECT_EQ(a_.udp().stats().icmp_errors, 0u);
  EXPECT_EQ(a_.udp().stats().dropped(UdpDrop::icmp_no_socket), 1u);
}

TEST_F(UdpTest, AFloodToAClosedPortFromOnePeerLeavesAnotherPeersPortUnreachableIntact) {
  // Issue 14: ICMP errors are limited per destination before the core's budget, so a peer that
  // floods a closed port spends its own allowance only.
  resolved();
  const Ipv4Addr other = Ipv4Addr::from_octets(198, 18, 0, 3);
  const MacAddr other_mac{{0x02, 0x00, 0x00, 0x00, 0x00, 0x0c}};
  b_.interface(0).neighbours().learn(other, other_mac, true, now_);
  Socket* sa = bind(a_, 4000);
  for (int ms = 0; ms < 1000; ++ms) {  // 20,000 datagrams to a closed port in one second
    for (int i = 0; i < 20; ++i) ASSERT_TRUE(sa->send_copy({kIpB, 9}, pattern(8)).ok());
    run(1);
  }
  const uint64_t to_flooder = b_.ipv4().stats().icmp_unreach_out;
  EXPECT_LE(to_flooder, 10u + 10u + 1u) << "its burst and one second at its rate";
  EXPECT_GT(b_.ipv4().stats().dropped(l3::L3Drop::icmp_dest_limited), 19'000u);
  // Another peer's datagram to the same closed port, right after: it gets its port unreachable.
  wire::Ipv4Header ih;
  ih.total_length = 20 + 8 + 4;
  ih.protocol = wire::ip_proto::udp;
  ih.src = other;
  ih.dst = kIpB;
  Bytes frame(14 + 20 + 8 + 4, 0);
  wire::EthernetHeader{kMacB, other_mac, wire::ethertype::ipv4, std::nullopt}.emit(frame);
  ih.emit(std::span<uint8_t>(frame).subspan(14));
  store_be16(&frame[kUdpOff], 5555);
  store_be16(&frame[kUdpOff + 2], 9);
  store_be16(&frame[kUdpOff + 4], 8 + 4);  // checksum 0: none (RFC 768)
  Packet pkt = test::make_packet(frame);
  rte_mbuf* m = pkt.release();
  ASSERT_EQ(wire_.a().tx_burst(0, &m, 1), 1u);
  b_.poll(now_);
  EXPECT_EQ(b_.ipv4().stats().icmp_unreach_out, to_flooder + 1)
      << "the other peer's error was eaten by the flood";
  run(1);
}

TEST_F(UdpTest, BroadcastToAClosedPortGetsNoIcmp) {
  Socket* sa = bind(a_, 4000);
  ASSERT_TRUE(sa->send_copy({Ipv4Addr::from_octets(198, 18, 0, 255), 9}, pattern(30)).ok());
  run();
  EXPECT_EQ(b_.udp().stats().dropped(UdpDrop::no_socket), 1u);
  EXPECT_EQ(b_.ipv4().stats().icmp_errors_out, 0u);
  EXPECT_FALSE(sa->take_error().has_value());
}

TEST_F(UdpTest, BroadcastIsDeliveredWithItsDestination) {
  Socket* sb = bind(b_, 67);
  ASSERT_TRUE(bind(a_, 68)->send_copy({Ipv4Addr{0xffffffffu}, 67}, pattern(30)).ok());
  run();
  Datagram d;
  ASSERT_TRUE(sb->recv(d));
  EXPECT_EQ(d.to, (Endpoint{Ipv4Addr{0xffffffffu}, 67}));
  EXPECT_EQ(d.from, (Endpoint{kIpA, 68}));
}

TEST_F(UdpTest, LargeDatagramGoesThroughFragmentationAndReassemblyByteExact) {
  Socket* sb = bind(b_, 5000);
  const Bytes data = pattern(20000, 8);
  ASSERT_TRUE(bind(a_, 4000)->send_copy({kIpB, 5000}, data).ok());
  run();
  Datagram d;
  ASSERT_TRUE(sb->recv(d));
  EXPECT_EQ(test::bytes_of(d.payload), data);
  EXPECT_EQ(a_.ipv4().stats().fragmented, 1u);
  EXPECT_EQ(a_.ipv4().stats().fragments_created, 14u);  // 20008 bytes in 1480-byte pieces
  EXPECT_EQ(b_.ipv4().stats().reassembled, 1u);
  EXPECT_EQ(b_.udp().stats().dropped(UdpDrop::bad_checksum), 0u);
}

// A port with UDP checksum offload: the checksum is left to the NIC even for a datagram that
// will be fragmented, and Ipv4::fragment() completes it in software (fragments cannot carry the
// offload). b verifies every byte of it in software.
class OffloadingSenderUdpTest : public UdpTest {
 protected:
  static PortCaps offload_caps() {
    PortCaps c = caps(kMacA);
    c.tx_udp_csum = true;
    return c;
  }
  OffloadingSenderUdpTest() : UdpTest({}, {}, offload_caps()) {}
};

TEST_F(OffloadingSenderUdpTest, FragmentedDatagramGetsItsOffloadedChecksumCompleted) {
  Socket* sb = bind(b_, 5000);
  const Bytes data = pattern(5000, 3);
  ASSERT_TRUE(bind(a_, 4000)->send_copy({kIpB, 5000}, data).ok());
  run();
  Datagram d;
  ASSERT_TRUE(sb->recv(d));
  EXPECT_EQ(test::bytes_of(d.payload), data);
  EXPECT_EQ(a_.ipv4().stats().fragmented, 1u);
  EXPECT_EQ(b_.udp().stats().dropped(UdpDrop::bad_checksum), 0u);
}

TEST_F(UdpTest, SendRejectsPortZeroAndOversizedPayloads) {
  Socket* sa = bind(a_, 4000);
  Status s = sa->send_copy({kIpB, 0}, pattern(10));
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().code, Errc::invalid_argument);
  s = sa->send_copy({kIpB, 5000}, pattern(65508));
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().code, Errc::bad_length);
  s = sa->send_copy({Ipv4Addr::from_octets(198, 19, 0, 1), 5000}, pattern(10));
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().code, Errc::no_route);
  EXPECT_EQ(a_.udp().stats().tx_errors, 3u);
  run();
  EXPECT_EQ(b_.udp().stats().rx_datagrams + b_.udp().stats().dropped(UdpDrop::no_socket), 0u);
}

TEST_F(UdpTest, SendTakesThePacketEvenWhenItFails) {
  Socket* sa = bind(a_, 4000);
  Packet p = test::make_packet(pattern(10));
  Status s = sa->send({kIpB, 0}, std::move(p));
  ASSERT_FALSE(s.ok());
  EXPECT_FALSE(p) << "Socket::send: \"Takes ownership in every case\"";
}

TEST_F(UdpTest, ReadableCallbackRunsOncePerPollForSeveralDatagrams) {
  Socket* sb = bind(b_, 5000);
  int calls = 0;
  size_t seen = 0;
  sb->on_readable([&](Socket& s) {
    ++calls;
    Datagram d;
    while (s.recv(d)) ++seen;
  });
  Socket* sa = bind(a_, 4000);
  resolved();
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(sa->send_copy({kIpB, 5000}, pattern(10)).ok());
  run(2);
  EXPECT_EQ(calls, 1);
  EXPECT_EQ(seen, 3u);
}

TEST_F(UdpTest, CallbackClosingItsOwnSocketDoesNotLoseOtherSocketsEvents) {
  resolved();
  Socket* s1 = bind(b_, 5001);
  Socket* s2 = bind(b_, 5002);
  int s2_calls = 0;
  s1->on_readable([&](Socket& s) { b_.udp().close(&s); });
  s2->on_readable([&](Socket& s) {
    ++s2_calls;
    Datagram d;
    while (s.recv(d)) {
    }
  });
  Socket* sa = bind(a_, 4000);
  // Both arrive in the same poll: s1 is ready first, then s2.
  ASSERT_TRUE(sa->send_copy({kIpB, 5001}, pattern(10)).ok());
  ASSERT_TRUE(sa->send_copy({kIpB, 5002}, pattern(10)).ok());
  a_.poll(now_);
  b_.poll(now_);
  EXPECT_EQ(b_.udp().sockets(), 1u);
  EXPECT_EQ(s2_calls, 1) << "s2 became readable in the same poll";
  // And s2 keeps getting events afterwards.
  ASSERT_TRUE(sa->send_copy({kIpB, 5002}, pattern(10)).ok());
  run(2);
  EXPECT_EQ(s2_calls, 2);
}

// The callback's own state lives in the socket: closing the socket from its
// callback must not free that state while the callback still runs (ASan
// catches a use after free here).
TEST_F(UdpTest, CallbackMayCloseItsOwnSocketAndKeepUsingItsState) {
  resolved();
  Socket* s1 = bind(b_, 5001);
  int seen = 0;
  Udp& udp = b_.udp();
  s1->on_readable([&udp, &seen, count = 0](Socket& s) mutable {
    udp.close(&s);
    ++count;  // state inside the std::function, after close()
    seen = count;
  });
  Socket* sa = bind(a_, 4000);
  ASSERT_TRUE(sa->send_copy({kIpB, 5001}, pattern(10)).ok());
  run(2);
  EXPECT_EQ(seen, 1);
  EXPECT_EQ(b_.udp().sockets(), 0u);
}

TEST_F(UdpTest, ReplyCanChooseItsSourceAddressButOnlyOneOfOurs) {
  resolved();
  Socket* sb = bind(b_, 5000);
  Packet p = Packet::copy_from(test::pool(), pattern(5));
  EXPECT_TRUE(sb->send({kIpA, 4000}, std::move(p), kIpB).ok());
  Packet q = Packet::copy_from(test::pool(), pattern(5));
  Status st = sb->send({kIpA, 4000}, std::move(q), kIpA);  // kIpA belongs to the other stack
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.error().code, Errc::invalid_argument);
  run(2);
}

}  // namespace
}  // namespace tern::udp
