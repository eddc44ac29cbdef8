// Reassembler: RFC 791 §3.2 reassembly with bounds, overlap policy and
// timeout, driven directly with fragments built byte by byte.
#include "tern/l3/reassembly.hpp"

#include <gtest/gtest.h>

#include <cstdint>
#include <vector>

#include "l3_test_util.hpp"

namespace tern::l3 {
namespace {

using namespace tern::l3::test;

const Ipv4Addr kSrc = Ipv4Addr::from_octets(198, 18, 0, 2);
const Ipv4Addr kDst = Ipv4Addr::from_octets(198, 18, 0, 1);
constexpr uint64_t kT0 = 100 * kSec;

class ReassemblerTest : public ::testing::Test {
 protected:
  explicit ReassemblerTest(ReassemblyParams p = {}) : params_(p), r_(params_, stats_) {}

  /** Fragment [off, off+len) of @p data (the whole original payload). */
  static Packet fragment(uint16_t id, uint16_t off, uint16_t len, bool mf, const Bytes& data,
                         uint16_t seg = 2048, Bytes options = {}) {
    IpSpec s;
    s.src = kSrc;
    s.dst = kDst;
    s.id = id;
    s.mf = mf;
    s.frag_offset = off;
    s.options = std::move(options);
    Bytes piece(len);
    for (size_t i = 0; i < len; ++i) piece[i] = data[off + i];
    return tern::test::make_packet(ipv4_bytes(s, piece), seg);
  }
  Packet add(Packet&& p, uint64_t now = kT0) {
    // The header is in the head segment; the data may be in later ones.
    auto v = wire::Ipv4View::parse_quoted(p.head());
    EXPECT_TRUE(v.ok());
    return r_.add(std::move(p), *v, now);
  }
  Packet add(uint16_t id, uint16_t off, uint16_t len, bool mf, const Bytes& data, uint64_t now = kT0) {
    return add(fragment(id, off, len, mf, data), now);
  }
  /** Checks a reassembled datagram's header and returns its payload. */
  static Bytes check_and_payload(const Packet& out, uint16_t id, size_t hlen = 20) {
    Bytes b = tern::test::bytes_of(out);
    EXPECT_GE(b.size(), hlen);
    if (b.size() < hlen) return {};
    auto v = wire::Ipv4View::parse(b);
    EXPECT_TRUE(v.ok());
    if (!v.ok()) return {};
    EXPECT_EQ(v->header_length(), hlen);
    EXPECT_EQ(v->total_length(), b.size()) << "total length covers header and all data";
    EXPECT_FALSE(v->more_fragments());
    EXPECT_EQ(v->fragment_offset(), 0u);
    EXPECT_FALSE(v->is_fragment());
    EXPECT_TRUE(v->checksum_ok()) << "header checksum recomputed";
    EXPECT_EQ(v->id(), id);
    EXPECT_EQ(v->src(), kSrc);
    EXPECT_EQ(v->dst(), kDst);
    EXPECT_EQ(v->protocol(), 17u);
    return Bytes(b.begin() + static_cast<long>(hlen), b.end());
  }
  void expect_empty() {
    EXPECT_EQ(r_.in_progress(), 0u);
    EXPECT_EQ(r_.fragments_held(), 0u);
    EXPECT_EQ(r_.bytes_held(), 0u);
  }

  ReassemblyParams params_;
  L3Stats stats_;
  Reassembler r_;
  const Bytes data_ = pattern(64, 3);
};

TEST_F(ReassemblerTest, InOrderFragmentsReassembleByteExact) {
  EXPECT_FALSE(add(1, 0, 24, true, data_));
  EXPECT_FALSE(add(1, 24, 24, true, data_));
  EXPECT_EQ(r_.in_progress(), 1u);
  EXPECT_EQ(r_.fragments_held(), 2u);
  EXPECT_GT(r_.bytes_held(), 0u);
  Packet out = add(1, 48, 16, false, data_);
  ASSERT_TRUE(out);
  EXPECT_EQ(check_and_payload(out, 1), data_);
  EXPECT_EQ(stats_.reassembled, 1u);
  EXPECT_EQ(stats_.rx_fragments, 3u);
  expect_empty();
}

TEST_F(ReassemblerTest, ReversedFragmentsReassembleByteExact) {
  EXPECT_FALSE(add(2, 48, 16, false, data_));
  EXPECT_FALSE(add(2, 24, 24, true, data_));
  Packet out = add(2, 0, 24, true, data_);
  ASSERT_TRUE(out);
  EXPECT_EQ(check_and_payload(out, 2), data_);
  expect_empty();
}

TEST_F(ReassemblerTest, MultiSegmentFragmentsReassembleByteExact) {
  const Bytes big = pattern(1000, 9);
  EXPECT_FALSE(add(fragment(3, 400, 400, true, big, 48)));
  EXPECT_FALSE(add(fragment(3, 800, 200, false, big, 48)));
  Packet out = add(fragment(3, 0, 400, true, big, 48));
  ASSERT_TRUE(out);
  EXPECT_EQ(check_and_payload(out, 3), big);
  expect_empty();
}

TEST_F(ReassemblerTest, PartialOverlapsKeepHeldData) {
  // What the overlapping fragments carry: the held bytes where they overlap
  // (a retransmission), new bytes elsewhere (a conflict would discard it all).
  Bytes other = data_;
  for (size_t i : {8, 9, 10, 11, 12, 13, 14, 15, 40, 41, 42, 43, 44, 45, 46, 47}) other[i] = 0xee;
  // Held [16,40); a new [8,24) overlaps its front, a new [32,48) its back.
  EXPECT_FALSE(add(4, 16, 24, true, data_));
  EXPECT_FALSE(add(4, 8, 16, true, other));
  EXPECT_FALSE(add(4, 32, 16, true, other));
  EXPECT_EQ(stats_.dropped(L3Drop::duplicate_fragment), 0u) << "both added something";
  EXPECT_FALSE(add(4, 0, 8, true, data_));
  Packet out = add(4, 48, 16, false, data_);
  ASSERT_TRUE(out);
  Bytes want = data_;
  for (size_t i = 8; i < 16; ++i) want[i] = 0xee;   // only the new part of [8,24)
  for (size_t i = 40; i < 48; ++i) want[i] = 0xee;  // only the new part of [32,48)
  EXPECT_EQ(check_and_payload(out, 4), want);
  expect_empty();
}

TEST_F(ReassemblerTest, ExactDuplicateIsDroppedAndCounted) {
  EXPECT_FALSE(add(5, 0, 24, true, data_));
  const uint64_t bytes = r_.bytes_held();
  EXPECT_FALSE(add(5, 0, 24, true, data_));
  EXPECT_EQ(stats_.dropped(L3Drop::duplicate_fragment), 1u);
  EXPECT_EQ(r_.fragments_held(), 1u);
  EXPECT_EQ(r_.bytes_held(), bytes);
  // A fragment inside held data adds nothing either.
  EXPECT_FALSE(add(5, 8, 8, true, data_));
  EXPECT_EQ(stats_.dropped(L3Drop::duplicate_fragment), 2u);
  EXPECT_FALSE(add(5, 24, 24, true, data_));
  Packet out = add(5, 48, 16, false, data_);
  ASSERT_TRUE(out);
  EXPECT_EQ(check_and_payload(out, 5), data_);
  expect_empty();
}

TEST_F(ReassemblerTest, FragmentCoveringHeldOnesReplacesThem) {
  EXPECT_FALSE(add(6, 8, 8, true, data_));
  EXPECT_FALSE(add(6, 16, 8, true, data_));
  EXPECT_FALSE(add(6, 32, 8, true, data_));
  EXPECT_EQ(r_.fragments_held(), 3u);
  // [0,48) covers all three.
  EXPECT_FALSE(add(6, 0, 48, true, data_));
  EXPECT_EQ(r_.fragments_held(), 1u);
  EXPECT_EQ(stats_.dropped(L3Drop::duplicate_fragment), 0u);
  Packet out = add(6, 48, 16, false, data_);
  ASSERT_TRUE(out);
  EXPECT_EQ(check_and_payload(out, 6), data_);
  expect_empty();
}

TEST_F(ReassemblerTest, MissingFragmentTimesOutWithFirstFragment) {
  EXPECT_FALSE(add(7, 0, 24, true, data_, kT0));
  EXPECT_FALSE(add(7, 48, 16, false, data_, kT0 + kSec));
  std::vector<Bytes> firsts;
  auto on_timeout = [&](Packet&& first) { firsts.push_back(tern::test::bytes_of(first)); };
  r_.expire(kT0 + params_.timeout_ns - 1, on_timeout);
  EXPECT_TRUE(firsts.empty());
  EXPECT_EQ(r_.in_progress(), 1u);
  r_.expire(kT0 + params_.timeout_ns, on_timeout);  // timed from the first fragment
  ASSERT_EQ(firsts.size(), 1u);
  // The first fragment as received: its header then its data.
  IpSpec s;
  s.src = kSrc;
  s.dst = kDst;
  s.id = 7;
  s.mf = true;
  EXPECT_EQ(firsts[0], ipv4_bytes(s, Bytes(data_.begin(), data_.begin() + 24)));
  EXPECT_EQ(stats_.dropped(L3Drop::reassembly_timeout), 2u);
  EXPECT_EQ(stats_.reassembled, 0u);
  expect_empty();
}

TEST_F(ReassemblerTest, TimeoutWithoutFirstFragmentDoesNotCallBack) {
  EXPECT_FALSE(add(8, 24, 24, true, data_));
  int calls = 0;
  r_.expire(kT0 + params_.timeout_ns, [&](Packet&&) { ++calls; });
  EXPECT_EQ(calls, 0) << "no ICMP time exceeded without fragment zero (RFC 1122 §3.3.2)";
  EXPECT_EQ(stats_.dropped(L3Drop::reassembly_timeout), 1u);
  expect_empty();
}

TEST_F(ReassemblerTest, RejectsMiddleFragmentNotMultipleOfEight) {
  EXPECT_FALSE(add(9, 0, 12, true, data_));
  EXPECT_EQ(stats_.dropped(L3Drop::bad_fragment), 1u);
  expect_empty();
  // The last fragment may have any length.
  EXPECT_FALSE(add(9, 8, 13, false, data_));
  EXPECT_EQ(stats_.dropped(L3Drop::bad_fragment), 1u);
  EXPECT_EQ(r_.in_progress(), 1u);
}

TEST_F(ReassemblerTest, RejectsFragmentEndingPast65535) {
  const Bytes big = pattern(65536, 1);
  // Offset 65512 + 8 bytes: the datagram would be 20 + 65520 bytes.
  EXPECT_FALSE(add(fragment(10, 65512, 8, false, big)));
  EXPECT_EQ(stats_.dropped(L3Drop::bad_fragment), 1u);
  EXPECT_FALSE(add(fragment(10, 65528, 8, true, big)));
  EXPECT_EQ(stats_.dropped(L3Drop::bad_fragment), 2u);
  expect_empty();
  // Exactly 65535 bytes in all is fine.
  EXPECT_FALSE(add(fragment(10, 65504, 11, false, big)));
  EXPECT_EQ(stats_.dropped(L3Drop::bad_fragment), 2u);
  EXPECT_EQ(r_.in_progress(), 1u);
}

TEST_F(ReassemblerTest, ContradictoryLastFragmentsPoisonTheDatagram) {
  EXPECT_FALSE(add(11, 0, 24, true, data_));
  EXPECT_FALSE(add(11, 32, 8, false, data_));   // ends at 40
  EXPECT_FALSE(add(11, 48, 16, false, data_));  // ends at 64: contradicts
  EXPECT_EQ(r_.in_progress(), 0u);
  EXPECT_EQ(stats_.dropped(L3Drop::bad_fragment), 3u) << "the two held and the new one";
  expect_empty();
  // The rest of it starts a new (incomplete) datagram; nothing is delivered.
  EXPECT_FALSE(add(11, 24, 8, true, data_));
  EXPECT_EQ(stats_.reassembled, 0u);
}

TEST_F(ReassemblerTest, LastFragmentBeforeHeldDataPoisonsTheDatagram) {
  EXPECT_FALSE(add(12, 0, 24, true, data_));
  EXPECT_FALSE(add(12, 24, 24, true, data_));
  EXPECT_FALSE(add(12, 24, 8, false, data_));  // says the end is 32, but data up to 48 is held
  EXPECT_EQ(r_.in_progress(), 0u);
  EXPECT_EQ(stats_.dropped(L3Drop::bad_fragment), 3u);
}

TEST_F(ReassemblerTest, FragmentBeyondKnownEndPoisonsTheDatagram) {
  EXPECT_FALSE(add(13, 32, 8, false, data_));  // end is 40
  EXPECT_FALSE(add(13, 40, 8, true, data_));
  EXPECT_EQ(r_.in_progress(), 0u);
  EXPECT_EQ(stats_.dropped(L3Drop::bad_fragment), 2u);
}

TEST_F(ReassemblerTest, ReassembledHeaderKeepsOptionsOfFirstFragment) {
  const Bytes opts = {wire::ipv4_opt::nop, wire::ipv4_opt::nop, wire::ipv4_opt::nop, wire::ipv4_opt::eol};
  EXPECT_FALSE(add(fragment(14, 0, 32, true, data_, 2048, opts)));
  Packet out = add(fragment(14, 32, 32, false, data_));
  ASSERT_TRUE(out);
  EXPECT_EQ(check_and_payload(out, 14, 24), data_);
  Bytes b = tern::test::bytes_of(out);
  EXPECT_EQ(Bytes(b.begin() + 20, b.begin() + 24), opts);
}

TEST_F(ReassemblerTest, DatagramsAreKeptApartBySourceDestinationProtocolAndId) {
  EXPECT_FALSE(add(15, 0, 32, true, data_));
  EXPECT_FALSE(add(16, 32, 32, false, Bytes(64, 0xee)));
  EXPECT_EQ(r_.in_progress(), 2u);
  Packet a = add(15, 32, 32, false, data_);
  ASSERT_TRUE(a);
  EXPECT_EQ(check_and_payload(a, 15), data_);
  EXPECT_EQ(r_.in_progress(), 1u);
}

/** Each fragment here is one default-pool mbuf: this many bytes of memory. */
uint32_t frag_truesize() { return rte_pktmbuf_data_room_size(tern::test::pool()); }

class MemoryBoundTest : public ReassemblerTest {
 protected:
  static ReassemblyParams bounded() {
    ReassemblyParams p;
    p.max_bytes = frag_truesize() * 7 / 2;  // room for three and a half fragments
    return p;
  }
  MemoryBoundTest() : ReassemblerTest(bounded()) {}
};

TEST_F(MemoryBoundTest, OldestOtherDatagramIsEvictedToMakeRoom) {
  EXPECT_FALSE(add(21, 0, 32, true, data_, kT0));
  EXPECT_FALSE(add(22, 0, 32, true, data_, kT0 + 1));
  EXPECT_FALSE(add(22, 48, 16, false, data_, kT0 + 2));
  EXPECT_EQ(r_.in_progress(), 2u);
  EXPECT_EQ(r_.fragments_held(), 3u);
  // A fourth fragment would pass max_bytes: the oldest other datagram (21) goes.
  Packet out = add(22, 32, 16, true, data_, kT0 + 3);
  EXPECT_EQ(stats_.reassembly_evicted, 1u);
  EXPECT_EQ(stats_.dropped(L3Drop::reassembly_memory), 1u);
  ASSERT_TRUE(out) << "the datagram being completed is never the victim";
  EXPECT_EQ(check_and_payload(out, 22), data_);
  expect_empty();
}

TEST_F(MemoryBoundTest, FragmentThatCannotFitIsDropped) {
  EXPECT_FALSE(add(23, 0, 16, true, data_));
  EXPECT_FALSE(add(23, 16, 16, true, data_));
  EXPECT_FALSE(add(23, 32, 16, true, data_));
  // Only one datagram: nothing to evict, the new fragment is refused.
  EXPECT_FALSE(add(23, 48, 16, false, data_));
  EXPECT_EQ(stats_.dropped(L3Drop::reassembly_memory), 1u);
  EXPECT_EQ(stats_.reassembly_evicted, 0u);
  EXPECT_EQ(r_.fragments_held(), 3u);
  EXPECT_LE(r_.bytes_held(), params_.max_bytes);
}

class DatagramBoundTest : public ReassemblerTest {
 protected:
  static ReassemblyParams bounded() {
    ReassemblyParams p;
    p.max_datagrams = 2;
    return p;
  }
  DatagramBoundTest() : ReassemblerTest(bounded()) {}
};

TEST_F(DatagramBoundTest, OldestDatagramIsEvictedForANewOne) {
  EXPECT_FALSE(add(24, 0, 8, true, data_, kT0 + 5));
  EXPECT_FALSE(add(25, 0, 8, true, data_, kT0 + 1));  // a later id, but older
  EXPECT_EQ(r_.in_progress(), 2u);
  EXPECT_FALSE(add(26, 56, 8, false, data_, kT0 + 9));
  EXPECT_EQ(r_.in_progress(), 2u);
  EXPECT_EQ(stats_.reassembly_evicted, 1u);
  EXPECT_EQ(stats_.dropped(L3Drop::reassembly_memory), 1u);
  EXPECT_EQ(r_.fragments_held(), 2u);
  // 24 kept its data: it completes.
  Packet out = add(24, 8, 56, false, data_, kT0 + 10);
  ASSERT_TRUE(out);
  EXPECT_EQ(check_and_payload(out, 24), data_);
}

class FragmentBoundTest : public ReassemblerTest {
 protected:
  static ReassemblyParams bounded() {
    ReassemblyParams p;
    p.max_fragments = 3;
    return p;
  }
  FragmentBoundTest() : ReassemblerTest(bounded()) {}
};

// A full fragment table makes room by evicting the oldest other datagram, as a full byte budget
// does: a flood of fragments cannot block reassembly until its timeout.
TEST_F(FragmentBoundTest, FullFragmentTableEvictsTheOldestOtherDatagram) {
  EXPECT_FALSE(add(27, 0, 8, true, data_));
  EXPECT_FALSE(add(27, 8, 8, true, data_));
  EXPECT_FALSE(add(28, 0, 8, true, data_));
  EXPECT_FALSE(add(28, 8, 8, true, data_));  // table full: datagram 27 goes
  EXPECT_EQ(stats_.reassembly_evicted, 1u);
  EXPECT_EQ(stats_.dropped(L3Drop::reassembly_memory), 2u) << "the evicted datagram's two fragments";
  EXPECT_EQ(r_.fragments_held(), 2u);
  EXPECT_EQ(r_.in_progress(), 1u);
  EXPECT_TRUE(add(28, 16, 8, false, data_)) << "the newer datagram completes";
}

TEST_F(FragmentBoundTest, OneDatagramCannotHoldMoreThanTheTable) {
  EXPECT_FALSE(add(29, 0, 8, true, data_));
  EXPECT_FALSE(add(29, 8, 8, true, data_));
  EXPECT_FALSE(add(29, 16, 8, true, data_));
  EXPECT_FALSE(add(29, 24, 8, true, data_));  // nothing else to evict: refused
  EXPECT_EQ(stats_.dropped(L3Drop::reassembly_memory), 1u);
  EXPECT_EQ(r_.fragments_held(), 3u);
  EXPECT_EQ(r_.in_progress(), 1u);
}

// ---- overlapping fragments that disagree (RFC 5722 in spirit; issue 9) ----

/** @p data_ with the bytes in [from, to) inverted: what a forged overlapping fragment carries. */
Bytes forged(const Bytes& data, size_t from, size_t to) {
  Bytes b = data;
  for (size_t i = from; i < to; ++i) b[i] ^= 0xff;
  return b;
}

TEST_F(ReassemblerTest, OverlapWithDifferentBytesDiscardsTheWholeDatagram) {
  EXPECT_FALSE(add(31, 0, 24, true, data_));
  // [16,32) overlaps the held [16,24) with other bytes.
  EXPECT_FALSE(add(31, 16, 16, true, forged(data_, 16, 24)));
  EXPECT_EQ(r_.fragments_held(), 0u) << "the held fragment is freed at once";
  // The rest of the datagram, genuine bytes included, is never delivered.
  EXPECT_FALSE(add(31, 0, 24, true, data_));
  EXPECT_FALSE(add(31, 24, 24, true, data_));
  EXPECT_FALSE(add(31, 48, 16, false, data_));
  EXPECT_EQ(stats_.reassembled, 0u);
  EXPECT_EQ(r_.fragments_held(), 0u);
  EXPECT_EQ(r_.bytes_held(), 0u);
  EXPECT_EQ(stats_.dropped(L3Drop::fragment_conflict), 5u) << "the held one, the forged one, the three after";
  EXPECT_EQ(stats_.dropped(L3Drop::duplicate_fragment), 0u);
}

TEST_F(ReassemblerTest, FragmentInsideHeldDataWithDifferentBytesDiscardsTheDatagram) {
  EXPECT_FALSE(add(32, 0, 32, true, data_));
  EXPECT_FALSE(add(32, 8, 8, true, forged(data_, 12, 13)));  // one byte differs
  EXPECT_FALSE(add(32, 32, 32, false, data_));
  EXPECT_EQ(stats_.reassembled, 0u);
  EXPECT_EQ(r_.fragments_held(), 0u);
}

TEST_F(ReassemblerTest, FragmentCoveringHeldOnesWithDifferentBytesDiscardsTheDatagram) {
  EXPECT_FALSE(add(33, 8, 8, true, data_));
  EXPECT_FALSE(add(33, 32, 8, true, data_));
  EXPECT_FALSE(add(33, 0, 48, true, forged(data_, 39, 40)));  // agrees on [8,16), not on [32,40)
  EXPECT_EQ(r_.fragments_held(), 0u);
  EXPECT_FALSE(add(33, 48, 16, false, data_));
  EXPECT_EQ(stats_.reassembled, 0u);
}

TEST_F(ReassemblerTest, OverlapWithTheSameBytesIsAccepted) {
  EXPECT_FALSE(add(34, 0, 24, true, data_));
  EXPECT_FALSE(add(34, 16, 24, true, data_));  // a retransmission cut differently
  EXPECT_FALSE(add(34, 8, 8, true, data_));    // an exact duplicate of held bytes
  Packet out = add(34, 40, 24, false, data_);
  ASSERT_TRUE(out);
  EXPECT_EQ(check_and_payload(out, 34), data_);
  expect_empty();
}

TEST_F(ReassemblerTest, OverlapsAcrossSegmentBoundariesAreComparedByteByByte) {
  const Bytes big = pattern(1000, 5);
  // Held in 48-byte segments, the overlap in 40-byte ones: the boundaries never line up.
  EXPECT_FALSE(add(fragment(35, 0, 400, true, big, 48)));
  EXPECT_FALSE(add(fragment(35, 200, 400, true, big, 40)));
  Packet out = add(fragment(35, 600, 400, false, big, 56));
  ASSERT_TRUE(out) << "identical overlap across segments";
  EXPECT_EQ(check_and_payload(out, 35), big);
  // The same with one byte different deep inside the overlap.
  EXPECT_FALSE(add(fragment(36, 0, 400, true, big, 48)));
  EXPECT_FALSE(add(fragment(36, 200, 400, true, forged(big, 377, 378), 40)));
  EXPECT_FALSE(add(fragment(36, 600, 400, false, big, 56)));
  EXPECT_EQ(stats_.reassembled, 1u);
  EXPECT_EQ(r_.fragments_held(), 0u);
}

TEST_F(ReassemblerTest, DiscardedDatagramIsForgottenWhenItsTimerExpires) {
  EXPECT_FALSE(add(37, 0, 24, true, data_, kT0));
  EXPECT_FALSE(add(37, 16, 16, true, forged(data_, 16, 24), kT0));
  // Until the reassembly timer of the first fragment runs out, fragments of it are refused.
  EXPECT_FALSE(add(37, 24, 40, false, data_, kT0 + params_.timeout_ns - 1));
  EXPECT_FALSE(add(37, 0, 24, true, data_, kT0 + params_.timeout_ns - 1));
  EXPECT_EQ(r_.fragments_held(), 0u);
  int calls = 0;
  r_.expire(kT0 + params_.timeout_ns, [&](Packet&&) { ++calls; });
  EXPECT_EQ(calls, 0) << "a discarded datagram is discarded silently: no ICMP time exceeded";
  EXPECT_EQ(stats_.dropped(L3Drop::fragment_conflict), 4u);
  EXPECT_EQ(stats_.dropped(L3Drop::reassembly_timeout), 0u);
  expect_empty();
  // Then the same identification starts afresh.
  EXPECT_FALSE(add(37, 0, 32, true, data_, kT0 + params_.timeout_ns + 1));
  Packet out = add(37, 32, 32, false, data_, kT0 + params_.timeout_ns + 1);
  ASSERT_TRUE(out);
  EXPECT_EQ(check_and_payload(out, 37), data_);
}

}  // namespace
}  // namespace tern::l3
