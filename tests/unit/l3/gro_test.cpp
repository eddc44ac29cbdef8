// Software GRO (l3/gro.cpp) on hand-built frames: what merges, what does not, and the bytes.
#include "tern/l3/gro.hpp"

#include <gtest/gtest.h>

#include <vector>

#include "l3_test_util.hpp"
#include "tern/wire/tcp.hpp"

namespace tern::l3 {
namespace {

using test::Bytes;
using wire::Ipv4Addr;
using wire::MacAddr;

const MacAddr kUs{{0x02, 0, 0, 0, 0, 1}};
const MacAddr kPeer{{0x02, 0, 0, 0, 0, 2}};
const Ipv4Addr kSrc = Ipv4Addr::from_octets(198, 18, 0, 2);
const Ipv4Addr kDst = Ipv4Addr::from_octets(198, 18, 0, 1);

struct Seg {
  uint32_t seq = 1000;
  uint32_t ack = 5000;
  uint8_t flags = wire::tcp_flag::ack;
  uint16_t sport = 40000;
  uint16_t window = 512;
  uint32_t tsval = 77;
  Bytes payload;
  bool bad_csum = false;
  uint8_t tos = 0;
};

Bytes frame(const Seg& s) {
  wire::TcpHeader th;
  th.src_port = s.sport;
  th.dst_port = 80;
  th.seq = wire::SeqNum{s.seq};
  th.ack = wire::SeqNum{s.ack};
  th.flags = s.flags;
  th.window = s.window;
  th.options.timestamps = wire::TcpTimestamps{s.tsval, 9};
  Bytes t(th.length() + s.payload.size());
  th.emit(t);
  std::copy(s.payload.begin(), s.payload.end(), t.begin() + static_cast<ptrdiff_t>(th.length()));
  store_be16(t.data() + 16, static_cast<uint16_t>(wire::tcp_checksum(kSrc, kDst, t) ^ (s.bad_csum ? 1 : 0)));
  test::IpSpec ip;
  ip.src = kSrc;
  ip.dst = kDst;
  ip.proto = 6;
  ip.df = true;
  ip.tos = s.tos;
  return test::eth_frame(kUs, kPeer, 0x0800, test::ipv4_bytes(ip, t));
}

rte_mbuf* mbuf_of(const Bytes& b) {
  Packet p = Packet::copy_from(tern::test::pool(), b);
  EXPECT_TRUE(p);
  return p.release();
}

Bytes bytes_of(const rte_mbuf* m) {
  Bytes out;
  for (; m != nullptr; m = m->next) {
    const uint8_t* d = rte_pktmbuf_mtod(m, const uint8_t*);
    out.insert(out.end(), d, d + m->data_len);
  }
  return out;
}

struct Burst {
  std::vector<rte_mbuf*> m;
  GroStats st;
  ChecksumStats cs;
  explicit Burst(const std::vector<Seg>& segs) {
    for (const Seg& s : segs) m.push_back(mbuf_of(frame(s)));
  }
  uint16_t run(ChecksumMode mode = ChecksumMode::automatic) {
    uint16_t n = gro_burst(m.data(), static_cast<uint16_t>(m.size()), mode, st, cs);
    m.resize(n);
    return n;
  }
  ~Burst() {
    for (rte_mbuf* x : m) rte_pktmbuf_free(x);
  }
};

std::vector<Seg> run_of(int n, uint32_t len, uint32_t seq = 1000) {
  std::vector<Seg> v;
  for (int i = 0; i < n; ++i) {
    Seg s;
    s.seq = seq + static_cast<uint32_t>(i) * len;
    s.payload = test::pattern(len, static_cast<uint8_t>(i));
    v.push_back(s);
  }
  return v;
}

TEST(Gro, InOrderSegmentsOfOneFlowBecomeOneChainWithTheBytesInOrder) {
  auto segs = run_of(4, 1000);
  segs.back().flags |= wire::tcp_flag::psh;
  Burst b(segs);
  ASSERT_EQ(b.run(), 1);
  rte_mbuf* m = b.m[0];
  EXPECT_EQ(b.st.chains, 1u);
  EXPECT_EQ(b.st.merged, 4u);
  EXPECT_EQ(m->pkt_len, 14u + 20 + 32 + 4000);
  EXPECT_EQ(m->nb_segs, 4);
  EXPECT_TRUE(m->ol_flags & RTE_MBUF_F_RX_LRO);
  EXPECT_EQ(m->tso_segsz, 1000u);
  EXPECT_EQ(m->ol_flags & RTE_MBUF_F_RX_L4_CKSUM_MASK, RTE_MBUF_F_RX_L4_CKSUM_GOOD);
  Bytes got = bytes_of(m);
  const uint8_t* ip = got.data() + 14;
  EXPECT_EQ(load_be16(ip + 2), 20 + 32 + 4000);
  EXPECT_TRUE(checksum_valid20(ip));
  EXPECT_TRUE(ip[20 + 13] & wire::tcp_flag::psh) << "the chain carries the last segment's PSH";
  Bytes payload(got.begin() + 66, got.end());
  Bytes want;
  for (auto& s : segs) want.insert(want.end(), s.payload.begin(), s.payload.end());
  EXPECT_EQ(payload, want);
}

TEST(Gro, AGapADifferentAckOrWindowOrOptionsEndsTheChain) {
  auto segs = run_of(6, 500);
  segs[2].seq += 1;     // a gap: starts a new chain
  segs[3].seq += 1;     // continues it
  segs[4].ack += 1448;  // a new ACK: new chain
  segs[5].tsval = 78;   // other option bytes: new chain
  segs[4].seq += 1;
  segs[5].seq += 1;
  Burst b(segs);
  ASSERT_EQ(b.run(), 4);
  EXPECT_EQ(b.m[0]->pkt_len, 66u + 1000);
  EXPECT_EQ(b.m[1]->pkt_len, 66u + 1000);
  EXPECT_EQ(b.m[2]->pkt_len, 66u + 500);
  EXPECT_EQ(b.m[3]->pkt_len, 66u + 500);
  EXPECT_EQ(b.st.chains, 2u);
}

// RFC 3168: a CE mark must reach TCP (it answers with ECE). Frames whose TOS byte differs (ECT(0)
// and CE, or another DSCP) are never merged into one chain, which keeps only the head's header.
TEST(Gro, FramesWithADifferentTosAreNotMergedSoACeMarkSurvives) {
  auto segs = run_of(4, 500);
  for (auto& s : segs) s.tos = 0x02;  // ECT(0)
  segs[2].tos = 0x03;                 // CE
  Burst b(segs);
  ASSERT_EQ(b.run(), 3);
  EXPECT_EQ(b.m[0]->pkt_len, 66u + 1000);
  EXPECT_EQ(bytes_of(b.m[1])[15], 0x03) << "the CE-marked frame keeps its own IPv4 header";
  EXPECT_EQ(b.m[1]->pkt_len, 66u + 500);
  EXPECT_EQ(b.m[2]->pkt_len, 66u + 500);
}

TEST(Gro, ControlFlagsPureAcksAndOtherFlowsAreLeftAloneInOrder) {
  auto segs = run_of(2, 500);
  Seg fin;
  fin.seq = 2000;
  fin.flags |= wire::tcp_flag::fin;
  fin.payload = test::pattern(500);
  Seg other = segs[1];
  other.sport = 40001;
  Seg pure;
  pure.seq = 2500;
  segs.push_back(fin);    // FIN with data: never merged
  segs.push_back(other);  // another flow
  segs.push_back(pure);   // no payload
  Burst b(segs);
  ASSERT_EQ(b.run(), 4);
  EXPECT_EQ(b.m[0]->nb_segs, 2);  // the two in-order segments
  EXPECT_EQ(b.m[1]->pkt_len, 66u + 500);
  EXPECT_EQ(b.m[2]->pkt_len, 66u + 500);
  EXPECT_EQ(b.m[3]->pkt_len, 66u);
}

TEST(Gro, ASegmentWithABadChecksumIsNotMergedAndKeepsItsBytes) {
  auto segs = run_of(3, 500);
  segs[1].bad_csum = true;
  Burst b(segs);
  ASSERT_EQ(b.run(), 3);  // 0 cannot join (1 is bad), 2 has a gap behind 0
  EXPECT_EQ(b.st.chains, 0u);
  EXPECT_EQ(b.m[1]->pkt_len, 66u + 500);
  EXPECT_EQ(b.m[1]->ol_flags & RTE_MBUF_F_RX_LRO, 0u);
}

TEST(Gro, TrustedModeMergesWithoutVerifyingAndSoftwareModeIgnoresTheNic) {
  {
    auto segs = run_of(2, 500);
    segs[1].bad_csum = true;
    Burst b(segs);
    EXPECT_EQ(b.run(ChecksumMode::trusted), 1);
  }
  {
    auto segs = run_of(2, 500);
    segs[1].bad_csum = true;
    Burst b(segs);
    for (rte_mbuf* m : b.m) m->ol_flags |= RTE_MBUF_F_RX_L4_CKSUM_GOOD | RTE_MBUF_F_RX_IP_CKSUM_GOOD;
    EXPECT_EQ(b.run(ChecksumMode::software), 2) << "software mode verifies what the NIC called good";
    EXPECT_EQ(b.run(ChecksumMode::automatic), 1) << "automatic mode takes the NIC's verdict";
  }
}

TEST(Gro, ChainsAreBoundedInSegmentsAndBytes) {
  Burst b(run_of(64, 1400));
  ASSERT_EQ(b.run(), 2);  // 65535 bytes of datagram hold 46 segments of 1400
  EXPECT_LE(b.m[0]->pkt_len - 14, 65535u);
  EXPECT_EQ(b.m[0]->nb_segs + b.m[1]->nb_segs, 64);
  Burst c(run_of(64, 100));
  ASSERT_EQ(c.run(), 1);
  EXPECT_EQ(c.m[0]->nb_segs, 64);
}

TEST(Gro, ASharedFrameIsNeverRewritten) {
  Burst b(run_of(2, 500));
  rte_mbuf_refcnt_update(b.m[0], 1);  // someone else holds the head
  EXPECT_EQ(b.run(), 2);
  rte_pktmbuf_free(b.m[0]);
}

}  // namespace
}  // namespace tern::l3

namespace tern::l3 {
namespace {

// Hostile input: bursts of segments of two flows with random bytes flipped in their headers and
// random truncations. GRO must never crash, lose or duplicate an mbuf, or build a chain whose
// lengths disagree; every merged chain must be what its segments were, in order.
TEST(Gro, MangledBurstsKeepEveryMbufAndConsistentChains) {
  uint64_t rng = 0x9e3779b97f4a7c15ull;
  auto next = [&rng] {
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return rng;
  };
  uint64_t merged = 0;
  for (int round = 0; round < 3000; ++round) {
    std::vector<Seg> segs = run_of(8, 100 + static_cast<uint32_t>(next() % 1300));
    for (size_t i = 0; i < segs.size(); ++i) {
      if (next() % 3 == 0) segs[i].sport = 40001;
    }
    std::vector<rte_mbuf*> in;
    for (const Seg& s : segs) {
      Bytes f = frame(s);
      const int what = static_cast<int>(next() % 6);
      if (what == 0)
        f[14 + (next() % 40)] ^= static_cast<uint8_t>(1u << (next() % 8));      // IPv4/TCP header bit
      if (what == 1) f.resize(next() % f.size());                               // truncated
      if (what == 2) store_be16(f.data() + 16, static_cast<uint16_t>(next()));  // IPv4 length
      if (what == 3) f[14 + 20 + 12] = static_cast<uint8_t>(next());            // TCP data offset
      if (f.empty()) f.push_back(0);
      in.push_back(mbuf_of(f));
    }
    std::vector<rte_mbuf*> m = in;
    ChecksumStats cs;
    GroStats st;
    uint16_t n = gro_burst(m.data(), static_cast<uint16_t>(m.size()), ChecksumMode::automatic, st, cs);
    ASSERT_LE(n, in.size());
    size_t mbufs = 0;
    for (uint16_t k = 0; k < n; ++k) {
      uint32_t sum = 0;
      uint16_t segs_seen = 0;
      for (rte_mbuf* s = m[k]; s != nullptr; s = s->next) {
        sum += s->data_len;
        ++segs_seen;
      }
      ASSERT_EQ(sum, m[k]->pkt_len);
      ASSERT_EQ(segs_seen, m[k]->nb_segs);
      mbufs += segs_seen;
      if (m[k]->ol_flags & RTE_MBUF_F_RX_LRO) {
        const uint8_t* ip = rte_pktmbuf_mtod(m[k], const uint8_t*) + 14;
        ASSERT_EQ(load_be16(ip + 2) + 14u, m[k]->pkt_len) << "a merged chain's IPv4 length is its length";
        ASSERT_TRUE(checksum_valid20(ip));
      }
      rte_pktmbuf_free(m[k]);
    }
    ASSERT_EQ(mbufs, in.size()) << "every mbuf came back exactly once";
    merged += st.merged;
  }
  EXPECT_GT(merged, 0u) << "some bursts still merged";
  EXPECT_EQ(rte_mempool_in_use_count(tern::test::pool()), 0u);
}

}  // namespace
}  // namespace tern::l3
