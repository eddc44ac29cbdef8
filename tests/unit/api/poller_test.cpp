// The Poller: a TCP echo written as one event loop, UDP readiness, epoll's edge- and
// level-triggered semantics, registration errors, and a cost per event that does not depend on how
// many sockets are registered (counted work, not time).
#include "tern/api/poller.hpp"

#include <gtest/gtest.h>

#include <array>
#include <vector>

#include "api_fixture.hpp"

namespace tern::apitest {
namespace {

using PollerTest = ApiTest;

TEST_F(PollerTest, TcpEchoAsOneEventLoop) {
  Poller server;
  auto l = nb_->listen(7);
  ASSERT_TRUE(l);
  ASSERT_TRUE(server.add(*l, 1));
  EXPECT_EQ(server.add(*l, 1).error().code, Errc::exists);

  Poller client;
  auto c = na_->connect(Endpoint{kIpB, 7});
  ASSERT_TRUE(c);
  ASSERT_TRUE(client.add(*c, ev::all, 42));
  std::array<PollEvent, 8> evs;
  std::vector<uint8_t> msg(3000, 0x5a), got;
  bool sent = false, peer_closed = false, connected = false;
  for (int turn = 0; turn < 50 && !peer_closed; ++turn) {
    run(1);
    for (size_t i = 0, n = server.wait(evs); i < n; ++i) {
      if (std::holds_alternative<TcpListener>(evs[i].socket)) {
        while (auto s = l->accept()) ASSERT_TRUE(server.add(*s, ev::readable | ev::peer_closed, 7));
        continue;
      }
      auto s = std::get<TcpConnection>(evs[i].socket);
      EXPECT_EQ(evs[i].data, 7u);
      uint8_t buf[1024];
      bool eof = false;
      for (;;) {
        auto r = read_some(s, buf, &eof);
        ASSERT_TRUE(r);
        if (*r == 0) break;
        ASSERT_EQ(*write_some(s, std::span<const uint8_t>(buf, *r)), *r);
      }
      if (eof) {
        ASSERT_TRUE(s.close());  // no remove() needed
      }
    }
    for (size_t i = 0, n = client.wait(evs); i < n; ++i) {
      EXPECT_EQ(evs[i].data, 42u);
      if (evs[i].events & ev::connected) connected = true;
      if ((evs[i].events & ev::writable) && !sent) {
        ASSERT_EQ(*write_some(*c, msg), msg.size());
        ASSERT_TRUE(c->shutdown());
        sent = true;
      }
      if (evs[i].events & ev::readable) {  // edge-triggered: drain
        uint8_t buf[1024];
        bool eof = false;
        for (;;) {
          auto r = read_some(*c, buf, &eof);
          ASSERT_TRUE(r);
          got.insert(got.end(), buf, buf + *r);
          if (*r == 0 || eof) break;
        }
        if (eof) peer_closed = true;
      }
    }
  }
  EXPECT_TRUE(connected);
  EXPECT_EQ(got, msg);
  EXPECT_TRUE(peer_closed);
  EXPECT_EQ(server.size(), 1u);  // the listener; the connection left by itself at close()
}

// Send one datagram from a to b:port.
void send_dgram(Net& net, uint16_t port, uint8_t v) {
  auto s = net.udp_bind(0);
  ASSERT_TRUE(s);
  std::array<uint8_t, 1> d{v};
  ASSERT_TRUE(s->send(d, Endpoint{kIpB, port}));
  ASSERT_TRUE(s->close());
}

TEST_F(PollerTest, EdgeTriggeredReportsEachArrivalOnce) {
  auto u = nb_->udp_bind(5000);
  ASSERT_TRUE(u);
  Poller p;
  ASSERT_TRUE(p.add(*u, 9, Trigger::edge));
  std::array<PollEvent, 4> evs;
  EXPECT_EQ(p.wait(evs), 0u);
  send_dgram(*na_, 5000, 1);
  run();
  ASSERT_EQ(p.wait(evs), 1u);
  EXPECT_EQ(evs[0].events, ev::readable);
  EXPECT_EQ(evs[0].data, 9u);
  EXPECT_EQ(p.wait(evs), 0u) << "edge: not again while nothing new arrives (data still queued)";
  send_dgram(*na_, 5000, 2);
  run();
  EXPECT_EQ(p.wait(evs), 1u) << "edge: a new arrival is a new event";
  EXPECT_EQ(u->queued(), 2u);
}

TEST_F(PollerTest, LevelTriggeredReportsUntilDrained) {
  auto u = nb_->udp_bind(5001);
  ASSERT_TRUE(u);
  Poller p;
  ASSERT_TRUE(p.add(*u, 9, Trigger::level));
  send_dgram(*na_, 5001, 1);
  send_dgram(*na_, 5001, 2);
  run();
  std::array<PollEvent, 4> evs;
  for (int i = 0; i < 3; ++i) ASSERT_EQ(p.wait(evs), 1u) << "level: reported at every wait while queued";
  std::array<uint8_t, 4> buf;
  ASSERT_TRUE(u->recv(buf));
  EXPECT_EQ(p.wait(evs), 1u) << "one datagram left";
  ASSERT_TRUE(u->recv(buf));
  EXPECT_EQ(p.wait(evs), 0u) << "drained: no more";
  EXPECT_EQ(p.wait(evs), 0u);
  send_dgram(*na_, 5001, 3);
  run();
  EXPECT_EQ(p.wait(evs), 1u);
}

TEST_F(PollerTest, AddReportsWhatIsAlreadyTrueAndWritableFollowsTheMode) {
  auto l = nb_->listen(7);
  ASSERT_TRUE(l);
  auto c = na_->connect(Endpoint{kIpB, 7});
  ASSERT_TRUE(c);
  run(3);
  Poller p;
  // Already established and with send space: writable at add(), like epoll_ctl(ADD).
  ASSERT_TRUE(p.add(*c, ev::writable, 1, Trigger::edge));
  std::array<PollEvent, 4> evs;
  ASSERT_EQ(p.wait(evs), 1u);
  EXPECT_EQ(evs[0].events, ev::writable);
  EXPECT_EQ(p.wait(evs), 0u) << "edge: once";
  ASSERT_TRUE(p.modify(*c, ev::writable, 1, Trigger::level));
  for (int i = 0; i < 3; ++i) EXPECT_EQ(p.wait(evs), 1u) << "level: writable while there is space";
  // A listener with a connection waiting reports accept at add().
  Poller q;
  ASSERT_TRUE(q.add(*l, 5));
  ASSERT_EQ(q.wait(evs), 1u);
  EXPECT_EQ(evs[0].events, ev::accept);
}

TEST_F(PollerTest, RegistrationErrors) {
  auto u = nb_->udp_bind(5002);
  ASSERT_TRUE(u);
  Poller p, q;
  EXPECT_EQ(p.modify(*u, ev::readable, 0).error().code, Errc::not_found);
  EXPECT_EQ(p.remove(*u).error().code, Errc::not_found);
  ASSERT_TRUE(p.add(*u, 1));
  EXPECT_EQ(q.add(*u, 1).error().code, Errc::exists) << "one watcher per socket";
  EXPECT_EQ(q.remove(*u).error().code, Errc::not_found) << "not q's";
  ASSERT_TRUE(p.remove(*u));
  ASSERT_TRUE(q.add(*u, 1));
  UdpSocket stale = *u;
  ASSERT_TRUE(u->close());
  EXPECT_EQ(q.size(), 0u);
  EXPECT_EQ(p.add(stale, 1).error().code, Errc::bad_handle);
  EXPECT_EQ(p.modify(stale, ev::readable, 1).error().code, Errc::bad_handle);
}

TEST_F(PollerTest, AnErrorIsReportedWhateverTheInterest) {
  auto c = na_->connect(Endpoint{kIpB, 4444});  // nobody listens: RST
  ASSERT_TRUE(c);
  Poller p;
  ASSERT_TRUE(p.add(*c, ev::readable, 3));
  run(3);
  std::array<PollEvent, 4> evs;
  ASSERT_EQ(p.wait(evs), 1u);
  EXPECT_TRUE(evs[0].events & ev::error);
  EXPECT_EQ(c->error()->code, Errc::connection_refused);
}

// Work per wait() with one ready socket among @p n registered: what the poller touched.
uint64_t work_for_one_event(ApiTest& t, Net& nb, Net& na, size_t n, Trigger mode) {
  Poller p;
  std::vector<UdpSocket> socks;
  for (size_t i = 0; i < n; ++i) {
    auto s = nb.udp_bind(static_cast<uint16_t>(10000 + i));
    EXPECT_TRUE(s);
    socks.push_back(*s);
    EXPECT_TRUE(p.add(*s, i, mode));
  }
  send_dgram(na, 10000, 1);
  t.run(3);
  std::array<PollEvent, 8> evs;
  const PollerStats before = p.stats();
  uint64_t events = 0;
  for (int k = 0; k < 4; ++k) events += p.wait(evs);
  std::array<uint8_t, 4> buf;
  EXPECT_TRUE(socks[0].recv(buf));
  events += p.wait(evs);
  const PollerStats after = p.stats();
  for (auto& s : socks) (void)s.close();
  EXPECT_GE(events, 1u);
  return (after.raised - before.raised) + (after.rechecked - before.rechecked) +
         (after.reported - before.reported);
}

TEST_F(PollerTest, CostPerEventDoesNotDependOnTheNumberOfRegistrations) {
  for (Trigger mode : {Trigger::edge, Trigger::level}) {
    const uint64_t small = work_for_one_event(*this, *nb_, *na_, 4, mode);
    const uint64_t large = work_for_one_event(*this, *nb_, *na_, 4000, mode);
    EXPECT_EQ(small, large) << (mode == Trigger::edge ? "edge" : "level");
    EXPECT_GT(small, 0u);
    EXPECT_LT(small, 12u);
  }
}

}  // namespace
}  // namespace tern::apitest
