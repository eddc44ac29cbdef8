#include "tern/drivers/pair_wire.hpp"

#include <gtest/gtest.h>

#include "driver_test_util.hpp"

namespace tern::drivers {
namespace {

using namespace tern::drivers::test;

PortCaps caps_with(uint16_t rxq, uint16_t txq, uint8_t mac_last) {
  PortCaps c;
  c.rx_queues = rxq;
  c.tx_queues = txq;
  c.mac = {0x02, 0, 0, 0, 0, mac_last};
  return c;
}

TEST(PairWire, DeliversInOrderBothWays) {
  PairWire wire(caps_with(1, 1, 1), caps_with(1, 1, 2));
  EXPECT_EQ(wire.a().name(), "pair-a");
  EXPECT_EQ(wire.b().caps().mac[5], 2);
  std::vector<Bytes> ab, ba;
  for (uint32_t i = 0; i < 50; ++i) ab.push_back(frame(i, 60 + i));
  for (uint32_t i = 100; i < 120; ++i) ba.push_back(frame(i, 1500));
  EXPECT_EQ(send(wire.a(), ab), ab.size());
  EXPECT_EQ(send(wire.b(), ba), ba.size());
  EXPECT_EQ(wire.in_flight(true), ab.size());
  EXPECT_EQ(drain(wire.b()), ab);
  EXPECT_EQ(drain(wire.a()), ba);
  EXPECT_EQ(wire.in_flight(true) + wire.in_flight(false), 0u);
  EXPECT_EQ(wire.a().stats().tx_packets, 50u);
  EXPECT_EQ(wire.b().stats().rx_packets, 50u);
  EXPECT_EQ(wire.b().stats().tx_bytes, 20u * 1500);
  EXPECT_EQ(wire.a().stats().rx_bytes, 20u * 1500);
  EXPECT_TRUE(wire.a().link().up);
}

TEST(PairWire, KeepsMultiSegmentFramesWhole) {
  PairWire wire(caps_with(1, 1, 1), caps_with(1, 1, 2));
  const Bytes f = frame(7, 900);
  EXPECT_EQ(send(wire.a(), {f}, 0, 128), 1);
  rte_mbuf* m = nullptr;
  ASSERT_EQ(wire.b().rx_burst(0, &m, 1), 1);
  EXPECT_GT(m->nb_segs, 1);
  EXPECT_EQ(take_bytes(m), f);
}

TEST(PairWire, SendsEachTxQueueToTheSameRxQueue) {
  PairWire wire(caps_with(2, 2, 1), caps_with(2, 2, 2));
  EXPECT_EQ(send(wire.a(), {frame(1)}, 0), 1);
  EXPECT_EQ(send(wire.a(), {frame(2), frame(3)}, 1), 2);
  auto q0 = drain(wire.b(), 0), q1 = drain(wire.b(), 1);
  ASSERT_EQ(q0.size(), 1u);
  ASSERT_EQ(q1.size(), 2u);
  EXPECT_EQ(id_of(q0[0]), 1u);
  EXPECT_EQ(id_of(q1[0]), 2u);
  EXPECT_EQ(id_of(q1[1]), 3u);
}

TEST(PairWire, RefusesBeyondCapacityAndCountsThem) {
  PairWire wire(caps_with(1, 1, 1), caps_with(1, 1, 2), 8);
  std::vector<rte_mbuf*> ms;
  for (uint32_t i = 0; i < 12; ++i) ms.push_back(mbuf_of(frame(i)));
  EXPECT_EQ(wire.a().tx_burst(0, ms.data(), 12), 8);
  // The refused four are still ours: retry after the receiver drained.
  EXPECT_EQ(wire.a().stats().tx_dropped, 4u);
  EXPECT_EQ(wire.a().tx_burst(0, ms.data() + 8, 4), 0);
  EXPECT_EQ(wire.a().stats().tx_dropped, 8u);
  auto first = drain(wire.b());
  ASSERT_EQ(first.size(), 8u);
  EXPECT_EQ(wire.a().tx_burst(0, ms.data() + 8, 4), 4);
  auto rest = drain(wire.b());
  ASSERT_EQ(rest.size(), 4u);
  for (uint32_t i = 0; i < 4; ++i) EXPECT_EQ(id_of(rest[i]), 8 + i);
  EXPECT_EQ(wire.a().stats().tx_packets, 12u);
}

TEST(PairWire, RefusesQueuesThatDoNotExist) {
  PairWire wire(caps_with(1, 2, 1), caps_with(1, 1, 2));
  rte_mbuf* m = mbuf_of(frame(1));
  EXPECT_EQ(wire.a().tx_burst(1, &m, 1), 0);  // b has no RX queue 1
  EXPECT_EQ(wire.a().tx_burst(5, &m, 1), 0);  // a has no TX queue 5
  EXPECT_EQ(wire.a().stats().tx_dropped, 2u);
  rte_mbuf* got = nullptr;
  EXPECT_EQ(wire.b().rx_burst(3, &got, 1), 0);
  rte_pktmbuf_free(m);
}

TEST(PairWire, FreesInFlightFramesAtDestruction) {
  const unsigned before = tern::test::mbufs_in_use();
  {
    PairWire wire(caps_with(1, 1, 1), caps_with(1, 1, 2));
    std::vector<Bytes> fs;
    for (uint32_t i = 0; i < 40; ++i) fs.push_back(frame(i, 500));
    EXPECT_EQ(send(wire.a(), fs, 0, 128), 40);
    EXPECT_EQ(send(wire.b(), fs), 40);
    EXPECT_GT(tern::test::mbufs_in_use(), before);
  }
  EXPECT_EQ(tern::test::mbufs_in_use(), before);
}

}  // namespace
}  // namespace tern::drivers
