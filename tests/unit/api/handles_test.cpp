// Generation-checked handles: a handle kept after close() is detected (bad_handle) and never
// reaches the socket that reuses its slot; a new connection never inherits a stale Poller
// registration; open/close cycles with a Poller leave nothing behind.
#include <gtest/gtest.h>

#include <array>
#include <vector>

#include "api_fixture.hpp"
#include "tern/api/poller.hpp"
#include "tern/tcp/tcp.hpp"

namespace tern::apitest {
namespace {

class HandleTest : public ApiTest {
 protected:
  HandleTest() : ApiTest({}, 4) {}  // few TCBs: slots are reused at once
};

TEST_F(HandleTest, UseAfterCloseIsDetectedAndNeverAliasesTheNextConnection) {
  auto l = nb_->listen(80);
  ASSERT_TRUE(l);
  auto [c1, s1] = open(*l, 80);
  ASSERT_TRUE(c1.valid() && s1.valid());
  tcp::Connection* slot = s1.get();
  ASSERT_TRUE(s1.close());
  EXPECT_FALSE(s1.valid());
  EXPECT_EQ(s1.close().error().code, Errc::bad_handle);
  std::array<uint8_t, 4> msg{1, 2, 3, 4};
  EXPECT_EQ(s1.send(msg).error().code, Errc::bad_handle);
  EXPECT_EQ(s1.recv(std::span<uint8_t>(msg)).error().code, Errc::bad_handle);
  EXPECT_EQ(s1.error()->code, Errc::bad_handle);
  EXPECT_EQ(s1.set_nodelay(true).error().code, Errc::bad_handle);
  run(5);
  (void)c1.close();
  // Let the old connection finish and its TCB be reused by the next accepted connection.
  run(5);
  bool reused = false;
  for (int i = 0; i < 8 && !reused; ++i) {
    auto [c2, s2] = open(*l, 80);
    ASSERT_TRUE(s2.valid());
    if (s2.get() == slot) {
      reused = true;
      // Same slot, new generation: the old handle stays dead, the new one works.
      EXPECT_FALSE(s1.valid());
      EXPECT_EQ(s1.send(msg).error().code, Errc::bad_handle);
      EXPECT_EQ(s1.abort().error().code, Errc::bad_handle);
      EXPECT_EQ(s2.state(), tcp::State::established);
      EXPECT_TRUE(s2.send(msg));
    }
    (void)c2.close();
    (void)s2.close();
    run(5);
  }
  EXPECT_TRUE(reused) << "the TCB was never reused: the test proves nothing";
}

TEST_F(HandleTest, ListenerAndUdpHandlesGoStaleWhenClosedAndTheirObjectsAreReused) {
  auto l1 = nb_->listen(81);
  ASSERT_TRUE(l1);
  TcpListener old = *l1;
  ASSERT_TRUE(old.close());
  EXPECT_FALSE(old.valid());
  EXPECT_EQ(old.accept().error().code, Errc::bad_handle);
  auto l2 = nb_->listen(82);
  ASSERT_TRUE(l2);
  EXPECT_FALSE(old.valid()) << "a reused listener object must not revive the old handle";
  EXPECT_EQ(old.port(), 0);

  auto u1 = nb_->udp_bind(53);
  ASSERT_TRUE(u1);
  UdpSocket ou = *u1;
  udp::Socket* obj = ou.get();
  ASSERT_TRUE(ou.close());
  auto u2 = nb_->udp_bind(54);
  ASSERT_TRUE(u2);
  EXPECT_EQ(u2->get(), obj) << "closed UDP sockets are reused";
  EXPECT_FALSE(ou.valid());
  std::array<uint8_t, 2> d{1, 2};
  EXPECT_EQ(ou.send(d, Endpoint{kIpA, 9}).error().code, Errc::bad_handle);
  EXPECT_EQ(ou.port(), 0);
  EXPECT_EQ(u2->port(), 54);
}

TEST_F(HandleTest, ANewConnectionNeverInheritsAStaleRegistration) {
  auto l = nb_->listen(80);
  ASSERT_TRUE(l);
  Poller p;
  auto [c1, s1] = open(*l, 80);
  ASSERT_TRUE(p.add(s1, ev::all, 111));
  EXPECT_EQ(p.size(), 1u);
  tcp::Connection* slot = s1.get();
  ASSERT_TRUE(s1.close());  // no remove(): close() drops the registration itself
  EXPECT_EQ(p.size(), 0u);
  EXPECT_EQ(p.remove(s1).error().code, Errc::bad_handle);
  (void)c1.close();
  run(5);
  std::array<PollEvent, 8> evs;
  while (p.wait(evs) > 0) {
  }
  bool reused = false;
  for (int i = 0; i < 8 && !reused; ++i) {
    auto [c2, s2] = open(*l, 80);
    reused = s2.get() == slot;
    // The slot's new connection can be registered (no leftover "exists") ...
    ASSERT_TRUE(p.add(s2, ev::all, 222));
    std::array<uint8_t, 3> msg{7, 8, 9};
    ASSERT_TRUE(c2.send(msg));
    run(3);
    // ... and its events carry the new registration's data, never the old one's.
    size_t n = p.wait(evs);
    ASSERT_GE(n, 1u);
    for (size_t k = 0; k < n; ++k) {
      EXPECT_EQ(evs[k].data, 222u);
      EXPECT_TRUE(std::get<TcpConnection>(evs[k].socket) == s2);
    }
    (void)c2.close();
    (void)s2.close();
    run(5);
  }
  EXPECT_TRUE(reused);
}

TEST_F(HandleTest, ThousandsOfOpenCloseCyclesWithAPollerLeaveNothingBehind) {
  auto l = nb_->listen(80);
  ASSERT_TRUE(l);
  Poller p;
  ASSERT_TRUE(p.add(*l, 1));
  unsigned free_after_warmup = 0;
  size_t regs_after_warmup = 0;
  std::array<PollEvent, 16> evs;
  for (int i = 0; i < 3000; ++i) {
    auto c = na_->connect(Endpoint{kIpB, 80});
    ASSERT_TRUE(c) << "cycle " << i << ": " << c.error().reason;
    ASSERT_TRUE(p.add(*c, ev::all, 2));
    run(2);
    for (size_t k = 0, n = p.wait(evs); k < n; ++k) {
      if (std::holds_alternative<TcpListener>(evs[k].socket)) {
        while (auto s = l->accept()) ASSERT_TRUE(p.add(*s, ev::all, 3));
      }
    }
    ASSERT_EQ(p.size(), 3u) << "cycle " << i;
    // The client resets (no TIME_WAIT to collect); the server closes on the error event.
    (void)c->abort();
    run(1);
    for (size_t k = 0, n = p.wait(evs); k < n; ++k) {
      if (auto* s = std::get_if<TcpConnection>(&evs[k].socket)) (void)s->close();
    }
    run(1);
    for (size_t k = 0, n = p.wait(evs); k < n; ++k) {
      if (auto* s = std::get_if<TcpConnection>(&evs[k].socket)) (void)s->close();
    }
    if (i == 10) {
      run(10);
      regs_after_warmup = p.allocated();
      free_after_warmup = rte_mempool_avail_count(test::pool());
    }
  }
  run(10);
  EXPECT_EQ(p.size(), 1u) << "only the listener is left";
  EXPECT_EQ(p.allocated(), regs_after_warmup) << "registrations are reused, not grown";
  EXPECT_EQ(a_.tcp().connections(), 0u);
  EXPECT_EQ(b_.tcp().connections(), 0u);
  EXPECT_EQ(rte_mempool_avail_count(test::pool()), free_after_warmup) << "mbufs held grow with churn";
}

// A connection's callback that closes its own connection keeps running with its captures alive
// (the engine used to destroy the running std::function at close(): a use after free under ASan).
TEST_F(HandleTest, ACallbackMayCloseItsOwnConnectionAndKeepUsingItsCaptures) {
  auto l = nb_->listen(80);
  ASSERT_TRUE(l);
  auto [c, s] = open(*l, 80);
  std::vector<int> big(64, 7);  // a capture too large for std::function's local buffer
  int seen = 0;
  s.get()->on_event([big, &seen](tcp::Connection& conn, uint32_t) {
    conn.close();
    seen = big[63];  // the closure's own state, after close()
  });
  std::array<uint8_t, 1> b{1};
  ASSERT_TRUE(c.send(b));
  run(3);
  EXPECT_EQ(seen, 7);
  EXPECT_FALSE(s.valid());
  (void)c.close();
  run(3);
}

TEST_F(HandleTest, OwnedClosesOnDestructionAndReleaseKeepsTheSocket) {
  auto l = nb_->listen(80);
  ASSERT_TRUE(l);
  TcpListener copy = *l;
  {
    Owned<TcpListener> owner(*l);
    EXPECT_TRUE(copy.valid());
  }
  EXPECT_FALSE(copy.valid());
  auto u = nb_->udp_bind(99);
  ASSERT_TRUE(u);
  UdpSocket kept;
  {
    Owned<UdpSocket> owner(*u);
    kept = owner.release();
  }
  EXPECT_TRUE(kept.valid());
  ASSERT_TRUE(kept.close());
}

}  // namespace
}  // namespace tern::apitest
