// The offload pipeline end to end over the pair driver (issue 11): software GSO and GRO with and
// without faults, the checksum modes, jumbo frames, and sends from application memory with their
// free callbacks and completion events. Byte-exact both ways, graceful close, every mbuf back.
#include "tcp_transfer.hpp"

namespace tern::tcp {
namespace {

constexpr uint32_t kBulk = 16u << 20;

// TCP output passes per MiB sent by side a (a super-segment is one pass).
double passes_per_mib(const CaseResult& r) { return r.ta.out_passes * double(1 << 20) / kBulk; }

TEST(TcpOffload, SoftwareGsoCutsSuperSegmentsAndTcpOutputRunsLessPerByte) {
  TransferOptions off;
  off.gso = false;
  off.gro = false;
  CaseResult plain = run_case(FaultOptions{}, kBulk, off);
  ASSERT_TRUE(plain.ok);
  TransferOptions on;
  on.gro = false;
  CaseResult gso = run_case(FaultOptions{}, kBulk, on);
  ASSERT_TRUE(gso.ok);
  EXPECT_EQ(plain.la.gso_frames, 0u);
  EXPECT_GT(gso.la.gso_frames, 0u);
  EXPECT_GT(gso.la.gso_segments, 2 * gso.la.gso_frames) << "super-segments hold several segments";
  EXPECT_EQ(gso.la.gso_failed, 0u);
  EXPECT_GT(gso.ta.gso_segs, 0u);
  std::printf("TCP output passes per MiB: %.0f without GSO, %.0f with\n", passes_per_mib(plain),
              passes_per_mib(gso));
  EXPECT_LT(passes_per_mib(gso) * 4, passes_per_mib(plain)) << "at least 4x fewer output passes";
  EXPECT_EQ(gso.retrans, 0u);
}

TEST(TcpOffload, GroMergesSegmentsTcpInputRunsLessAndTheSenderNeverStalls) {
  CaseResult r = run_case(FaultOptions{}, kBulk);
  ASSERT_TRUE(r.ok);
  // Side b receives side a's stream: how often did its TCP input run, for how many segments?
  const uint64_t passes = r.tb.in_segs - r.tb.lro_segs + r.tb.lro_chains;
  std::printf("side b: %lu segments arrived, TCP input ran %lu times (%lu merged chains, GRO %lu/%lu)\n",
              static_cast<unsigned long>(r.tb.in_segs), static_cast<unsigned long>(passes),
              static_cast<unsigned long>(r.tb.lro_chains), static_cast<unsigned long>(r.cb.gro.chains),
              static_cast<unsigned long>(r.cb.gro.merged));
  EXPECT_GT(r.cb.gro.chains, 0u);
  EXPECT_GT(r.tb.lro_chains, 0u);
  EXPECT_LT(passes * 2, r.tb.in_segs) << "TCP input ran for fewer than half the segments";
  EXPECT_EQ(r.retrans, 0u) << "no stall: the ACKs kept the window moving without a timeout";
  EXPECT_EQ(r.rto, 0u);
}

struct OffloadFault {
  const char* name;
  double FaultOptions::*knob;
  double rate;
};
class TcpOffloadFault : public ::testing::TestWithParam<OffloadFault> {};

TEST_P(TcpOffloadFault, GsoAndGroStayByteExactUnderFaults) {
  FaultOptions fo;
  fo.*GetParam().knob = GetParam().rate;
  fo.seed = 77;
  CaseResult r = run_case(fo, kBulk);
  EXPECT_TRUE(r.ok);
  EXPECT_GT(r.la.gso_frames + r.lb.gso_frames, 0u);
  EXPECT_EQ(r.rsts, 0u);
}

INSTANTIATE_TEST_SUITE_P(Faults, TcpOffloadFault,
                         ::testing::Values(OffloadFault{"loss2", &FaultOptions::loss, 0.02},
                                           OffloadFault{"reorder5", &FaultOptions::reorder, 0.05},
                                           OffloadFault{"duplicate5", &FaultOptions::duplicate, 0.05},
                                           OffloadFault{"corrupt1", &FaultOptions::corrupt, 0.01}),
                         [](const ::testing::TestParamInfo<OffloadFault>& i) {
                           return std::string(i.param.name);
                         });

TEST(TcpOffload, TrustedChecksumsAreNeitherComputedNorVerified) {
  TransferOptions t;
  t.checksum = ChecksumMode::trusted;
  CaseResult r = run_case(FaultOptions{}, kBulk, t);
  ASSERT_TRUE(r.ok);
  EXPECT_EQ(r.csum.sw_computed, 0u);
  EXPECT_EQ(r.csum.sw_verified, 0u);
  EXPECT_GT(r.csum.trusted_tx, 0u);
  EXPECT_GT(r.csum.trusted_rx, 0u);
  TransferOptions sw;
  sw.checksum = ChecksumMode::software;
  CaseResult s = run_case(FaultOptions{}, kBulk, sw);
  ASSERT_TRUE(s.ok);
  EXPECT_GT(s.csum.sw_computed, 0u);
  EXPECT_GT(s.csum.sw_verified, 0u);
  EXPECT_EQ(s.csum.trusted_tx + s.csum.trusted_rx, 0u);
}

TEST(TcpOffload, JumboFramesCarryNineThousandByteSegments) {
  TransferOptions j;
  j.mtu = 9000;
  CaseResult r = run_case(FaultOptions{}, kBulk, j);
  ASSERT_TRUE(r.ok);
  // 9000 - 20 - 20 - 12 (timestamps) = 8948 payload bytes per segment: about kBulk / 8948 segments.
  EXPECT_GT(r.la.gso_frames, 0u);
  EXPECT_GE(r.ta.out_segs * 8948u, uint64_t{kBulk});
  EXPECT_LT(r.ta.out_segs, kBulk / 8948 + kBulk / 8948 / 20 + 100);
}

TEST(TcpOffload, ExternalBuffersAreFreedOnceAfterTheirAckEvenUnderLoss) {
  for (double loss : {0.0, 0.02}) {
    FaultOptions fo;
    fo.loss = loss;
    fo.seed = 5;
    TransferOptions e;
    e.external = true;
    e.send_buffer = 1 << 20;
    CaseResult r = run_case(fo, kBulk, e);
    ASSERT_TRUE(r.ok) << "loss " << loss;
    EXPECT_EQ(r.ext.buffers, kBulk / (256 * 1024));
    EXPECT_EQ(r.ext.freed, r.ext.buffers) << "every buffer's callback ran";
    EXPECT_EQ(r.ext.freed_twice, 0u);
    EXPECT_EQ(r.ext.freed_early, 0u) << "never before the peer acknowledged it";
    EXPECT_EQ(r.ext.reported, uint64_t{kBulk}) << "the completion events add up to the stream";
    EXPECT_GT(r.ext.reports, 1u);
    EXPECT_TRUE(r.ext.reports_positive);
    if (loss > 0) {
      EXPECT_GT(r.retrans, 0u) << "retransmissions referenced the buffers too";
    }
  }
}

}  // namespace
}  // namespace tern::tcp

namespace tern::tcp {
namespace {

void count_free(void*, size_t, void* opaque) { ++*static_cast<int*>(opaque); }

// send() bounds its overshoot and ev::writable waits for the low-water mark.
TEST(TcpOffload, OneSendOvershootsByLessThanASegmentAndWritableWaitsForTheLowWaterMark) {
  static rte_mempool* pool =
      rte_pktmbuf_pool_create("tcp_lowat", 8191, 256, 0, RTE_MBUF_DEFAULT_BUF_SIZE, SOCKET_ID_ANY);
  ASSERT_NE(pool, nullptr);
  std::vector<uint8_t> app(1 << 20);
  for (size_t i = 0; i < app.size(); ++i) app[i] = stream_byte(static_cast<uint32_t>(i), 3);
  int freed = 0;
  {
    drivers::PairWire wire(caps(kMacA), caps(kMacB), 4096);
    Core a(test::core_params(wire.a(), kIpA, pool));
    Core b(test::core_params(wire.b(), kIpB, pool));
    uint64_t now = 1'000'000'000;
    a.start(now);
    b.start(now);
    a.interface(0).neighbours().learn(kIpB, kMacB, true, now);
    b.interface(0).neighbours().learn(kIpA, kMacA, true, now);
    auto l = b.tcp().listen(5002);
    ASSERT_TRUE(l);
    ConnectOptions co;
    SocketOptions so = a.tcp().params().socket;
    so.send_buffer = 64 * 1024;
    so.send_lowat = 48 * 1024;
    co.socket = so;
    auto c = a.tcp().connect(Endpoint{kIpB, 5002}, co);
    ASSERT_TRUE(c);
    Connection* rx = nullptr;
    auto step = [&] {
      a.poll(now += 50'000);
      b.poll(now += 50'000);
      if (rx == nullptr) rx = (*l)->accept();
    };
    for (int i = 0; i < 10 && (*c)->state() != State::established; ++i) step();
    ASSERT_EQ((*c)->state(), State::established);
    Packet p = Packet::attach_external(pool, app.data(), app.size(), count_free, &freed);
    ASSERT_TRUE(p);
    auto r = (*c)->send(p);
    ASSERT_TRUE(r);
    EXPECT_GT(*r, 0u);
    EXPECT_LT(*r, 64u * 1024 + Packet::kExternalPiece) << "the overshoot is less than one segment";
    EXPECT_EQ(p.length(), app.size() - *r) << "the caller keeps the rest";
    std::vector<uint32_t> spaces;
    (*c)->on_event([&](Connection& conn, uint32_t e) {
      if (e & ev::writable) spaces.push_back(conn.send_space());
    });
    std::vector<uint8_t> got;
    for (int i = 0; i < 20000 && got.size() < app.size(); ++i) {
      step();
      if (p && !spaces.empty()) (void)(*c)->send(p);
      Packet in;
      while (rx != nullptr && rx->recv(in)) {
        in.for_each_segment([&](std::span<const uint8_t> s) { got.insert(got.end(), s.begin(), s.end()); });
        in.reset();
      }
    }
    EXPECT_FALSE(p) << "everything was sent";
    EXPECT_EQ(got.size(), app.size());
    EXPECT_TRUE(got == app);
    ASSERT_FALSE(spaces.empty());
    for (uint32_t s : spaces) EXPECT_GE(s, 48u * 1024) << "ev::writable before the low-water mark";
    (*c)->close();
    if (rx != nullptr) rx->close();
    for (int i = 0; i < 200; ++i) step();
    (*l)->close();
  }
  EXPECT_EQ(freed, 1) << "the external buffer's callback ran exactly once";
  EXPECT_EQ(rte_mempool_in_use_count(pool), 0u);
}

}  // namespace
}  // namespace tern::tcp

#include "tern/udp/udp.hpp"

namespace tern::tcp {
namespace {

// A trusted link carries no transport checksums, also for a datagram that had to be fragmented:
// the receiver takes the reassembled datagram without verifying it.
TEST(TcpOffload, TrustedModeCarriesFragmentedUdpDatagrams) {
  static rte_mempool* pool =
      rte_pktmbuf_pool_create("udp_trusted", 4095, 256, 0, RTE_MBUF_DEFAULT_BUF_SIZE, SOCKET_ID_ANY);
  ASSERT_NE(pool, nullptr);
  {
    drivers::PairWire wire(caps(kMacA), caps(kMacB), 1024);
    CoreParams pa = test::core_params(wire.a(), kIpA, pool);
    CoreParams pb = test::core_params(wire.b(), kIpB, pool);
    pa.interfaces[0].params.checksum = ChecksumMode::trusted;
    pb.interfaces[0].params.checksum = ChecksumMode::trusted;
    Core a(pa);
    Core b(pb);
    uint64_t now = 1'000'000'000;
    a.start(now);
    b.start(now);
    a.interface(0).neighbours().learn(kIpB, kMacB, true, now);
    b.interface(0).neighbours().learn(kIpA, kMacA, true, now);
    auto sa = a.udp().bind(4000);
    auto sb = b.udp().bind(4001);
    ASSERT_TRUE(sa && sb);
    std::vector<uint8_t> big(5000);
    for (size_t i = 0; i < big.size(); ++i) big[i] = static_cast<uint8_t>(i * 13);
    ASSERT_TRUE((*sa)->send_copy(udp::Endpoint{kIpB, 4001}, big));
    udp::Datagram d;
    bool got = false;
    for (int i = 0; i < 10 && !got; ++i) {
      a.poll(now += 10'000);
      b.poll(now += 10'000);
      got = (*sb)->recv(d);
    }
    ASSERT_TRUE(got) << "the reassembled datagram was delivered";
    ASSERT_EQ(d.payload.length(), big.size());
    std::vector<uint8_t> back(big.size());
    d.payload.copy_out(0, back);
    EXPECT_EQ(back, big);
    EXPECT_GT(a.ipv4().stats().fragments_created, 1u);
    const ChecksumStats cs = b.checksum_stats();
    EXPECT_EQ(cs.sw_verified, 0u);
    d.payload.reset();
    a.udp().close(*sa);
    b.udp().close(*sb);
  }
  EXPECT_EQ(rte_mempool_in_use_count(pool), 0u);
}

}  // namespace
}  // namespace tern::tcp
