#include "tern/drivers/fault_port.hpp"

#include <gtest/gtest.h>

#include <bit>

#include "driver_test_util.hpp"
#include "tern/drivers/pair_wire.hpp"

namespace tern::drivers {
namespace {

using namespace tern::drivers::test;
using tern::test::pool;

std::vector<Bytes> frames(uint32_t n, size_t len = 64) {
  std::vector<Bytes> out;
  for (uint32_t i = 0; i < n; ++i) out.push_back(frame(i, len));
  return out;
}

// Send @p n frames through @p port in bursts of 32, draining @p rx after each; returns all received.
std::vector<Bytes> pump(Port& port, Port& rx, uint32_t n, size_t len = 64) {
  std::vector<Bytes> got;
  for (uint32_t i = 0; i < n; i += 32) {
    std::vector<Bytes> burst;
    for (uint32_t j = i; j < std::min(n, i + 32); ++j) burst.push_back(frame(j, len + j % 200));
    EXPECT_EQ(send(port, burst), burst.size());
    for (Bytes& b : drain(rx)) got.push_back(std::move(b));
  }
  return got;
}

TEST(FaultPort, PassesEverythingWhenNoFaultIsSet) {
  PairWire wire(PortCaps{}, PortCaps{});
  FaultPort fault(ref(wire.a()), FaultOptions{}, pool());
  auto fs = frames(100);
  EXPECT_EQ(send(fault, fs), 100);
  EXPECT_EQ(drain(wire.b()), fs);
  EXPECT_EQ(fault.fault_stats().passed, 100u);
  EXPECT_EQ(fault.name(), "pair-a");
}

TEST(FaultPort, LossRateStaysWithinStatisticalBand) {
  PairWire wire(PortCaps{}, PortCaps{});
  FaultOptions o;
  o.seed = 7;
  o.loss = 0.1;
  FaultPort fault(ref(wire.a()), o, pool());
  auto got = pump(fault, wire.b(), 10000);
  const FaultStats s = fault.fault_stats();
  // Binomial(10000, 0.1): mean 1000, sd 30; +-150 is a 5-sigma band.
  EXPECT_GE(s.dropped, 850u);
  EXPECT_LE(s.dropped, 1150u);
  EXPECT_EQ(s.passed + s.dropped, 10000u);
  EXPECT_EQ(got.size(), s.passed);
  // Survivors keep their order.
  for (size_t i = 1; i < got.size(); ++i) ASSERT_LT(id_of(got[i - 1]), id_of(got[i]));
}

TEST(FaultPort, SameSeedGivesIdenticalDecisions) {
  FaultOptions o;
  o.seed = 42;
  o.loss = 0.2;
  o.duplicate = 0.1;
  o.reorder = 0.1;
  o.corrupt = 0.1;
  auto run = [&](FaultOptions opts) {
    PairWire wire(PortCaps{}, PortCaps{});
    FaultPort fault(ref(wire.a()), opts, pool());
    auto got = pump(fault, wire.b(), 2000);
    fault.poll(0, 1);  // release a frame still held for reordering
    for (Bytes& b : drain(wire.b())) got.push_back(std::move(b));
    const FaultStats s = fault.fault_stats();
    EXPECT_GT(s.dropped, 0u);
    EXPECT_GT(s.duplicated, 0u);
    EXPECT_GT(s.reordered, 0u);
    EXPECT_GT(s.corrupted, 0u);
    EXPECT_EQ(got.size(), s.passed);
    return got;
  };
  const auto first = run(o), second = run(o);
  EXPECT_EQ(first, second);
  o.seed = 43;
  EXPECT_NE(run(o), first);
}

TEST(FaultPort, DuplicateYieldsTwoIdenticalFrames) {
  PairWire wire(PortCaps{}, PortCaps{});
  FaultOptions o;
  o.duplicate = 1.0;
  FaultPort fault(ref(wire.a()), o, pool());
  const Bytes f = frame(9, 300);
  EXPECT_EQ(send(fault, {f}, 0, 100), 1);  // multi-segment original
  auto got = drain(wire.b());
  ASSERT_EQ(got.size(), 2u);
  EXPECT_EQ(got[0], f);
  EXPECT_EQ(got[1], f);
  EXPECT_EQ(fault.fault_stats().duplicated, 1u);
  EXPECT_EQ(fault.fault_stats().passed, 2u);
}

TEST(FaultPort, ReorderSwapsAdjacentFrames) {
  PairWire wire(PortCaps{}, PortCaps{});
  FaultOptions o;
  o.reorder = 1.0;
  FaultPort fault(ref(wire.a()), o, pool());
  EXPECT_EQ(send(fault, frames(4)), 4);
  auto got = drain(wire.b());
  ASSERT_EQ(got.size(), 4u);
  EXPECT_EQ(id_of(got[0]), 1u);
  EXPECT_EQ(id_of(got[1]), 0u);
  EXPECT_EQ(id_of(got[2]), 3u);
  EXPECT_EQ(id_of(got[3]), 2u);
  EXPECT_EQ(fault.fault_stats().reordered, 2u);
}

TEST(FaultPort, ReleasesAHeldFrameAtTheNextPoll) {
  PairWire wire(PortCaps{}, PortCaps{});
  FaultOptions o;
  o.reorder = 1.0;
  FaultPort fault(ref(wire.a()), o, pool());
  EXPECT_EQ(send(fault, {frame(1)}), 1);
  EXPECT_TRUE(drain(wire.b()).empty());
  EXPECT_EQ(fault.held(), 1u);
  fault.poll(0, 100);
  auto got = drain(wire.b());
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0], frame(1));
  EXPECT_EQ(fault.held(), 0u);
}

// Offsets of the bits that differ between @p a and @p b.
std::vector<size_t> diff_bits(const Bytes& a, const Bytes& b) {
  std::vector<size_t> out;
  for (size_t i = 0; i < std::min(a.size(), b.size()); ++i) {
    for (int bit = 0; bit < 8; ++bit) {
      if (((a[i] ^ b[i]) >> bit) & 1) out.push_back(i * 8 + bit);
    }
  }
  return out;
}

TEST(FaultPort, CorruptFlipsExactlyOneBitBeyondTheEthernetHeader) {
  PairWire wire(PortCaps{}, PortCaps{});
  FaultOptions o;
  o.corrupt = 1.0;
  o.seed = 3;
  FaultPort fault(ref(wire.a()), o, pool());
  size_t flips_in_later_segments = 0;
  for (uint32_t i = 0; i < 500; ++i) {
    Bytes f = frame(i, 18 + (i * 37) % 1500);
    if (i % 5 == 0) f.resize(15);  // a single byte beyond the header
    const uint16_t seg = i % 2 ? 128 : 2048;
    ASSERT_EQ(send(fault, {f}, 0, seg), 1);
    auto got = drain(wire.b());
    ASSERT_EQ(got.size(), 1u);
    ASSERT_EQ(got[0].size(), f.size());
    auto bits = diff_bits(f, got[0]);
    ASSERT_EQ(bits.size(), 1u) << "frame " << i;
    EXPECT_GE(bits[0] / 8, 14u) << "frame " << i;
    if (seg == 128 && bits[0] / 8 >= 128) ++flips_in_later_segments;
  }
  EXPECT_EQ(fault.fault_stats().corrupted, 500u);
  EXPECT_GT(flips_in_later_segments, 0u);
}

TEST(FaultPort, CorruptLeavesAFrameWithOnlyAnEthernetHeaderAlone) {
  PairWire wire(PortCaps{}, PortCaps{});
  FaultOptions o;
  o.corrupt = 1.0;
  FaultPort fault(ref(wire.a()), o, pool());
  Bytes f = frame(0, 18);
  f.resize(14);
  EXPECT_EQ(send(fault, {f}), 1);
  auto got = drain(wire.b());
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0], f);
  EXPECT_EQ(fault.fault_stats().corrupted, 0u);
}

TEST(FaultPort, CorruptOnASharedMbufLeavesTheOriginalIntact) {
  PairWire wire(PortCaps{}, PortCaps{});
  FaultOptions o;
  o.corrupt = 1.0;
  FaultPort fault(ref(wire.a()), o, pool());
  const Bytes f = frame(4, 600);

  // A retransmission-style clone: indirect mbufs over the original's data.
  Packet original = tern::test::make_packet(f, 256);
  Packet clone = original.share(tern::test::small_pool());
  ASSERT_TRUE(clone);
  rte_mbuf* m = clone.release();
  ASSERT_EQ(fault.tx_burst(0, &m, 1), 1);
  auto got = drain(wire.b());
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(diff_bits(f, got[0]).size(), 1u);
  EXPECT_EQ(tern::test::bytes_of(original), f);

  // A plain extra reference (refcnt 2) to a direct mbuf.
  rte_mbuf* direct = mbuf_of(f);
  rte_mbuf_refcnt_update(direct, 1);
  ASSERT_EQ(fault.tx_burst(0, &direct, 1), 1);
  got = drain(wire.b());
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(diff_bits(f, got[0]).size(), 1u);
  EXPECT_EQ(take_bytes(direct), f);  // drops our last reference
  EXPECT_EQ(fault.fault_stats().corrupted, 2u);
}

TEST(FaultPort, DelayHoldsFramesUntilTheClockPasses) {
  PairWire wire(PortCaps{}, PortCaps{});
  FaultOptions o;
  o.delay_ns = 1000;
  FaultPort fault(ref(wire.a()), o, pool());
  fault.poll(0, 5000);
  EXPECT_EQ(send(fault, {frame(1), frame(2)}), 2);
  EXPECT_TRUE(drain(wire.b()).empty());
  fault.poll(0, 5500);
  EXPECT_EQ(send(fault, {frame(3)}), 1);  // due at 6500
  fault.poll(0, 5999);
  EXPECT_TRUE(drain(wire.b()).empty());
  fault.poll(0, 6000);
  auto got = drain(wire.b());
  ASSERT_EQ(got.size(), 2u);
  EXPECT_EQ(id_of(got[0]), 1u);
  EXPECT_EQ(id_of(got[1]), 2u);
  EXPECT_EQ(fault.held(), 1u);
  fault.poll(0, 6500);
  got = drain(wire.b());
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(id_of(got[0]), 3u);
  EXPECT_EQ(fault.fault_stats().delayed, 3u);
  EXPECT_EQ(fault.fault_stats().passed, 3u);
}

TEST(FaultPort, DelayUsesEachQueuesOwnClock) {
  PortCaps two;
  two.rx_queues = two.tx_queues = 2;
  PairWire wire(two, two);
  FaultOptions o;
  o.delay_ns = 10;
  FaultPort fault(ref(wire.a()), o, pool());
  EXPECT_EQ(send(fault, {frame(1)}, 0), 1);  // queue 0 clock is 0: due at 10
  fault.poll(1, 50);                         // queue 1's clock does not move queue 0's
  EXPECT_TRUE(drain(wire.b(), 0).empty());
  EXPECT_EQ(send(fault, {frame(2)}, 1), 1);  // queue 1 clock is 50: due at 60
  fault.poll(0, 10);
  EXPECT_EQ(drain(wire.b(), 0).size(), 1u);
  fault.poll(1, 59);
  EXPECT_TRUE(drain(wire.b(), 1).empty());
  fault.poll(1, 60);
  EXPECT_EQ(drain(wire.b(), 1).size(), 1u);
}

TEST(FaultPort, DelayedFramesTheInnerPortRefusedGoOutInTheNextTxBurst) {
  PairWire wire(PortCaps{}, PortCaps{}, 1);
  FaultOptions o;
  o.delay_ns = 10;
  FaultPort fault(ref(wire.a()), o, pool());
  EXPECT_EQ(send(fault, {frame(1), frame(2)}), 2);
  fault.poll(0, 10);  // both due; the wire takes one
  EXPECT_EQ(fault.held(), 1u);
  EXPECT_EQ(drain(wire.b()).size(), 1u);
  EXPECT_EQ(send(fault, {frame(3)}), 1);  // flushes frame 2 first, then accepts frame 3 onto the delay line
  auto got = drain(wire.b());
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(id_of(got[0]), 2u);
  EXPECT_EQ(fault.held(), 1u);
  fault.poll(0, 20);
  got = drain(wire.b());
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(id_of(got[0]), 3u);
}

TEST(FaultPort, FreesHeldFramesAtDestruction) {
  const unsigned before = tern::test::mbufs_in_use();
  PairWire wire(PortCaps{}, PortCaps{}, 4);
  {
    FaultOptions o;
    o.delay_ns = 1000000;
    o.reorder = 0.5;
    o.duplicate = 0.5;
    FaultPort fault(ref(wire.a()), o, pool());
    EXPECT_EQ(send(fault, frames(64), 0, 128), 64);
    EXPECT_GT(fault.held(), 64u);
  }
  EXPECT_EQ(tern::test::mbufs_in_use(), before);
}

TEST(FaultPort, KeepsFramesTheInnerPortRefusesAndPushesBack) {
  PairWire wire(PortCaps{}, PortCaps{}, 4);
  FaultOptions o;
  o.duplicate = 1.0;
  FaultPort fault(ref(wire.a()), o, pool());
  // 3 frames -> 6 with duplicates; the wire takes 4, the decorator keeps 2.
  EXPECT_EQ(send(fault, {frame(0), frame(1), frame(2)}), 3);
  EXPECT_EQ(fault.held(), 2u);
  // While the inner port refuses what is ready, nothing new is accepted.
  EXPECT_EQ(send(fault, {frame(3)}), 0);
  auto got = drain(wire.b());
  ASSERT_EQ(got.size(), 4u);
  fault.poll(0, 0);  // retries the held frames
  EXPECT_EQ(fault.held(), 0u);
  EXPECT_EQ(send(fault, {frame(3)}), 1);
  for (Bytes& b : drain(wire.b())) got.push_back(std::move(b));
  std::vector<uint32_t> ids;
  for (const Bytes& b : got) ids.push_back(id_of(b));
  EXPECT_EQ(ids, (std::vector<uint32_t>{0, 0, 1, 1, 2, 2, 3, 3}));
  EXPECT_EQ(fault.fault_stats().passed, 8u);
}

TEST(FaultPort, AppliesFaultsToReceivedFramesWhenAsked) {
  PairWire wire(PortCaps{}, PortCaps{});
  FaultOptions o;
  o.on_rx = true;
  o.on_tx = false;
  o.duplicate = 1.0;
  FaultPort fault(ref(wire.a()), o, pool());
  EXPECT_EQ(send(wire.b(), {frame(1), frame(2)}), 2);
  rte_mbuf* m[3];
  ASSERT_EQ(fault.rx_burst(0, m, 3), 3);  // the fourth waits for the next call
  std::vector<uint32_t> ids;
  for (rte_mbuf* x : m) ids.push_back(id_of(take_bytes(x)));
  ASSERT_EQ(fault.rx_burst(0, m, 3), 1);
  ids.push_back(id_of(take_bytes(m[0])));
  EXPECT_EQ(ids, (std::vector<uint32_t>{1, 1, 2, 2}));
  // TX is untouched.
  EXPECT_EQ(send(fault, {frame(5)}), 1);
  EXPECT_EQ(drain(wire.b()).size(), 1u);
  EXPECT_EQ(fault.fault_stats().duplicated, 2u);
}

TEST(FaultPort, LosesReceivedFramesOnRx) {
  PairWire wire(PortCaps{}, PortCaps{});
  FaultOptions o;
  o.on_rx = true;
  o.loss = 1.0;
  FaultPort fault(ref(wire.a()), o, pool());
  EXPECT_EQ(send(wire.b(), frames(10)), 10);
  EXPECT_TRUE(drain(fault).empty());
  EXPECT_EQ(fault.fault_stats().dropped, 10u);
  EXPECT_EQ(wire.in_flight(false), 0u);
}

}  // namespace
}  // namespace tern::drivers
