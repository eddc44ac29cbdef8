// Two tern stacks joined by the pair driver, each side's transmit wrapped in
// the fault-injecting decorator: 64 MiB in each direction over one
// connection, byte-exact, under loss (0, 1, 5, 15 %), reordering,
// duplication and corruption (every corrupted datagram caught by a checksum
// or header check). Every case ends with both FINs read, no reset sent, the
// connection gone on both sides and every mbuf back in its pool.
// Time is a fake clock: a 15 % loss run takes seconds of CPU, not minutes.
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
namespace {

using test::caps;
using test::kIpA;
using test::kIpB;
using test::kMacA;
using test::kMacB;

using drivers::FaultOptions;
using drivers::FaultStats;
using wire::Ipv4Addr;
using wire::MacAddr;

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
  bool ok = false;       // every byte arrived in order both ways, and each side read the other's FIN
  uint64_t retrans = 0;  // segments retransmitted, both sides
  uint64_t rsts = 0;     // resets sent, both sides (a graceful close sends none)
  uint64_t caught = 0;   // datagrams dropped by IPv4 validation or the TCP checks of a corrupted header
  FaultStats fa, fb;
  uint64_t sim_ms = 0;
  uint64_t rto = 0, sack_rec = 0, fast = 0;
};

CaseResult run_case(const FaultOptions& fo, uint32_t total) {
  // One pair of pools for the whole binary (names must be unique). Never destroyed: a static's
  // destructor would run after the test main has shut the EAL down.
  static Pools& pools = *new Pools;
  CaseResult res;
  if (pools.a == nullptr || pools.b == nullptr) {
    ADD_FAILURE() << "cannot create the test's mbuf pools (EAL memory)";
    return res;
  }
  drivers::PairWire wire(caps(kMacA), caps(kMacB), 8192);
  FaultOptions oa = fo, ob = fo;
  ob.seed = fo.seed + 1000;
  drivers::FaultPort fa(drivers::ref(wire.a()), oa, pools.a);
  drivers::FaultPort fb(drivers::ref(wire.b()), ob, pools.b);
  auto params = [](Port& port, Ipv4Addr ip, rte_mempool* pool) {
    CoreParams p = test::core_params(port, ip, pool);
    p.tcp.max_connections = 16;
    p.tcp.ooo_nodes = 4096;
    p.tcp.socket.send_buffer = 512 * 1024;
    p.tcp.socket.recv_buffer = 512 * 1024;
    return p;
  };
  uint64_t now = 1'000'000'000;
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
    std::vector<uint8_t> chunk(64 * 1024);
    auto pump = [&](Side& s, uint8_t dir_out, uint8_t dir_in) {
      if (s.c == nullptr) return;
      // Send: fill chunks of the position-dependent stream while there is space.
      while (s.sent < total && s.c->send_space() > 0) {
        uint32_t n =
            std::min<uint32_t>({total - s.sent, static_cast<uint32_t>(chunk.size()), s.c->send_space()});
        for (uint32_t i = 0; i < n; ++i) chunk[i] = stream_byte(s.sent + i, dir_out);
        auto r = s.c->send_copy(std::span<const uint8_t>(chunk.data(), n));
        if (!r || *r == 0) break;
        s.sent += static_cast<uint32_t>(*r);
      }
      if (s.sent == total && !s.shut) {
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
      bool done = sa.got == total && sb.got == total && sa.c->at_eof() && sb.c != nullptr && sb.c->at_eof();
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
    res.fa = fa.fault_stats();
    res.fb = fb.fault_stats();
    res.sim_ms = (now - 1'000'000'000) / 1'000'000;
    (*l)->close();
  }
  // Everything back: the cores, ports and wire are gone.
  EXPECT_EQ(rte_mempool_in_use_count(pools.a), 0u);
  EXPECT_EQ(rte_mempool_in_use_count(pools.b), 0u);
  return res;
}

void report(const std::string& name, const CaseResult& r) {
  std::printf(
      "%s: simulated %.1f s, retransmitted %lu, faults injected a+b: dropped %lu duplicated %lu reordered "
      "%lu "
      "corrupted %lu; caught by validation %lu; rto %lu sack recoveries %lu fast retransmits %lu\n",
      name.c_str(), r.sim_ms / 1000.0, static_cast<unsigned long>(r.retrans),
      static_cast<unsigned long>(r.fa.dropped + r.fb.dropped),
      static_cast<unsigned long>(r.fa.duplicated + r.fb.duplicated),
      static_cast<unsigned long>(r.fa.reordered + r.fb.reordered),
      static_cast<unsigned long>(r.fa.corrupted + r.fb.corrupted), static_cast<unsigned long>(r.caught),
      static_cast<unsigned long>(r.rto), static_cast<unsigned long>(r.sack_rec),
      static_cast<unsigned long>(r.fast));
}

TEST(TcpFault, SixtyFourMiBEachWayWithoutFaults) {
  CaseResult r = run_case(FaultOptions{}, kTotal);
  report("clean", r);
  EXPECT_TRUE(r.ok);
  EXPECT_EQ(r.retrans, 0u);
  EXPECT_EQ(r.rsts, 0u);
  EXPECT_EQ(r.caught, 0u);
}

// One fault kind per case; the fault must really have been injected (both directions), and
// everything must still arrive byte-exact with a graceful close.
struct FaultCase {
  const char* name;
  double FaultOptions::*knob;
  double rate;
  uint64_t seed;
  uint64_t FaultStats::*injected;
};

class TcpFaultTest : public ::testing::TestWithParam<FaultCase> {};

TEST_P(TcpFaultTest, SixtyFourMiBEachWayByteExactAndClosedGracefully) {
  const FaultCase& fc = GetParam();
  FaultOptions fo;
  fo.*fc.knob = fc.rate;
  fo.seed = fc.seed;
  CaseResult r = run_case(fo, kTotal);
  report(fc.name, r);
  EXPECT_TRUE(r.ok);
  EXPECT_EQ(r.rsts, 0u);
  EXPECT_GT(r.fa.*fc.injected, 0u);
  EXPECT_GT(r.fb.*fc.injected, 0u);
  if (fc.knob == &FaultOptions::loss) {
    EXPECT_GT(r.retrans, 0u);
  }
  // Every corrupted datagram is caught (one flipped bit always changes an Internet checksum);
  // with no corruption nothing is dropped as malformed.
  EXPECT_EQ(r.caught, fc.knob == &FaultOptions::corrupt ? r.fa.corrupted + r.fb.corrupted : 0u);
}

INSTANTIATE_TEST_SUITE_P(
    Faults, TcpFaultTest,
    ::testing::Values(FaultCase{"loss1", &FaultOptions::loss, 0.01, 11, &FaultStats::dropped},
                      FaultCase{"loss5", &FaultOptions::loss, 0.05, 12, &FaultStats::dropped},
                      FaultCase{"loss15", &FaultOptions::loss, 0.15, 13, &FaultStats::dropped},
                      FaultCase{"reorder5", &FaultOptions::reorder, 0.05, 14, &FaultStats::reordered},
                      FaultCase{"duplicate5", &FaultOptions::duplicate, 0.05, 15, &FaultStats::duplicated},
                      FaultCase{"corrupt1", &FaultOptions::corrupt, 0.01, 16, &FaultStats::corrupted}),
    [](const ::testing::TestParamInfo<FaultCase>& i) { return std::string(i.param.name); });

}  // namespace
}  // namespace tern::tcp
