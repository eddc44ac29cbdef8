#include "tern/buf/packet.hpp"

#include <gtest/gtest.h>

#include <numeric>
#include <vector>

#include "test_support.hpp"

namespace tern {
namespace {

using test::bytes_of;
using test::make_packet;

std::vector<uint8_t> seq_bytes(size_t n, uint8_t start = 0) {
  std::vector<uint8_t> v(n);
  std::iota(v.begin(), v.end(), start);
  return v;
}

TEST(Packet, MultiSegmentChainHoldsAllBytes) {
  auto b = seq_bytes(1000);
  Packet p = make_packet(b, 100);
  EXPECT_EQ(p.length(), 1000u);
  EXPECT_EQ(p.segments(), 10);
  EXPECT_EQ(bytes_of(p), b);
}

TEST(Packet, PrependUsesHeadroomWithoutCopy) {
  auto b = seq_bytes(10);
  Packet p = make_packet(b);
  uint64_t copies = buf_stats().copies;
  uint8_t* h = p.prepend(14);
  ASSERT_NE(h, nullptr);
  EXPECT_EQ(p.length(), 24u);
  EXPECT_EQ(p.data(), h);
  EXPECT_EQ(buf_stats().copies, copies);
  EXPECT_EQ(p.prepend(UINT16_MAX), nullptr);  // no room: refused, unchanged
  EXPECT_EQ(p.length(), 24u);
}

TEST(Packet, TrimFrontAcrossSegmentsFreesEmptiedOnes) {
  auto b = seq_bytes(250);
  Packet p = make_packet(b, 100);
  ASSERT_EQ(p.segments(), 3);
  unsigned in_use = test::mbufs_in_use();
  ASSERT_TRUE(p.trim_front(130));
  EXPECT_EQ(p.segments(), 2);
  EXPECT_EQ(test::mbufs_in_use(), in_use - 1);
  EXPECT_EQ(p.length(), 120u);
  EXPECT_EQ(bytes_of(p), std::vector<uint8_t>(b.begin() + 130, b.end()));
  EXPECT_FALSE(p.trim_front(121));
}

TEST(Packet, TrimFrontKeepsMetadataOnNewHead) {
  auto b = seq_bytes(250);
  Packet p = make_packet(b, 100);
  p.set_rss_hash(0xabcd);
  p.mbuf()->port = 3;
  ASSERT_TRUE(p.trim_front(200));
  EXPECT_TRUE(p.has_rss_hash());
  EXPECT_EQ(p.rss_hash(), 0xabcdu);
  EXPECT_EQ(p.port(), 3);
}

TEST(Packet, TrimBackAcrossSegments) {
  auto b = seq_bytes(250);
  Packet p = make_packet(b, 100);
  ASSERT_TRUE(p.trim_back(160));
  EXPECT_EQ(p.segments(), 1);
  EXPECT_EQ(p.length(), 90u);
  EXPECT_EQ(bytes_of(p), std::vector<uint8_t>(b.begin(), b.begin() + 90));
  p.truncate(10);
  EXPECT_EQ(p.length(), 10u);
  EXPECT_FALSE(p.trim_back(11));
}

TEST(Packet, AppendChainsNewSegmentWhenTailroomIsShort) {
  Packet p = Packet::alloc(test::small_pool());
  ASSERT_TRUE(p);
  uint16_t room = rte_pktmbuf_tailroom(p.mbuf());
  ASSERT_NE(p.append(room), nullptr);
  EXPECT_EQ(p.append(10), nullptr);  // no pool given
  uint8_t* t = p.append(10, test::small_pool());
  ASSERT_NE(t, nullptr);
  EXPECT_EQ(p.segments(), 2);
  EXPECT_EQ(p.length(), room + 10u);
}

TEST(Packet, ReadIsZeroCopyWhenContiguousAndCopiesAcrossSegments) {
  auto b = seq_bytes(300);
  Packet p = make_packet(b, 100);
  uint8_t scratch[64];
  uint64_t copies = buf_stats().copies;
  const uint8_t* r = p.read(10, 20, scratch);
  EXPECT_NE(r, scratch);
  EXPECT_EQ(r[0], 10);
  EXPECT_EQ(buf_stats().copies, copies);
  r = p.read(90, 20, scratch);  // spans segments 0 and 1
  EXPECT_EQ(r, scratch);
  EXPECT_EQ(std::vector<uint8_t>(r, r + 20), std::vector<uint8_t>(b.begin() + 90, b.begin() + 110));
  EXPECT_EQ(buf_stats().copies, copies + 1);
  EXPECT_EQ(p.read(290, 20, scratch), nullptr);
}

TEST(Packet, CopyInAcrossSegments) {
  auto b = seq_bytes(300);
  Packet p = make_packet(b, 100);
  std::vector<uint8_t> patch(30, 0xee);
  ASSERT_TRUE(p.copy_in(85, patch));
  std::copy(patch.begin(), patch.end(), b.begin() + 85);
  EXPECT_EQ(bytes_of(p), b);
  EXPECT_FALSE(p.copy_in(290, patch));
}

TEST(Packet, PullUpMakesHeaderContiguous) {
  auto b = seq_bytes(300);
  Packet p = make_packet(b, 10);  // 30 tiny segments in 256-byte mbufs
  ASSERT_GE(p.segments(), 30);
  uint8_t* h = p.pull_up(54);
  ASSERT_NE(h, nullptr);
  EXPECT_GE(p.head_length(), 54);
  EXPECT_EQ(bytes_of(p), b);
  EXPECT_EQ(p.pull_up(301), nullptr);
}

TEST(Packet, LinearizeFlattensAndCounts) {
  auto b = seq_bytes(1500);
  Packet p = make_packet(b, 500);
  uint64_t lin = buf_stats().linearizations;
  ASSERT_TRUE(p.linearize());
  EXPECT_EQ(p.segments(), 1);
  EXPECT_EQ(bytes_of(p), b);
  EXPECT_EQ(buf_stats().linearizations, lin + 1);
}

TEST(Packet, ShareReferencesSameBytesAndOutlivesOriginal) {
  auto b = seq_bytes(300);
  Packet p = make_packet(b, 100);
  Packet s = p.share(test::pool());
  ASSERT_TRUE(s);
  EXPECT_EQ(bytes_of(s), b);
  EXPECT_EQ(rte_mbuf_refcnt_read(p.mbuf()), 2);
  p.reset();
  EXPECT_EQ(bytes_of(s), b);
}

TEST(Packet, ChainConcatenates) {
  auto a = seq_bytes(50);
  auto c = seq_bytes(70, 100);
  Packet p = make_packet(a);
  ASSERT_TRUE(p.chain(make_packet(c, 30)));
  EXPECT_EQ(p.length(), 120u);
  std::vector<uint8_t> all = a;
  all.insert(all.end(), c.begin(), c.end());
  EXPECT_EQ(bytes_of(p), all);
}

TEST(Packet, CopyFromSpansSegmentsAndCountsCopy) {
  auto b = seq_bytes(5000);
  uint64_t bytes = buf_stats().copied_bytes;
  Packet p = Packet::copy_from(test::pool(), b);
  ASSERT_TRUE(p);
  EXPECT_GE(p.segments(), 3);
  EXPECT_GE(buf_stats().copied_bytes, bytes + 5000);
  EXPECT_EQ(bytes_of(p), b);
}

TEST(Packet, MoveTransfersOwnership) {
  Packet p = Packet::alloc(test::pool());
  rte_mbuf* m = p.mbuf();
  Packet q = std::move(p);
  EXPECT_FALSE(p);  // NOLINT(bugprone-use-after-move)
  EXPECT_EQ(q.mbuf(), m);
  Packet r;
  r = std::move(q);
  EXPECT_EQ(r.mbuf(), m);
  rte_mbuf* raw = r.release();
  rte_pktmbuf_free(raw);
}

}  // namespace
}  // namespace tern

namespace tern {
namespace {

// Reusing a shared (indirect) mbuf for transmit must keep its attach marker,
// or freeing it would leak the buffer it points at and corrupt the pool.
TEST(Packet, ClearOffloadsKeepsIndirectMarker) {
  std::vector<uint8_t> b(100, 7);
  Packet p = test::make_packet(b);
  Packet s = p.share(test::pool());
  ASSERT_TRUE(RTE_MBUF_CLONED(s.mbuf()));
  s.mbuf()->ol_flags |= RTE_MBUF_F_RX_L4_CKSUM_GOOD;
  s.clear_offloads();
  EXPECT_TRUE(RTE_MBUF_CLONED(s.mbuf()));
  EXPECT_EQ(s.ol_flags() & RTE_MBUF_F_RX_L4_CKSUM_MASK, 0u);
  Packet head = Packet::alloc(test::pool());
  head.copy_tx_offloads(s);
  EXPECT_FALSE(RTE_MBUF_CLONED(head.mbuf()));
}

// RTE_MBUF_F_RX_*_CKSUM_NONE: the NIC verified the data, the field is not filled.
TEST(Packet, RxChecksumNoneCountsAsVerified) {
  Packet p = Packet::alloc(test::pool());
  p.mbuf()->ol_flags = RTE_MBUF_F_RX_L4_CKSUM_NONE | RTE_MBUF_F_RX_IP_CKSUM_NONE;
  EXPECT_EQ(p.rx_l4_csum(), RxCsum::good);
  EXPECT_EQ(p.rx_ip_csum(), RxCsum::good);
  p.mbuf()->ol_flags = RTE_MBUF_F_RX_L4_CKSUM_BAD;
  EXPECT_EQ(p.rx_l4_csum(), RxCsum::bad);
  p.mbuf()->ol_flags = 0;
  EXPECT_EQ(p.rx_l4_csum(), RxCsum::unknown);
}

}  // namespace
}  // namespace tern

namespace tern {
namespace {

TEST(Packet, PushHeaderUsesHeadroomThenAFrontMbufCarryingTheOffloadRequest) {
  std::vector<uint8_t> b(40, 3);
  Packet p = test::make_packet(b);
  unsigned in_use = test::mbufs_in_use();
  ASSERT_NE(p.push_header(20, test::pool()), nullptr);
  EXPECT_EQ(test::mbufs_in_use(), in_use) << "headroom: no allocation";
  p.add_tx_flags(RTE_MBUF_F_TX_UDP_CKSUM);
  p.mbuf()->l4_len = 8;
  p.trim_front(20);
  p.mbuf()->data_off = 0;  // no headroom left
  uint8_t* h = p.push_header(14, test::pool());
  ASSERT_NE(h, nullptr);
  EXPECT_EQ(p.segments(), 2);
  EXPECT_EQ(p.length(), 54u);
  EXPECT_EQ(h, p.data());
  EXPECT_NE(p.ol_flags() & RTE_MBUF_F_TX_UDP_CKSUM, 0u) << "the new head carries the offload request";
  EXPECT_EQ(p.mbuf()->l4_len, 8);
}

}  // namespace
}  // namespace tern
