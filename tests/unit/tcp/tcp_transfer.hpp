/**
 * @file
 * The transfer harness of the pair-driver TCP tests (tcp_fault_test.cpp,
 * tcp_offload_test.cpp): two Cores over a PairWire, each side's transmit
 * wrapped in a FaultPort, one connection moving a position-dependent stream
 * each way, byte-checked, closed gracefully, every mbuf back in its pool.
 * TransferOptions choose the offloads (GSO, GRO, checksum mode, MTU) and
 * whether side a sends from external (application) buffers.
 */
#pragma once

#include <gtest/gtest.h>
#include <rte_mbuf.h>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "core_pair.hpp"
#include "tern/drivers/fault_port.hpp"
#include "tern/drivers/pair_wire.hpp"
#include "tern/drivers/port_ref.hpp"
#include "tern/stack/core.hpp"
#include "tern/tcp/tcp.hpp"
#include "test_support.hpp"

namespace tern::tcp {

using test::caps;
using test::kIpA;
using test::kIpB;
using test::kMacA;
using test::kMacB;

using drivers::FaultOptions;
using drivers::FaultStats;
using wire::Ipv4Addr;
using wire::MacAddr;

/** What the offload tests vary. */
struct TransferOptions {
  bool gso = true;
  bool gro = true;
  ChecksumMode checksum = ChecksumMode::automatic;
  uint16_t mtu = 1500;
  bool external = false;  ///< side a sends from application memory (Packet::attach_external) with on_sent
  uint32_t send_buffer = 512 * 1024;
};

/** External-buffer bookkeeping of side a. */
struct ExternalResult {
  uint32_t buffers = 0;      ///< buffers sent
  uint32_t freed = 0;        ///< free callbacks
  uint32_t freed_twice = 0;  ///< callbacks for a buffer already freed
  uint32_t freed_early = 0;  ///< callbacks before the peer acknowledged the buffer's last byte
  uint64_t reported = 0;     ///< sum of the completion events' byte counts
  uint32_t reports = 0;      ///< completion events
  bool reports_positive = true;
};

constexpr uint64_t kUs = 1'000;
constexpr uint32_t kTotal = 64u << 20;

// The byte at stream offset i of direction d: position-dependent, so loss, reordering or duplication
// that slipped through would show.
inline uint8_t stream_byte(uint32_t i, uint8_t d) {
  return static_cast<uint8_t>((i * 2654435761u) >> 24) ^ static_cast<uint8_t>(i >> 16) ^ d;
}

struct Pools {
  rte_mempool* a = nullptr;
  rte_mempool* b = nullptr;
  Pools() {
    a = rte_pktmbuf_pool_create("tcp_fault_a", 16383, 256, 0, RTE_MBUF_DEFAULT_BUF_SIZE, SOCKET_ID_ANY);
    b = rte_pktmbuf_pool_create("tcp_fault_b", 16383, 256, 0, RTE_MBUF_DEFAULT_BUF_SIZE, SOCKET_ID_ANY);
  }
};

struct Side {
  Connection* c = nullptr;
  uint32_t sent = 0, got = 0;
  bool bad = false;
  bool shut = false;
};

struct CaseResult {
  TcpStats ta, tb;  // both sides' TCP counters
  CoreStats ca, cb;
  l2::L2Stats la, lb;
  ChecksumStats csum;  // both cores (one thread)
  ExternalResult ext;
  bool ok = false;       // every byte arrived in order both ways, and each side read the other's FIN
  uint64_t retrans = 0;  // segments retransmitted, both sides
  uint64_t rsts = 0;     // resets sent, both sides (a graceful close sends none)
  uint64_t caught = 0;   // datagrams dropped by IPv4 validation or the TCP checks of a corrupted header
  FaultStats fa, fb;
  uint64_t sim_ms = 0;
  uint64_t rto = 0, sack_rec = 0, fast = 0;
};

// One external buffer of side a.
struct ExtBuf {
  uint64_t end = 0;  // stream offset after its last byte
  uint32_t freed = 0;
  Connection** conn = nullptr;
  ExternalResult* res = nullptr;
};

inline void ext_freed(void*, size_t, void* opaque) {
  auto* b = static_cast<ExtBuf*>(opaque);
  if (b->freed++ > 0) ++b->res->freed_twice;
  ++b->res->freed;
  if (*b->conn != nullptr && (*b->conn)->info().bytes_acked < b->end) ++b->res->freed_early;
}

inline CaseResult run_case(const FaultOptions& fo, uint32_t total, const TransferOptions& to = {}) {
  // One pair of pools for the whole binary (names must be unique). Never destroyed: a static's
  // destructor would run after the test main has shut the EAL down.
  static Pools& pools = *new Pools;
  CaseResult res;
  if (pools.a == nullptr || pools.b == nullptr) {
    ADD_FAILURE() << "cannot create the test's mbuf pools (EAL memory)";
    return res;
  }
  drivers::PairWire wire(caps(kMacA, to.mtu), caps(kMacB, to.mtu), 8192);
  FaultOptions oa = fo, ob = fo;
  ob.seed = fo.seed + 1000;
  drivers::FaultPort fa(drivers::ref(wire.a()), oa, pools.a);
  drivers::FaultPort fb(drivers::ref(wire.b()), ob, pools.b);
  auto params = [&to](Port& port, Ipv4Addr ip, rte_mempool* pool) {
    CoreParams p = test::core_params(port, ip, pool);
    p.interfaces[0].params.gso = to.gso;
    p.interfaces[0].params.gro = to.gro;
    p.interfaces[0].params.checksum = to.checksum;
    p.tcp.max_connections = 16;
    p.tcp.ooo_nodes = 4096;
    p.tcp.socket.send_buffer = to.send_buffer;
    p.tcp.socket.recv_buffer = 512 * 1024;
    return p;
  };
  uint64_t now = 1'000'000'000;
  // Side a's stream as application memory, when it sends from external buffers.
  std::vector<uint8_t> app;
  if (to.external) {
    app.resize(total);
    for (uint32_t i = 0; i < total; ++i) app[i] = stream_byte(i, 1);
  }
  constexpr uint32_t kExtChunk = 256 * 1024;
  std::vector<std::unique_ptr<ExtBuf>> bufs;
  Connection* ext_conn = nullptr;
  {
    Core a(params(fa, kIpA, pools.a));
    Core b(params(fb, kIpB, pools.b));
    a.start(now);
    b.start(now);
    a.interface(0).neighbours().learn(kIpB, kMacB, true, now);
    b.interface(0).neighbours().learn(kIpA, kMacA, true, now);
    auto l = b.tcp().listen(5001);
    auto c = a.tcp().connect(Endpoint{kIpB, 5001});
    if (!l || !c) {
      ADD_FAILURE() << "listen or connect failed";
      return res;
    }
    Side sa, sb;
    sa.c = *c;
    ext_conn = sa.c;
    Packet pending;
    if (to.external) {
      sa.c->on_sent([&res](Connection&, uint64_t n) {
        if (n == 0) res.ext.reports_positive = false;
        res.ext.reported += n;
        ++res.ext.reports;
      });
    }
    std::vector<uint8_t> chunk(64 * 1024);
    auto pump_external = [&](Side& s) {
      for (;;) {
        if (!pending && s.sent < total) {
          const uint32_t n = std::min<uint32_t>(kExtChunk, total - s.sent);
          auto b = std::make_unique<ExtBuf>();
          b->end = uint64_t{s.sent} + n;
          b->conn = &ext_conn;
          b->res = &res.ext;
          pending = Packet::attach_external(pools.a, app.data() + s.sent, n, ext_freed, b.get());
          if (!pending) return;  // the pool is short now: next turn
          ++res.ext.buffers;
          bufs.push_back(std::move(b));
          s.sent += n;
        }
        if (!pending) return;
        auto r = s.c->send(pending);
        if (!r || pending) return;  // the rest after ev::writable
      }
    };
    auto pump = [&](Side& s, uint8_t dir_out, uint8_t dir_in) {
      if (s.c == nullptr) return;
      if (to.external && dir_out == 1) {
        pump_external(s);
        if (s.sent == total && !pending && !s.shut) s.shut = s.c->shutdown().ok();
      }
      // Send: fill chunks of the position-dependent stream while there is space.
      const bool copying = !(to.external && dir_out == 1);
      while (copying && s.sent < total && s.c->send_space() > 0) {
        uint32_t n =
            std::min<uint32_t>({total - s.sent, static_cast<uint32_t>(chunk.size()), s.c->send_space()});
        for (uint32_t i = 0; i < n; ++i) chunk[i] = stream_byte(s.sent + i, dir_out);
        auto r = s.c->send_copy(std::span<const uint8_t>(chunk.data(), n));
        if (!r || *r == 0) break;
        s.sent += static_cast<uint32_t>(*r);
      }
      if (copying && s.sent == total && !s.shut) {
        s.shut = s.c->shutdown().ok();
      }
      // Receive zero copy and check every byte.
      Packet p;
      while (s.c->recv(p)) {
        p.for_each_segment([&](std::span<const uint8_t> seg) {
          for (uint8_t v : seg) {
            if (v != stream_byte(s.got, dir_in)) s.bad = true;
            ++s.got;
          }
        });
      }
    };
    uint64_t limit = now + 3600ull * 1'000'000'000;  // simulated hour: a hang fails, it does not spin forever
    while (now < limit) {
      now += 50 * kUs;
      a.poll(now);
      b.poll(now);
      if (sb.c == nullptr) sb.c = (*l)->accept();
      pump(sa, 1, 2);
      pump(sb, 2, 1);
      bool done = sa.got == total && sb.got == total && sa.c->at_eof() && sb.c != nullptr && sb.c->at_eof() &&
                  (!to.external || res.ext.reported == total);
      if (done || sa.bad || sb.bad) break;
      if (sa.c->error() || (sb.c != nullptr && sb.c->error())) break;
    }
    res.ok = !sa.bad && !sb.bad && sa.got == total && sb.got == total && sa.shut && sb.shut &&
             sa.c->at_eof() && sb.c != nullptr && sb.c->at_eof();
    if (!res.ok) {
      ADD_FAILURE() << "a got " << sa.got << " b got " << sb.got << " bad " << sa.bad << sb.bad << " a state "
                    << to_string(sa.c->state()) << " b state " << (sb.c ? to_string(sb.c->state()) : "none");
    }
    // Both wrote FIN and read the peer's: close, then let FIN/ACKs settle (TIME_WAIT is fine).
    sa.c->close();
    if (sb.c != nullptr) sb.c->close();
    for (int i = 0; i < 200000 && (a.tcp().connections() != 0 || b.tcp().connections() != 0); ++i) {
      now += 1000 * kUs;
      a.poll(now);
      b.poll(now);
    }
    EXPECT_EQ(a.tcp().connections(), 0u);
    EXPECT_EQ(b.tcp().connections(), 0u);
    for (Core* k : {&a, &b}) {
      const TcpStats& ts = k->tcp().stats();
      res.retrans += ts.retrans_segs;
      res.rsts += ts.out_rsts;
      for (uint64_t d : k->ipv4().stats().drops) res.caught += d;  // a flipped IPv4 header bit
      res.caught += ts.dropped(TcpDrop::bad_checksum) + ts.dropped(TcpDrop::bad_header) +
                    ts.dropped(TcpDrop::truncated);
    }
    res.rto = a.tcp().stats().rto_timeouts + b.tcp().stats().rto_timeouts;
    res.sack_rec = a.tcp().stats().sack_recoveries + b.tcp().stats().sack_recoveries;
    res.fast = a.tcp().stats().fast_retransmits + b.tcp().stats().fast_retransmits;
    res.ta = a.tcp().stats();
    res.tb = b.tcp().stats();
    a.snapshot_buf_stats();
    res.ca = a.stats();
    res.cb = b.stats();
    res.la = a.interface(0).stats();
    res.lb = b.interface(0).stats();
    res.csum = a.checksum_stats();
    res.csum += b.checksum_stats();
    res.fa = fa.fault_stats();
    res.fb = fb.fault_stats();
    res.sim_ms = (now - 1'000'000'000) / 1'000'000;
    (*l)->close();
    ext_conn = nullptr;
  }
  // Everything back: the cores, ports and wire are gone.
  EXPECT_EQ(rte_mempool_in_use_count(pools.a), 0u);
  EXPECT_EQ(rte_mempool_in_use_count(pools.b), 0u);
  return res;
}

}  // namespace tern::tcp
