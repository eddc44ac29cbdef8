// TCP under memory pressure and hostile peers (docs/robustness.md). One tern
// Core (198.18.0.1, PairWire end a) owns a small mbuf pool of its own; the
// test plays many peers (198.18.0.2, one port each) on end b. Every frame the
// peers send is built in an mbuf taken from the Core's own pool, as a NIC
// fills its RX ring from it: when the pool runs dry the peers cannot send at
// all, which is exactly the deafness these tests look for. A fake clock
// drives every timer.
#include <gtest/gtest.h>
#include <rte_mempool.h>

#include <algorithm>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "tern/base/byteorder.hpp"
#include "tern/drivers/pair_wire.hpp"
#include "tern/stack/core.hpp"
#include "tern/tcp/tcp.hpp"
#include "tern/wire/ethernet.hpp"
#include "tern/wire/icmp.hpp"
#include "tern/wire/ipv4.hpp"
#include "tern/wire/tcp.hpp"
#include "test_support.hpp"

namespace tern::tcp {
namespace {

using Bytes = std::vector<uint8_t>;
using wire::Ipv4Addr;
using wire::MacAddr;
using wire::SeqNum;
namespace fl = wire::tcp_flag;

constexpr uint64_t kMs = 1'000'000;
constexpr uint32_t kPoolSize = 4095;
constexpr uint16_t kPort = 80;
const MacAddr kMacStack{{0x02, 0x00, 0x00, 0x00, 0x01, 0x0a}};
const MacAddr kMacPeer{{0x02, 0x00, 0x00, 0x00, 0x01, 0x0b}};
const Ipv4Addr kIpStack = Ipv4Addr::from_octets(198, 18, 0, 1);
const Ipv4Addr kIpPeer = Ipv4Addr::from_octets(198, 18, 0, 2);

PortCaps caps(const MacAddr& mac) {
  PortCaps c;
  c.mac = mac.b;
  c.mtu = 1500;
  return c;
}

/** One peer connection as the test sees it. */
struct Flow {
  uint16_t port = 0;
  SeqNum nxt;          // the peer's SND.NXT
  SeqNum rcv;          // the stack's next sequence number (the peer's RCV.NXT)
  SeqNum edge;         // the right edge of the stack's last advertised window
  uint8_t wscale = 0;  // the stack's window scale (from its SYN,ACK)
  SeqNum first;        // the peer's first data byte
  Connection* conn = nullptr;
};

/** What the stack sent back. */
struct Seen {
  uint32_t segments = 0, rsts = 0, echo_replies = 0;
};

class TcpPressureTest : public ::testing::Test {
 protected:
  TcpPressureTest() : wire_(caps(kMacStack), caps(kMacPeer), 1u << 16) {}

  void SetUp() override {
    static int n = 0;
    std::string name = "pressure_" + std::to_string(n++);
    pool_ =
        rte_pktmbuf_pool_create(name.c_str(), kPoolSize, 0, 0, 2048 + RTE_PKTMBUF_HEADROOM, SOCKET_ID_ANY);
    ASSERT_NE(pool_, nullptr);
    params_.max_connections = 256;
    params_.ooo_nodes = 65536;
    params_.ooo_per_connection = 4096;  // the node cap must not be what saves the core
    flows_.reserve(256);                // Flow& stays valid across open()
  }

  void start() {
    CoreParams p;
    p.pool = pool_;
    CoreInterface ci;
    ci.port = &wire_.a();
    ci.params.name = "if0";
    ci.params.address = wire::Ipv4Prefix{kIpStack, 24};
    p.interfaces.push_back(ci);
    p.tcp = params_;
    core_ = std::make_unique<Core>(p);
    core_->start(now_);
    poll();
    drain();
    idle_in_use_ = rte_mempool_in_use_count(pool_);
    auto l = tcp().listen(kPort);
    ASSERT_TRUE(l);
    lst_ = *l;
  }

  void TearDown() override {
    for (auto& f : flows_) {
      if (f.conn != nullptr) f.conn->abort();
    }
    if (lst_ != nullptr) lst_->close();
    if (core_) {
      core_->poll(now_);
      drain();
      EXPECT_EQ(tcp().connections(), 0u);
      EXPECT_EQ(tcp().memory_used(), 0u) << "TCP memory not returned";
      core_.reset();
    }
    drain();
    EXPECT_EQ(rte_mempool_in_use_count(pool_), 0u) << "mbufs leaked from the core's pool";
    rte_mempool_free(pool_);
  }

  Tcp& tcp() { return core_->tcp(); }
  const TcpStats& stats() { return tcp().stats(); }
  /** Loop turns until the stack has taken every frame the peers sent (a turn takes one burst). */
  void poll() {
    do {
      core_->interface(0).neighbours().learn(kIpPeer, kMacPeer, true, now_);
      core_->poll(now_);
    } while (wire_.in_flight(false) > 0);
  }

  /** Put a frame on the wire in an mbuf from the core's pool. False: the pool is dry (the core is deaf). */
  bool inject(const Bytes& frame) {
    rte_mbuf* m = rte_pktmbuf_alloc(pool_);
    if (m == nullptr) {
      ++rx_refill_failures_;
      return false;
    }
    char* d = rte_pktmbuf_append(m, static_cast<uint16_t>(frame.size()));
    std::copy(frame.begin(), frame.end(), d);
    EXPECT_EQ(wire_.b().tx_burst(0, &m, 1), 1u);
    return true;
  }

  Bytes ip_frame(uint8_t proto, const Bytes& l4) {
    wire::Ipv4Header ip;
    ip.total_length = static_cast<uint16_t>(wire::kIpv4MinHeaderLen + l4.size());
    ip.id = ++ip_id_;
    ip.df = true;
    ip.protocol = proto;
    ip.src = kIpPeer;
    ip.dst = kIpStack;
    wire::EthernetHeader eth;
    eth.dst = kMacStack;
    eth.src = kMacPeer;
    eth.ethertype = wire::ethertype::ipv4;
    Bytes f(wire::kEthernetHeaderLen + wire::kIpv4MinHeaderLen);
    eth.emit(f);
    ip.emit(std::span<uint8_t>(f).subspan(wire::kEthernetHeaderLen));
    f.insert(f.end(), l4.begin(), l4.end());
    if (f.size() < wire::kEthernetMinFrame) f.resize(wire::kEthernetMinFrame, 0);
    return f;
  }

  /** One TCP segment from the peer of @p f (no poll). */
  bool segment(const Flow& f, uint8_t flags, SeqNum seq, const Bytes& data,
               const wire::TcpOptions& opts = {}) {
    wire::TcpHeader th;
    th.src_port = f.port;
    th.dst_port = kPort;
    th.seq = seq;
    th.ack = f.rcv;
    th.flags = flags;
    th.window = 65535;
    th.options = opts;
    size_t hlen = th.length();
    Bytes t(hlen + data.size());
    th.emit(t);
    std::copy(data.begin(), data.end(), t.begin() + static_cast<ptrdiff_t>(hlen));
    store_be16(t.data() + 16, wire::tcp_checksum(kIpPeer, kIpStack, t));
    return inject(ip_frame(wire::ip_proto::tcp, t));
  }

  bool ping(uint16_t seq) {
    Bytes m(8 + 32, 0xab);
    wire::IcmpHeader h;
    h.type = wire::icmp_type::echo_request;
    h.rest = (0x7e57u << 16) | seq;
    h.emit(m);
    store_be16(m.data() + 2, wire::IcmpHeader::compute_checksum(m));
    return inject(ip_frame(wire::ip_proto::icmp, m));
  }

  /** Read (and free) everything the stack sent; track each flow's RCV.NXT and window. */
  Seen collect() {
    Seen seen;
    rte_mbuf* ms[64];
    uint16_t n;
    while ((n = wire_.b().rx_burst(0, ms, 64)) > 0) {
      for (uint16_t i = 0; i < n; ++i) {
        Packet p(ms[i]);
        Bytes b = test::bytes_of(p);
        auto eth = wire::EthernetView::parse(b);
        if (!eth || eth->ethertype() != wire::ethertype::ipv4) continue;
        auto ip = wire::Ipv4View::parse(eth->payload());
        if (!ip) continue;
        if (ip->protocol() == wire::ip_proto::icmp) {
          auto ic = wire::IcmpView::parse(ip->payload());
          if (ic && ic->type() == wire::icmp_type::echo_reply) ++seen.echo_replies;
          continue;
        }
        if (ip->protocol() != wire::ip_proto::tcp) continue;
        auto v = wire::TcpView::parse(ip->payload());
        if (!v) continue;
        ++seen.segments;
        if (v->flags() & fl::rst) ++seen.rsts;
        for (auto& f : flows_) {
          if (f.port != v->dst_port()) continue;
          if (v->flags() & fl::syn) {
            f.rcv = v->seq() + 1;
            f.wscale = v->options().wscale.value_or(0);
            f.edge = v->ack() + v->window();  // RFC 7323 §2.2: a SYN's window is not scaled
          } else if (v->flags() & fl::ack) {
            SeqNum e = v->ack() + (uint32_t{v->window()} << f.wscale);
            if (e > f.edge) f.edge = e;
          }
        }
      }
    }
    return seen;
  }
  void drain() {
    rte_mbuf* ms[64];
    uint16_t n;
    while ((n = wire_.b().rx_burst(0, ms, 64)) > 0) rte_pktmbuf_free_bulk(ms, n);
  }

  /** A peer opens a connection to the listener (window scale 7, SACK, MSS 1460); the app accepts it. */
  Flow& open() {
    Flow f;
    f.port = static_cast<uint16_t>(20000 + flows_.size());
    f.nxt = SeqNum{7'000'000u + 100'000u * static_cast<uint32_t>(flows_.size())};
    flows_.push_back(f);
    Flow& fr = flows_.back();
    wire::TcpOptions o;
    o.mss = 1460;
    o.wscale = 7;
    o.sack_permitted = true;
    EXPECT_TRUE(segment(fr, fl::syn, fr.nxt, {}, o));
    fr.nxt += 1;
    poll();
    collect();
    EXPECT_TRUE(segment(fr, fl::ack, fr.nxt, {}));
    poll();
    collect();
    fr.first = fr.nxt;
    fr.conn = lst_->accept();
    EXPECT_NE(fr.conn, nullptr);
    return fr;
  }

  /** The stack's RCV.NXT for @p f: an exact RST lands there (RFC 5961 §3.2). */
  SeqNum rcv_nxt(const Flow& f) { return f.first + static_cast<uint32_t>(f.conn->info().bytes_received); }

  /** Bytes held for @p f's connection must stay within its memory limits. */
  void expect_bounded(const Flow& f) {
    TcpInfo i = f.conn->info();
    EXPECT_LE(i.recv_mem + i.ooo_mem, i.recv_mem_limit);
    EXPECT_LE(tcp().memory_used(), tcp().memory_limit());
  }

  /**
   * A well-behaved peer sends @p want on @p good in order, at most @p burst full segments per turn
   * and never past the advertised window, resending from the stack's RCV.NXT what it refused (as a
   * retransmission would); the application reads everything. @p meanwhile(turn) runs each turn.
   * @return what the application read (shorter than @p want if @p turns ran out).
   */
  Bytes transfer(Flow& good, const Bytes& want, int turns, int burst,
                 const std::function<void(int)>& meanwhile) {
    Bytes got;
    const SeqNum base = good.nxt;
    for (int turn = 0; turn < turns && got.size() < want.size(); ++turn) {
      size_t off = good.conn->info().bytes_received;
      good.nxt = base + static_cast<uint32_t>(off);
      for (int n = 0; n < burst && off < want.size(); ++n) {
        size_t len = std::min<size_t>(1448, want.size() - off);
        if (good.nxt + static_cast<uint32_t>(len) > good.edge) break;
        EXPECT_TRUE(segment(good, fl::ack, good.nxt,
                            Bytes(want.begin() + static_cast<ptrdiff_t>(off),
                                  want.begin() + static_cast<ptrdiff_t>(off + len))));
        good.nxt += static_cast<uint32_t>(len);
        off += len;
      }
      meanwhile(turn);
      poll();
      collect();
      uint8_t buf[8192];
      for (;;) {
        auto r = good.conn->recv_copy(buf);
        if (!r || *r == 0) break;
        got.insert(got.end(), buf, buf + *r);
      }
      now_ += kMs;
      poll();
      collect();
    }
    return got;
  }
  uint32_t in_use() { return rte_mempool_in_use_count(pool_); }

  drivers::PairWire wire_;
  rte_mempool* pool_ = nullptr;
  TcpParams params_;
  std::unique_ptr<Core> core_;
  Listener* lst_ = nullptr;
  std::vector<Flow> flows_;
  uint64_t now_ = 1'000'000 * kMs;
  uint16_t ip_id_ = 0;
  uint32_t rx_refill_failures_ = 0;
  uint32_t idle_in_use_ = 0;
};

Bytes bytes(size_t n, uint8_t seed) {
  Bytes b(n);
  for (size_t i = 0; i < n; ++i) b[i] = static_cast<uint8_t>(seed + i * 13);
  return b;
}

// The attack of issue 9: 15,000 contiguous one-byte segments behind a one-byte hole.
// Before truesize accounting each took one mbuf and the pool ran dry: the core went deaf.
TEST_F(TcpPressureTest, OneByteSegmentsBehindAHoleCannotDeafenTheCore) {
  start();
  Flow& f = open();
  for (uint32_t i = 0; i < 15000; ++i) {
    ASSERT_TRUE(segment(f, fl::ack, f.nxt + 1 + i, bytes(1, static_cast<uint8_t>(i))))
        << "the core's pool ran dry after " << i << " one-byte segments (RX could not be refilled)";
    if (i % 32 == 31) {
      poll();
      collect();
      expect_bounded(f);
    }
  }
  poll();
  collect();
  expect_bounded(f);
  EXPECT_LT(in_use(), kPoolSize / 4) << "one connection pinned too many buffers";
  EXPECT_EQ(f.conn->info().ooo_queued, 15000u) << "contiguous tiny data is cheap to hold: none was dropped";
  // The core still hears: a ping is answered, the peer's RST frees the connection.
  ASSERT_TRUE(ping(1));
  poll();
  EXPECT_EQ(collect().echo_replies, 1u);
  ASSERT_TRUE(segment(f, fl::rst, rcv_nxt(f), {}));
  poll();
  EXPECT_EQ(f.conn->state(), State::closed);
  EXPECT_EQ(tcp().memory_used(), 0u);
  EXPECT_EQ(in_use(), idle_in_use_);
}

// Scattered tiny segments (one byte every other byte) cannot be joined: each costs a
// buffer, so the connection's truesize limit refuses them before the pool suffers.
TEST_F(TcpPressureTest, ScatteredTinySegmentsAreChargedByTruesize) {
  start();
  Flow& f = open();
  for (uint32_t i = 0; i < 3000; ++i) {
    ASSERT_TRUE(segment(f, fl::ack, f.nxt + 1 + 2 * i, bytes(1, 7)));
    if (i % 32 == 31) {
      poll();
      collect();
      expect_bounded(f);
    }
  }
  poll();
  collect();
  expect_bounded(f);
  EXPECT_GT(stats().dropped(TcpDrop::no_rcv_memory), 0u);
  EXPECT_LE(f.conn->info().ooo_mem, f.conn->info().recv_mem_limit);
  // The window the stack advertises follows the memory left: closed, never negative.
  EXPECT_EQ(rx_refill_failures_, 0u);
  // The hole fills: everything held is delivered in order after it.
  ASSERT_TRUE(segment(f, fl::ack, f.nxt, bytes(1, 7)));
  poll();
  collect();
  EXPECT_GE(f.conn->readable(), 2u);
}

// Small in-order segments the application does not read are compacted into full
// buffers (counted copies) before anything is refused.
TEST_F(TcpPressureTest, SmallInOrderSegmentsAreCompactedUnderPressure) {
  start();
  Flow& f = open();
  const uint32_t seg = 300;  // above SegQueue::kCoalesceMax: queued as one mbuf each
  // The peer sends only what the advertised window allows, as a real sender does.
  uint32_t k = 0;
  while (k < 1200) {
    if (f.nxt + seg > f.edge) {  // let the delayed ACK carry the window
      now_ += 50 * kMs;
      poll();
      collect();
      if (f.nxt + seg > f.edge) break;
    }
    ASSERT_TRUE(segment(f, fl::ack | fl::psh, f.nxt, bytes(seg, static_cast<uint8_t>(k))));
    f.nxt += seg;
    ++k;
    poll();
    collect();
    expect_bounded(f);
  }
  EXPECT_EQ(stats().dropped(TcpDrop::no_rcv_memory), 0u) << "a peer within the window lost data";
  EXPECT_GT(stats().compacted_bytes, 0u);
  TcpInfo i = f.conn->info();
  EXPECT_EQ(i.recv_queued, k * seg);
  EXPECT_GT(i.recv_queued, 200u * 1024) << "compaction keeps the whole buffer usable for small segments";
  // Every byte arrives intact and in order.
  Bytes got(i.recv_queued);
  ASSERT_TRUE(f.conn->recv_copy(got));
  uint32_t off = 0;
  for (uint32_t k = 0; off < got.size(); ++k, off += seg) {
    Bytes want = bytes(seg, static_cast<uint8_t>(k));
    ASSERT_TRUE(std::equal(want.begin(), want.end(), got.begin() + off)) << "segment " << k;
  }
}

// Many connections push out-of-order and tiny data at once until the core's TCP memory is
// full: the pool keeps its reserve, ping is answered, RSTs free connections, a new
// well-behaved connection completes and transfers, and memory returns to idle.
TEST_F(TcpPressureTest, ManyHostileConnectionsLeaveTheCoreResponsive) {
  params_.socket.recv_buffer = 1 << 20;  // each connection alone could take a third of the pool
  start();
  constexpr int kConns = 48;
  for (int c = 0; c < kConns; ++c) open();
  uint32_t min_free = kPoolSize;
  for (uint32_t round = 0; round < 400; ++round) {
    for (int c = 0; c < kConns; ++c) {
      Flow& f = flows_[static_cast<size_t>(c)];
      // Out of order, 1,200 bytes, behind a hole; every third flow also sends tiny in-order data.
      ASSERT_TRUE(segment(f, fl::ack, f.nxt + 1 + round * 1200, bytes(1200, static_cast<uint8_t>(round))))
          << "RX could not be refilled in round " << round;
      if (c % 3 == 0) {
        ASSERT_TRUE(segment(f, fl::ack, f.nxt, bytes(1, 1)));
        f.nxt += 1;
      }
    }
    poll();
    collect();
    min_free = std::min(min_free, kPoolSize - in_use());
    ASSERT_LE(tcp().memory_used(), tcp().memory_limit());
  }
  EXPECT_EQ(rx_refill_failures_, 0u);
  EXPECT_GE(min_free, kPoolSize / 8) << "socket queues took the buffers the RX path needs";
  EXPECT_GT(stats().ooo_pruned_segs + stats().dropped(TcpDrop::no_rcv_memory), 0u)
      << "the test never reached the core's memory limit";
  // Still answering: ping.
  ASSERT_TRUE(ping(2));
  poll();
  EXPECT_EQ(collect().echo_replies, 1u);
  // RSTs free connections.
  for (int c = 0; c < kConns / 2; ++c) {
    Flow& f = flows_[static_cast<size_t>(c)];
    ASSERT_TRUE(segment(f, fl::rst, rcv_nxt(f), {}));
  }
  poll();
  collect();
  for (int c = 0; c < kConns / 2; ++c) EXPECT_EQ(flows_[static_cast<size_t>(c)].conn->state(), State::closed);
  // A new, well-behaved connection opens and moves 256 KiB in order while the others keep pushing.
  Flow& good = open();
  ASSERT_EQ(good.conn->state(), State::established);
  Bytes want = bytes(256 * 1024, 99);
  // The hostile half keeps pushing out-of-order data meanwhile.
  Bytes got = transfer(good, want, 4000, 16, [&](int turn) {
    for (int c = kConns / 2; c < kConns; ++c) {
      Flow& f = flows_[static_cast<size_t>(c)];
      ASSERT_TRUE(segment(f, fl::ack, f.nxt + 1 + static_cast<uint32_t>(400 + turn) * 1200, bytes(1200, 3)));
    }
  });
  ASSERT_EQ(got.size(), want.size());
  EXPECT_TRUE(got == want);
  EXPECT_EQ(rx_refill_failures_, 0u);
  // Everyone resets: memory returns to its idle level.
  for (auto& f : flows_) {
    if (f.conn->state() != State::closed) {
      ASSERT_TRUE(segment(f, fl::rst, rcv_nxt(f), {}));
    }
  }
  poll();
  collect();
  EXPECT_EQ(tcp().memory_used(), 0u);
  for (auto& f : flows_) {
    f.conn->close();
    f.conn = nullptr;
  }
  poll();
  drain();
  EXPECT_EQ(in_use(), idle_in_use_);
}

// Connections that fill the core's TCP memory with data their application does not read
// (which cannot be dropped) and with out-of-order data (which can) must not leave a new
// connection at a zero window: out-of-order data counts as reclaimable, and the last
// sixteenth of the limit is kept for connections that hold little. Found by
// integration-tap_pressure: a kernel client stalled behind 32 hostile connections.
TEST_F(TcpPressureTest, ANewConnectionMovesDataWhileOthersHoldTheCoreFull) {
  params_.socket.recv_buffer = 1 << 20;
  start();
  constexpr int kConns = 24;
  for (int c = 0; c < kConns; ++c) open();
  for (uint32_t round = 0; round < 300; ++round) {
    for (int c = 0; c < kConns; ++c) {
      Flow& f = flows_[static_cast<size_t>(c)];
      if (c % 2 == 0) {  // in order, never read
        if (f.nxt + 1200 <= f.edge && segment(f, fl::ack, f.nxt, bytes(1200, 7))) f.nxt += 1200;
      } else {  // out of order behind a hole
        ASSERT_TRUE(segment(f, fl::ack, f.nxt + 1 + round * 1200, bytes(1200, 8)));
      }
    }
    poll();
    collect();
  }
  // (Connections holding much stop at the limit less its last sixteenth.)
  ASSERT_GE(tcp().memory_used() + 8ull * tcp().mbuf_cost(), tcp().memory_limit() - tcp().memory_limit() / 16)
      << "the hostile connections did not fill the core";
  Flow& good = open();
  ASSERT_EQ(good.conn->state(), State::established);
  EXPECT_GE(good.edge - good.nxt, 1448) << "a new connection is offered a window";
  Bytes want = bytes(64 * 1024, 42);
  Bytes got = transfer(good, want, 2000, 8, [](int) {});
  ASSERT_EQ(got.size(), want.size()) << "the new connection stalled";
  EXPECT_TRUE(got == want);
  // Its application can answer too: send() is not refused while only reclaimable data is held.
  auto sent = good.conn->send_copy(Bytes(4096, 1));
  ASSERT_TRUE(sent.ok());
  EXPECT_EQ(*sent, 4096u);
  EXPECT_EQ(rx_refill_failures_, 0u);
  for (auto& f : flows_) {
    f.conn->abort();
    f.conn = nullptr;
  }
  poll();
  drain();
  EXPECT_EQ(tcp().memory_used(), 0u);
  EXPECT_EQ(in_use(), idle_in_use_);
}

// Whatever else drains the pool (here: mbufs the test holds, as an application or another
// queue would), the core's pool check makes TCP give back out-of-order data once the free
// mbufs fall below the low-water mark, so the RX ring can still be refilled.
TEST_F(TcpPressureTest, PoolBelowTheLowWaterMarkMakesTcpGiveBackOutOfOrderData) {
  start();
  constexpr int kConns = 4;
  for (int c = 0; c < kConns; ++c) open();
  for (uint32_t i = 0; i < 60; ++i) {
    for (int c = 0; c < kConns; ++c) {
      Flow& f = flows_[static_cast<size_t>(c)];
      ASSERT_TRUE(segment(f, fl::ack, f.nxt + 1 + i * 2400, bytes(1200, 5)));  // gapped: a node each
    }
    poll();
    collect();
  }
  const uint64_t ooo_before = tcp().memory_ooo();
  ASSERT_GE(ooo_before, 200ull * tcp().mbuf_cost());
  const uint32_t low = core_->pool_low_water();
  std::vector<rte_mbuf*> held;
  while (rte_mempool_avail_count(pool_) >= low / 2) held.push_back(rte_pktmbuf_alloc(pool_));
  for (int i = 0; i < 64; ++i) core_->poll(now_);  // the pool is checked every 64 turns
  EXPECT_GE(core_->stats().pool_low, 1u);
  EXPECT_GT(core_->stats().pool_reclaimed, 0u);
  EXPECT_LT(tcp().memory_ooo(), ooo_before);
  EXPECT_GT(stats().ooo_pruned_others, 0u);
  EXPECT_GE(rte_mempool_avail_count(pool_), low) << "TCP gave back too little";
  for (rte_mbuf* m : held) rte_pktmbuf_free(m);
  // Above the mark again: nothing more is taken.
  const uint64_t low_checks = core_->stats().pool_low;
  for (int i = 0; i < 64; ++i) core_->poll(now_);
  EXPECT_EQ(core_->stats().pool_low, low_checks);
}

// send() is charged by truesize too: a stream of one-byte packets cannot pin
// 256 Ki mbufs in the send queue.
TEST_F(TcpPressureTest, TinySendsAreBoundedByTruesize) {
  start();
  Flow& f = open();
  uint32_t taken = 0;
  for (int i = 0; i < 20000; ++i) {
    Packet p = Packet::alloc(pool_);
    ASSERT_TRUE(p) << "the application drained the pool: send() did not push back";
    // Fill the mbuf's room so the send queue cannot coalesce it into the tail.
    uint8_t* d = p.append(1);
    *d = static_cast<uint8_t>(i);
    p.mbuf()->data_off = static_cast<uint16_t>(p.mbuf()->buf_len - 1);
    auto r = f.conn->send(p);
    if (!r) break;
    ++taken;
  }
  TcpInfo i = f.conn->info();
  EXPECT_LE(i.send_mem, i.send_mem_limit + 2304u);
  EXPECT_LT(taken, 1000u);
  EXPECT_LT(in_use(), kPoolSize / 2);
}

}  // namespace
}  // namespace tern::tcp
