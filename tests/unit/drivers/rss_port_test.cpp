// RssPort: an emulated RSS NIC over a PairWire end. The test sends IPv4/TCP/UDP frames on the other
// end and reads the emulated queues.
#include "tern/drivers/rss_port.hpp"

#include <gtest/gtest.h>

#include <array>
#include <atomic>
#include <chrono>
#include <map>
#include <set>
#include <thread>
#include <vector>

#include "driver_test_util.hpp"
#include "tern/drivers/pair_wire.hpp"
#include "tern/wire/toeplitz.hpp"

namespace tern::drivers {
namespace {

using test::Bytes;
using wire::Ipv4Addr;

PortCaps plain_caps(uint8_t last) {
  PortCaps c;
  c.mac = {0x02, 0, 0, 0, 0, last};
  return c;
}

/** Ethernet + IPv4 (+ 4 bytes of ports) from @p src:sport to @p dst:dport, protocol @p proto. */
Bytes ip_frame(Ipv4Addr src, Ipv4Addr dst, uint16_t sport, uint16_t dport, uint8_t proto = 6,
               uint16_t frag = 0) {
  Bytes b(14 + 20 + 20, 0);
  b[12] = 0x08;
  b[0] = 0x02;
  b[14] = 0x45;
  b[16] = 0;
  b[17] = 40;
  b[20] = static_cast<uint8_t>(frag >> 8);
  b[21] = static_cast<uint8_t>(frag);
  b[22] = 64;
  b[23] = proto;
  for (int i = 0; i < 4; ++i) {
    b[26 + i] = static_cast<uint8_t>(src.v >> (24 - 8 * i));
    b[30 + i] = static_cast<uint8_t>(dst.v >> (24 - 8 * i));
  }
  b[34] = static_cast<uint8_t>(sport >> 8);
  b[35] = static_cast<uint8_t>(sport);
  b[36] = static_cast<uint8_t>(dport >> 8);
  b[37] = static_cast<uint8_t>(dport);
  return b;
}

class RssPortTest : public ::testing::Test {
 protected:
  RssPortTest() : wire_(plain_caps(1), plain_caps(2)), rss_(wire_.b(), opts()) {}
  static RssOptions opts() {
    RssOptions o;
    o.queues = 4;
    o.reta_size = 128;
    o.ring_size = 64;
    return o;
  }
  void put(const Bytes& f) { ASSERT_EQ(test::send(wire_.a(), {f}), 1u); }
  /** Which queue each frame came out of: frames taken from every queue until none is left. */
  std::vector<std::pair<uint16_t, rte_mbuf*>> drain_all() {
    std::vector<std::pair<uint16_t, rte_mbuf*>> out;
    rte_mbuf* m[32];
    for (int round = 0; round < 8; ++round) {
      for (uint16_t q = 0; q < rss_.caps().rx_queues; ++q) {
        uint16_t n = rss_.rx_burst(q, m, 32);
        for (uint16_t i = 0; i < n; ++i) out.emplace_back(q, m[i]);
      }
    }
    return out;
  }
  PairWire wire_;
  RssPort rss_;
};

TEST_F(RssPortTest, CapsAreTheInnerPortsWithQueuesAndRss) {
  EXPECT_EQ(rss_.caps().rx_queues, 4u);
  EXPECT_EQ(rss_.caps().tx_queues, 4u);
  EXPECT_TRUE(rss_.caps().rss);
  EXPECT_EQ(rss_.caps().rss_key_size, 40u);
  EXPECT_EQ(rss_.caps().reta_size, 128u);
  EXPECT_EQ(rss_.caps().mac, wire_.b().caps().mac);
  const auto k = rss_.key();
  EXPECT_TRUE(std::equal(k.begin(), k.end(), wire::kSymmetricRssKey.begin())) << "starts symmetric";
}

TEST_F(RssPortTest, EachFrameGoesToTheQueueItsHashAndRetaName) {
  const Ipv4Addr a = Ipv4Addr::from_octets(198, 18, 0, 1), b = Ipv4Addr::from_octets(198, 18, 0, 2);
  std::set<uint16_t> used;
  for (uint16_t port = 1000; port < 1040; ++port) put(ip_frame(a, b, port, 80));
  for (auto [q, m] : drain_all()) {
    ASSERT_TRUE(m->ol_flags & RTE_MBUF_F_RX_RSS_HASH);
    Bytes f = test::take_bytes(m);
    const uint16_t sport = static_cast<uint16_t>((f[34] << 8) | f[35]);
    const uint32_t want = wire::toeplitz_ipv4_l4(wire::kSymmetricRssKey, a, b, sport, 80);
    EXPECT_EQ(q, rss_.reta()[want % 128]) << "port " << sport;
    used.insert(q);
  }
  EXPECT_EQ(used.size(), 4u) << "40 flows spread over the 4 queues";
  EXPECT_EQ(rss_.rss_stats().hashed, 40u);
}

TEST_F(RssPortTest, BothDirectionsOfAFlowLandOnOneQueueWithTheSymmetricKey) {
  const Ipv4Addr a = Ipv4Addr::from_octets(198, 18, 0, 1), b = Ipv4Addr::from_octets(198, 19, 3, 7);
  for (uint16_t port = 2000; port < 2064; ++port) {
    put(ip_frame(a, b, port, 443));
    put(ip_frame(b, a, 443, port));
    auto got = drain_all();
    ASSERT_EQ(got.size(), 2u);
    EXPECT_EQ(got[0].first, got[1].first) << "flow from port " << port;
    EXPECT_EQ(got[0].second->hash.rss, got[1].second->hash.rss);
    for (auto& g : got) rte_pktmbuf_free(g.second);
  }
}

TEST_F(RssPortTest, FragmentsAndOtherProtocolsHashAddressesOnlyNonIpGoesToQueueZero) {
  const Ipv4Addr a = Ipv4Addr::from_octets(198, 18, 0, 1), b = Ipv4Addr::from_octets(198, 18, 0, 9);
  put(ip_frame(a, b, 5, 6, 6, 0x2000));  // MF: a first fragment
  put(ip_frame(a, b, 5, 6, 1));          // ICMP
  Bytes arp = test::frame(7);
  arp[12] = 0x08;
  arp[13] = 0x06;
  put(arp);
  auto got = drain_all();
  ASSERT_EQ(got.size(), 3u);
  const uint32_t two = wire::toeplitz_ipv4(wire::kSymmetricRssKey, a, b);
  for (auto [q, m] : got) {
    if (m->ol_flags & RTE_MBUF_F_RX_RSS_HASH) {
      EXPECT_EQ(m->hash.rss, two);
      EXPECT_EQ(q, rss_.reta()[two % 128]);
    } else {
      EXPECT_EQ(q, 0u) << "unhashed frames go to the default queue";
    }
    rte_pktmbuf_free(m);
  }
  EXPECT_EQ(rss_.rss_stats().unhashed, 1u);
}

TEST_F(RssPortTest, ProgrammedKeyAndRetaAreUsedAndReadBack) {
  std::vector<uint16_t> all3(128, 3);
  EXPECT_FALSE(rss_.set_reta(std::vector<uint16_t>(64, 0))) << "wrong size";
  EXPECT_FALSE(rss_.set_reta(std::vector<uint16_t>(128, 4))) << "no queue 4";
  ASSERT_TRUE(rss_.set_reta(all3));
  EXPECT_EQ(rss_.reta(), all3);
  ASSERT_TRUE(rss_.set_key(wire::kMicrosoftRssKey));
  EXPECT_FALSE(rss_.set_key(std::vector<uint8_t>(52, 1))) << "wrong size";
  const Ipv4Addr a = Ipv4Addr::from_octets(198, 18, 0, 1), b = Ipv4Addr::from_octets(198, 18, 0, 2);
  put(ip_frame(a, b, 1234, 80));
  auto got = drain_all();
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].first, 3u);
  EXPECT_EQ(got[0].second->hash.rss, wire::toeplitz_ipv4_l4(wire::kMicrosoftRssKey, a, b, 1234, 80));
  rte_pktmbuf_free(got[0].second);
}

TEST_F(RssPortTest, AFullQueueDropsAndCountsWithoutHoldingUpTheOthers) {
  ASSERT_TRUE(rss_.set_reta(std::vector<uint16_t>(128, 1)));  // everything to queue 1
  const Ipv4Addr a = Ipv4Addr::from_octets(198, 18, 0, 1), b = Ipv4Addr::from_octets(198, 18, 0, 2);
  for (uint16_t i = 0; i < 100; ++i) put(ip_frame(a, b, static_cast<uint16_t>(3000 + i), 80));
  rte_mbuf* m[32];
  EXPECT_EQ(rss_.rx_burst(0, m, 32), 0u) << "queue 0 polls; the frames are queued for queue 1";
  EXPECT_EQ(rss_.rss_stats().ring_full, 100u - 64u) << "the ring holds 64";
  size_t n = 0;
  for (uint16_t k; (k = rss_.rx_burst(1, m, 32)) > 0;) {
    for (uint16_t i = 0; i < k; ++i) rte_pktmbuf_free(m[i]);
    n += k;
  }
  EXPECT_EQ(n, 64u);
}

TEST_F(RssPortTest, TransmitFromAnyQueueReachesTheInnerPort) {
  for (uint16_t q = 0; q < 4; ++q) EXPECT_EQ(test::send(rss_, {test::frame(q)}, q), 1u);
  rte_mbuf* m[8];
  EXPECT_EQ(wire_.a().rx_burst(0, m, 8), 4u);
  for (int i = 0; i < 4; ++i) rte_pktmbuf_free(m[i]);
  EXPECT_EQ(test::send(rss_, {test::frame(9)}, 4), 0u) << "no TX queue 4";
}

TEST_F(RssPortTest, TwoCoresPollingAtOnceGetEveryFrameOnceOnItsQueue) {
  const Ipv4Addr a = Ipv4Addr::from_octets(198, 18, 0, 1), b = Ipv4Addr::from_octets(198, 18, 0, 2);
  RssOptions o;
  o.queues = 2;
  o.ring_size = 4096;
  PairWire w(plain_caps(3), plain_caps(4));
  RssPort two(w.b(), o);
  constexpr int kFrames = 2000;
  std::array<std::vector<uint32_t>, 2> seen;
  std::atomic<int> total{0};
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  auto poller = [&](uint16_t q) {
    rte_mbuf* m[32];
    while (total.load() < kFrames && std::chrono::steady_clock::now() < deadline) {
      uint16_t n = two.rx_burst(q, m, 32);
      for (uint16_t i = 0; i < n; ++i) {
        seen[q].push_back(m[i]->hash.rss);
        rte_pktmbuf_free(m[i]);
      }
      total += n;
    }
  };
  std::thread t0(poller, 0), t1(poller, 1);
  for (int i = 0; i < kFrames; i += 50) {
    std::vector<Bytes> batch;
    for (int j = i; j < i + 50; ++j) batch.push_back(ip_frame(a, b, static_cast<uint16_t>(10000 + j), 80));
    EXPECT_EQ(test::send(w.a(), batch), 50u);
  }
  t0.join();
  t1.join();
  EXPECT_EQ(seen[0].size() + seen[1].size(), static_cast<size_t>(kFrames));
  const auto reta = two.reta();
  for (uint16_t q = 0; q < 2; ++q) {
    for (uint32_t h : seen[q]) ASSERT_EQ(reta[h % reta.size()], q);
  }
  EXPECT_FALSE(seen[0].empty());
  EXPECT_FALSE(seen[1].empty());
}

}  // namespace
}  // namespace tern::drivers
