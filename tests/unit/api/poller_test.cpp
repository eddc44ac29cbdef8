// The epoll-like Poller over two Cores joined by a PairWire: a TCP echo
// written as one event loop (accept, readable, writable, peer closed), UDP
// readiness, registration errors.
#include "tern/api/poller.hpp"

#include <gtest/gtest.h>

#include <array>
#include <vector>

#include "core_pair.hpp"
#include "tern/drivers/pair_wire.hpp"
#include "tern/stack/core.hpp"
#include "test_support.hpp"

namespace tern::api {
namespace {

using test::caps;
using test::kIpA;
using test::kIpB;
using test::kMacA;
using test::kMacB;

using wire::Ipv4Addr;
using wire::MacAddr;

CoreParams params(Port& port, Ipv4Addr ip) {
  CoreParams p = test::core_params(port, ip);
  p.tcp.max_connections = 32;
  p.tcp.ooo_nodes = 256;
  return p;
}

class PollerTest : public ::testing::Test {
 protected:
  PollerTest() : wire_(caps(kMacA), caps(kMacB)), a_(params(wire_.a(), kIpA)), b_(params(wire_.b(), kIpB)) {
    a_.start(now_);
    b_.start(now_);
    a_.interface(0).neighbours().learn(kIpB, kMacB, true, now_);
    b_.interface(0).neighbours().learn(kIpA, kMacA, true, now_);
  }
  void run(int turns = 3) {
    for (int i = 0; i < turns; ++i) {
      now_ += 1'000'000;
      a_.poll(now_);
      b_.poll(now_);
    }
  }
  drivers::PairWire wire_;
  Core a_, b_;
  uint64_t now_ = 1'000'000'000;
};

TEST_F(PollerTest, TcpEchoAsOneEventLoop) {
  Poller server;
  auto l = b_.tcp().listen(7);
  ASSERT_TRUE(l);
  ASSERT_TRUE(server.add(*l, 1));
  EXPECT_EQ(server.add(*l, 1).error().code, Errc::exists);

  Poller client;
  auto c = a_.tcp().connect(tcp::Endpoint{kIpB, 7});
  ASSERT_TRUE(c);
  ASSERT_TRUE(client.add(*c, ev::all, 42));
  std::array<Event, 8> evs;
  std::vector<uint8_t> msg(3000, 0x5a), got;
  bool sent = false, peer_closed = false;
  for (int turn = 0; turn < 50 && !peer_closed; ++turn) {
    run(1);
    // Server loop: accept, echo, close on EOF.
    for (size_t i = 0, n = server.wait(evs); i < n; ++i) {
      if (evs[i].kind == Kind::tcp_listener) {
        while (tcp::Connection* s = evs[i].listener()->accept()) ASSERT_TRUE(server.add(s, ev::all, 7));
        continue;
      }
      tcp::Connection* s = evs[i].connection();
      EXPECT_EQ(evs[i].cookie, 7u);
      uint8_t buf[1024];
      bool eof = false;
      for (;;) {
        auto r = read_some(*s, buf, &eof);
        ASSERT_TRUE(r);
        if (*r == 0) break;
        auto w = write_some(*s, std::span<const uint8_t>(buf, *r));
        ASSERT_TRUE(w);
        ASSERT_EQ(*w, *r);
      }
      if (eof) {
        ASSERT_TRUE(server.remove(s));
        s->close();
      }
    }
    // Client loop: send once connected, read the echo, then close.
    for (size_t i = 0, n = client.wait(evs); i < n; ++i) {
      EXPECT_EQ(evs[i].cookie, 42u);
      tcp::Connection* k = evs[i].connection();
      if ((evs[i].events & ev::connected) && !sent) {
        ASSERT_TRUE(write_some(*k, msg));
        sent = true;
      }
      if (evs[i].events & ev::readable) {
        uint8_t buf[4096];
        auto r = read_some(*k, buf);
        ASSERT_TRUE(r);
        got.insert(got.end(), buf, buf + *r);
        if (got.size() == msg.size()) {
          ASSERT_TRUE(k->shutdown());
        }
      }
      if (evs[i].events & ev::peer_closed) peer_closed = true;
    }
  }
  EXPECT_EQ(got, msg);
  EXPECT_TRUE(peer_closed);
  ASSERT_TRUE(client.remove(*c));
  EXPECT_EQ(client.remove(*c).error().code, Errc::not_found);
  (*c)->close();
  run(5);
  EXPECT_EQ(b_.tcp().connections(), 0u);
  ASSERT_TRUE(server.remove(*l));  // unregister before closing (the Poller must not outlive its sockets)
  (*l)->close();
}

TEST_F(PollerTest, UdpReadableEvents) {
  Poller p;
  auto s = b_.udp().bind(5000);
  ASSERT_TRUE(s);
  ASSERT_TRUE(p.add(*s, 9));
  auto tx = a_.udp().bind(0);
  ASSERT_TRUE(tx);
  uint8_t data[10] = {1, 2, 3};
  ASSERT_TRUE((*tx)->send_copy(udp::Endpoint{kIpB, 5000}, data));
  run(2);
  std::array<Event, 4> evs;
  ASSERT_EQ(p.wait(evs), 1u);
  EXPECT_EQ(evs[0].kind, Kind::udp_socket);
  EXPECT_EQ(evs[0].cookie, 9u);
  EXPECT_TRUE(evs[0].events & ev::readable);
  udp::Datagram d;
  EXPECT_TRUE(evs[0].udp()->recv(d));
  EXPECT_EQ(p.wait(evs), 0u);  // edge-triggered: reported once
  ASSERT_TRUE(p.remove(*s));
  b_.udp().close(*s);
  a_.udp().close(*tx);
}

}  // namespace
}  // namespace tern::api
