// TCP between two Cores joined by a PairWire (198.18.0.1 on end a, 198.18.0.2
// on end b), driven by a fake clock: handshake, data both ways, close.
#include <gtest/gtest.h>
#include <malloc.h>
#include <rte_mempool.h>

#include <cstdint>
#include <vector>

#include "core_pair.hpp"
#include "tern/drivers/pair_wire.hpp"
#include "tern/stack/core.hpp"
#include "tern/tcp/tcp.hpp"
#include "test_support.hpp"

namespace tern::tcp {
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

Bytes pattern(size_t n, uint8_t seed = 0) {
  Bytes b(n);
  for (size_t i = 0; i < n; ++i) b[i] = static_cast<uint8_t>(seed + i * 7 + (i >> 11));
  return b;
}

CoreParams core_params(Port& port, Ipv4Addr addr, const TcpParams& tcp) {
  CoreParams p = test::core_params(port, addr);
  p.tcp = tcp;
  return p;
}

TcpParams small_params() {
  TcpParams t;
  t.max_connections = 64;
  t.max_time_wait = 64;
  t.ooo_nodes = 512;
  t.socket.send_buffer = 64 * 1024;
  t.socket.recv_buffer = 64 * 1024;
  return t;
}

class TcpPairTest : public ::testing::Test {
 protected:
  TcpPairTest()
      : wire_(caps(kMacA), caps(kMacB)),
        a_(core_params(wire_.a(), kIpA, small_params())),
        b_(core_params(wire_.b(), kIpB, small_params())) {
    a_.start(now_);
    b_.start(now_);
    a_.interface(0).neighbours().learn(kIpB, kMacB, true, now_);
    b_.interface(0).neighbours().learn(kIpA, kMacA, true, now_);
    run(1);
  }
  void run(int turns = 5, uint64_t step = kMs) {
    for (int i = 0; i < turns; ++i) {
      now_ += step;
      a_.poll(now_);
      b_.poll(now_);
    }
  }

  drivers::PairWire wire_;
  Core a_, b_;
  uint64_t now_ = 1'000'000'000;
};

TEST_F(TcpPairTest, HandshakeDataBothWaysAndGracefulClose) {
  auto l = b_.tcp().listen(7);
  ASSERT_TRUE(l);
  auto c = a_.tcp().connect(Endpoint{kIpB, 7});
  ASSERT_TRUE(c);
  uint32_t events = 0;
  (*c)->on_event([&](Connection&, uint32_t e) { events |= e; });
  run(3);
  EXPECT_EQ((*c)->state(), State::established);
  EXPECT_TRUE(events & ev::connected);
  Connection* s = (*l)->accept();
  ASSERT_NE(s, nullptr);
  EXPECT_EQ(s->state(), State::established);
  EXPECT_TRUE((*c)->info().timestamps);
  EXPECT_TRUE((*c)->info().sack);

  Bytes up = pattern(300'000, 1), down = pattern(200'000, 2);
  Bytes got_up, got_down;
  size_t sent_up = 0, sent_down = 0;
  for (int i = 0; i < 2000 && (got_up.size() < up.size() || got_down.size() < down.size()); ++i) {
    if (sent_up < up.size()) {
      auto n = (*c)->send_copy(std::span<const uint8_t>(up).subspan(sent_up));
      if (n) sent_up += *n;
    }
    if (sent_down < down.size()) {
      auto n = s->send_copy(std::span<const uint8_t>(down).subspan(sent_down));
      if (n) sent_down += *n;
    }
    Packet p;
    while (s->recv(p)) {
      size_t o = got_up.size();
      got_up.resize(o + p.length());
      p.copy_out(0, std::span<uint8_t>(got_up).subspan(o));
    }
    uint8_t buf[5000];
    for (;;) {
      auto n = (*c)->recv_copy(buf);
      if (!n || *n == 0) break;
      got_down.insert(got_down.end(), buf, buf + *n);
    }
    run(1);
  }
  ASSERT_EQ(got_up.size(), up.size());
  EXPECT_EQ(got_up, up);
  ASSERT_EQ(got_down.size(), down.size());
  EXPECT_EQ(got_down, down);
  EXPECT_EQ(a_.tcp().stats().retrans_segs, 0u);

  // a closes first: a goes through FIN_WAIT to TIME_WAIT, b through CLOSE_WAIT and LAST_ACK.
  (*c)->close();
  run(3);
  EXPECT_EQ(s->state(), State::close_wait);
  EXPECT_TRUE(s->at_eof());
  s->close();
  run(3);
  EXPECT_EQ(a_.tcp().time_wait(), 1u);
  EXPECT_EQ(a_.tcp().connections(), 0u);
  EXPECT_EQ(b_.tcp().connections(), 0u);
  (*l)->close();
}

TEST_F(TcpPairTest, ConnectToClosedPortIsRefused) {
  auto c = a_.tcp().connect(Endpoint{kIpB, 9});
  ASSERT_TRUE(c);
  run(3);
  EXPECT_EQ((*c)->state(), State::closed);
  ASSERT_TRUE((*c)->error());
  EXPECT_EQ((*c)->error()->code, Errc::connection_refused);
  (*c)->close();
  EXPECT_EQ(a_.tcp().connections(), 0u);
}

// Memory per established idle connection: heap bytes (the TCB) and mbufs held, measured
// over 2,000 connections on each side (docs/tcp.md quotes the printed figure).
TEST(TcpMemory, EstablishedIdleConnectionCostsOneTcbAndNoMbufs) {
  TcpParams p = small_params();
  p.max_connections = 4096;
  drivers::PairWire wire(caps(kMacA), caps(kMacB), 16384);
  Core a(core_params(wire.a(), kIpA, p));
  Core b(core_params(wire.b(), kIpB, p));
  uint64_t now = 1'000'000'000;
  a.start(now);
  b.start(now);
  a.interface(0).neighbours().learn(kIpB, kMacB, true, now);
  b.interface(0).neighbours().learn(kIpA, kMacA, true, now);
  auto l = b.tcp().listen(80, ListenOptions{4096, {}});
  ASSERT_TRUE(l);
  auto poll = [&](int n) {
    for (int i = 0; i < n; ++i) {
      now += 1'000'000;
      a.poll(now);
      b.poll(now);
    }
  };
  poll(2);
  const unsigned in_use0 = rte_mempool_in_use_count(test::pool());
  const size_t heap0 = mallinfo2().uordblks;
  constexpr int kConns = 2000;
  std::vector<Connection*> cs, ss;
  for (int i = 0; i < kConns; ++i) {
    auto c = a.tcp().connect(Endpoint{kIpB, 80});
    ASSERT_TRUE(c);
    cs.push_back(*c);
    if (i % 100 == 99) poll(1);
  }
  for (int i = 0; i < 400 && ss.size() < static_cast<size_t>(kConns); ++i) {
    poll(1);  // 32 frames per burst: the handshakes take a few hundred turns
    while (Connection* s = (*l)->accept()) ss.push_back(s);
  }
  ASSERT_EQ(ss.size(), static_cast<size_t>(kConns));
  poll(100);  // delayed ACKs and everything else settle: idle
  const size_t heap1 = mallinfo2().uordblks;
  const unsigned in_use1 = rte_mempool_in_use_count(test::pool());
  double per_conn = static_cast<double>(heap1 - heap0) / (2.0 * kConns);
  std::printf(
      "memory per established idle connection: %.0f bytes of heap (sizeof(Connection) = %zu), "
      "%u mbufs held by %d connections\n",
      per_conn, Tcp::connection_size(), in_use1 - in_use0, 2 * kConns);
  EXPECT_EQ(in_use1, in_use0);  // idle connections hold no mbufs
  EXPECT_LT(per_conn, 4096.0);  // one TCB each; no per-connection buffers until data flows
  for (Connection* c : cs) c->close();
  for (Connection* s : ss) s->close();
  for (int i = 0; i < 1000 && a.tcp().connections() + b.tcp().connections() != 0; ++i) poll(1);
  EXPECT_EQ(a.tcp().connections() + b.tcp().connections(), 0u);
  (*l)->close();
}

}  // namespace
}  // namespace tern::tcp
