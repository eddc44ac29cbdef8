#include "tern/tcp/sack.hpp"

#include <gtest/gtest.h>

#include <vector>

namespace tern::tcp {
namespace {

using wire::SackBlock;
using wire::SeqNum;
using Range = SackScoreboard::Range;
using Seg = SackScoreboard::Seg;

constexpr SeqNum S(uint32_t v) { return SeqNum{v}; }
constexpr SackBlock B(uint32_t l, uint32_t r) { return SackBlock{SeqNum{l}, SeqNum{r}}; }

std::vector<Range> ranges_of(const SackScoreboard& sb) { return {sb.ranges().begin(), sb.ranges().end()}; }

constexpr uint32_t kUna = 1000;
constexpr uint32_t kNxt = 2000;
constexpr uint32_t kMss = 100;

// The worked example used by the IsLost/SetPipe/NextSeg tests: una 1000, nxt 2000, mss 100,
// SACKed [1100,1200) [1300,1400) [1500,1600) [1800,1900); holes [1000,1100) [1200,1300)
// [1400,1500) [1600,1800) [1900,2000).
SackScoreboard example() {
  SackScoreboard sb;
  const SackBlock blocks[] = {B(1800, 1900), B(1500, 1600), B(1300, 1400), B(1100, 1200)};
  EXPECT_EQ(sb.update(S(kUna), S(kNxt), blocks), 400u);
  return sb;
}

TEST(SackScoreboard, StartsEmpty) {
  SackScoreboard sb;
  EXPECT_TRUE(sb.empty());
  EXPECT_EQ(sb.size(), 0u);
  EXPECT_EQ(sb.sacked_bytes(), 0u);
  EXPECT_FALSE(sb.is_sacked(S(0)));
  EXPECT_FALSE(sb.next_seg(S(0), S(0), kMss, true).has_value());
}

TEST(SackScoreboard, DisjointBlocksAreKeptSortedAscending) {
  SackScoreboard sb;
  const SackBlock blocks[] = {B(1500, 1600), B(1100, 1200), B(1300, 1400)};
  EXPECT_EQ(sb.update(S(kUna), S(kNxt), blocks), 300u);
  EXPECT_EQ(ranges_of(sb), (std::vector<Range>{{S(1100), S(1200)}, {S(1300), S(1400)}, {S(1500), S(1600)}}));
  EXPECT_EQ(sb.sacked_bytes(), 300u);
  EXPECT_EQ(sb.highest_sacked(), S(1600));
  EXPECT_TRUE(sb.is_sacked(S(1100)));
  EXPECT_TRUE(sb.is_sacked(S(1199)));
  EXPECT_FALSE(sb.is_sacked(S(1200)));
  EXPECT_FALSE(sb.is_sacked(S(1099)));
  EXPECT_FALSE(sb.is_sacked(S(1700)));
}

TEST(SackScoreboard, AdjacentBlocksMerge) {
  SackScoreboard sb;
  const SackBlock a[] = {B(1100, 1200)};
  const SackBlock b[] = {B(1200, 1300)};
  const SackBlock c[] = {B(1000 + 50, 1100)};
  sb.update(S(kUna), S(kNxt), a);
  EXPECT_EQ(sb.update(S(kUna), S(kNxt), b), 100u);
  EXPECT_EQ(sb.update(S(kUna), S(kNxt), c), 50u);
  EXPECT_EQ(ranges_of(sb), (std::vector<Range>{{S(1050), S(1300)}}));
  EXPECT_EQ(sb.sacked_bytes(), 250u);
}

TEST(SackScoreboard, OverlappingBlockCountsOnlyNewBytesAndBridgesRanges) {
  SackScoreboard sb;
  const SackBlock a[] = {B(1100, 1200), B(1300, 1400), B(1500, 1600)};
  sb.update(S(kUna), S(kNxt), a);
  // Covers the gap [1200,1300), part of [1400,1500), overlaps two ranges.
  const SackBlock b[] = {B(1150, 1450)};
  EXPECT_EQ(sb.update(S(kUna), S(kNxt), b), 150u);
  EXPECT_EQ(ranges_of(sb), (std::vector<Range>{{S(1100), S(1450)}, {S(1500), S(1600)}}));
  // Repeating a block adds nothing.
  EXPECT_EQ(sb.update(S(kUna), S(kNxt), b), 0u);
  // One block swallowing everything.
  const SackBlock c[] = {B(1050, 1700)};
  EXPECT_EQ(sb.update(S(kUna), S(kNxt), c), 200u);
  EXPECT_EQ(ranges_of(sb), (std::vector<Range>{{S(1050), S(1700)}}));
  EXPECT_EQ(sb.sacked_bytes(), 650u);
}

TEST(SackScoreboard, BlocksBelowUnaOrAboveSndNxtAreIgnored) {
  SackScoreboard sb;
  const SackBlock blocks[] = {
      B(800, 900),    // wholly below una
      B(950, 1100),   // straddles una
      B(1900, 2100),  // reaches past snd_nxt
      B(2000, 2100),  // wholly above
      B(1500, 1500),  // empty
      B(1600, 1500),  // reversed
  };
  EXPECT_EQ(sb.update(S(kUna), S(kNxt), blocks), 0u);
  EXPECT_TRUE(sb.empty());
  EXPECT_EQ(sb.ignored_blocks(), 6u);
  // The edges themselves are inside.
  const SackBlock edges[] = {B(1000, 1001), B(1999, 2000)};
  EXPECT_EQ(sb.update(S(kUna), S(kNxt), edges), 2u);
  EXPECT_EQ(sb.ignored_blocks(), 6u);
}

TEST(SackScoreboard, DsackBelowCumulativeAckIsIgnored) {
  SackScoreboard sb;
  // RFC 2883 §4: first block below the ACK reports a duplicate; the second is ordinary.
  const SackBlock blocks[] = {B(900, 1000), B(1100, 1200)};
  EXPECT_EQ(sb.update(S(kUna), S(kNxt), blocks), 100u);
  EXPECT_EQ(ranges_of(sb), (std::vector<Range>{{S(1100), S(1200)}}));
  EXPECT_EQ(sb.ignored_blocks(), 1u);
}

TEST(SackScoreboard, DsackInsideSecondBlockIsIgnored) {
  SackScoreboard sb;
  // RFC 2883 §4: first block contained in the second reports a duplicate above the ACK.
  const SackBlock blocks[] = {B(1120, 1150), B(1100, 1200), B(1300, 1400)};
  EXPECT_EQ(sb.update(S(kUna), S(kNxt), blocks), 200u);
  EXPECT_EQ(ranges_of(sb), (std::vector<Range>{{S(1100), S(1200)}, {S(1300), S(1400)}}));
  EXPECT_EQ(sb.ignored_blocks(), 1u);
}

TEST(SackScoreboard, AdvancingUnaDropsAndTrimsRanges) {
  SackScoreboard sb;
  const SackBlock blocks[] = {B(1100, 1200), B(1300, 1400)};
  sb.update(S(kUna), S(kNxt), blocks);
  EXPECT_EQ(sb.update(S(1350), S(kNxt), {}), 0u);
  EXPECT_EQ(ranges_of(sb), (std::vector<Range>{{S(1350), S(1400)}}));
  EXPECT_EQ(sb.sacked_bytes(), 50u);
  EXPECT_EQ(sb.update(S(1400), S(kNxt), {}), 0u);
  EXPECT_TRUE(sb.empty());
  EXPECT_EQ(sb.sacked_bytes(), 0u);
  EXPECT_EQ(sb.highest_sacked(), S(1400));
}

TEST(SackScoreboard, ResetForgetsRangesButKeepsCounters) {
  SackScoreboard sb;
  const SackBlock blocks[] = {B(900, 1000), B(1100, 1200)};
  sb.update(S(kUna), S(kNxt), blocks);
  sb.reset();
  EXPECT_TRUE(sb.empty());
  EXPECT_EQ(sb.sacked_bytes(), 0u);
  EXPECT_EQ(sb.ignored_blocks(), 1u);
}

TEST(SackScoreboard, WorksAcrossSequenceWrap) {
  SackScoreboard sb;
  const uint32_t una = 0xffffff00u;
  const SeqNum nxt = S(una) + 0x400;  // 0x300
  // One block crossing 2^32, one entirely after the wrap, and one that bridges them.
  const SackBlock a[] = {B(0xffffff80u, 0x80), B(0x100, 0x180)};
  EXPECT_EQ(sb.update(S(una), nxt, a), 0x100u + 0x80u);
  EXPECT_EQ(ranges_of(sb), (std::vector<Range>{{S(0xffffff80u), S(0x80)}, {S(0x100), S(0x180)}}));
  EXPECT_TRUE(sb.is_sacked(S(0xffffffffu)));
  EXPECT_TRUE(sb.is_sacked(S(0)));
  EXPECT_FALSE(sb.is_sacked(S(0x80)));
  EXPECT_EQ(sb.highest_sacked(), S(0x180));
  const SackBlock b[] = {B(0x80, 0x100)};
  EXPECT_EQ(sb.update(S(una), nxt, b), 0x80u);
  EXPECT_EQ(ranges_of(sb), (std::vector<Range>{{S(0xffffff80u), S(0x180)}}));
  // Hole [una, 0xffffff80) of 0x80 octets, unSACKed tail [0x180, 0x300) of 0x180 octets.
  EXPECT_TRUE(sb.is_lost(S(una), 0x20));
  EXPECT_EQ(sb.pipe(S(una), nxt, S(una), 0x20), 0x180u);
  EXPECT_EQ(sb.next_seg(S(una), S(una), 0x20, false), (Seg{S(una), 0x20}));
  // A block below una across the wrap is still below una.
  const SackBlock c[] = {B(0xfffffe00u, 0xffffff00u)};
  EXPECT_EQ(sb.update(S(una), nxt, c), 0u);
  EXPECT_EQ(sb.ignored_blocks(), 1u);
  // Advancing una past the wrap trims.
  sb.update(S(0x10), nxt, {});
  EXPECT_EQ(ranges_of(sb), (std::vector<Range>{{S(0x10), S(0x180)}}));
}

TEST(SackScoreboard, BoundedRangesDropTheHighest) {
  SackScoreboard sb;
  const uint32_t una = 10000;
  const SeqNum nxt = S(una + 100000);
  // Ranges [una+10k+1, una+10k+2) for k = 0..31 fill the board.
  for (uint32_t k = 0; k < SackScoreboard::kMaxRanges; ++k) {
    const SackBlock b[] = {B(una + 10 * k + 1, una + 10 * k + 2)};
    EXPECT_EQ(sb.update(S(una), nxt, b), 1u);
  }
  EXPECT_EQ(sb.size(), SackScoreboard::kMaxRanges);
  EXPECT_EQ(sb.sacked_bytes(), 32u);
  // A new highest range is itself dropped.
  const SackBlock high[] = {B(una + 5000, una + 5010)};
  EXPECT_EQ(sb.update(S(una), nxt, high), 0u);
  EXPECT_EQ(sb.size(), SackScoreboard::kMaxRanges);
  EXPECT_EQ(sb.highest_sacked(), S(una + 312));
  EXPECT_EQ(sb.dropped_ranges(), 1u);
  // A new lower range evicts the current highest.
  const SackBlock low[] = {B(una + 5, una + 8)};
  EXPECT_EQ(sb.update(S(una), nxt, low), 2u);  // +3 new, -1 evicted
  EXPECT_EQ(sb.size(), SackScoreboard::kMaxRanges);
  EXPECT_EQ(sb.highest_sacked(), S(una + 302));
  EXPECT_EQ(sb.sacked_bytes(), 34u);
  EXPECT_EQ(sb.dropped_ranges(), 2u);
  // Merging needs no room.
  const SackBlock merge[] = {B(una + 2, una + 5)};
  EXPECT_EQ(sb.update(S(una), nxt, merge), 3u);
  EXPECT_EQ(sb.size(), SackScoreboard::kMaxRanges - 1);
  EXPECT_EQ(sb.ranges()[0], (Range{S(una + 1), S(una + 8)}));
}

TEST(SackScoreboard, IsLostByNumberOfRangesAbove) {
  SackScoreboard sb;
  // Three 1-octet ranges: few bytes, but DupThresh discontiguous ranges.
  const SackBlock blocks[] = {B(1100, 1101), B(1200, 1201), B(1300, 1301)};
  sb.update(S(kUna), S(kNxt), blocks);
  EXPECT_TRUE(sb.is_lost(S(1000), kMss));
  EXPECT_TRUE(sb.is_lost(S(1099), kMss));
  EXPECT_FALSE(sb.is_lost(S(1100), kMss));  // only two ranges above
  EXPECT_FALSE(sb.is_lost(S(1150), kMss));
  EXPECT_TRUE(sb.is_lost(S(1150), kMss, 2));
  EXPECT_FALSE(sb.is_lost(S(1000), kMss, 4));
  EXPECT_FALSE(sb.is_lost(S(1300), kMss, 1));  // nothing above the top octet
  EXPECT_TRUE(sb.is_lost(S(1250), kMss, 0));   // DupThresh 0 behaves as 1
}

TEST(SackScoreboard, IsLostByBytesAbove) {
  SackScoreboard sb;
  // One range: a single discontiguous sequence, judged by bytes: more than 2 * mss.
  const SackBlock blocks[] = {B(1500, 1701)};
  sb.update(S(kUna), S(kNxt), blocks);
  EXPECT_TRUE(sb.is_lost(S(1000), kMss));  // 201 > 200
  EXPECT_TRUE(sb.is_lost(S(1499), kMss));
  EXPECT_FALSE(sb.is_lost(S(1500), kMss));  // 200 octets above 1500: not more than 200
  EXPECT_FALSE(sb.is_lost(S(1000), 101));   // 201 <= 202
  EXPECT_FALSE(sb.is_lost(S(1800), kMss));
}

TEST(SackScoreboard, IsLostPerHoleOfTheExample) {
  const SackScoreboard sb = example();
  EXPECT_TRUE(sb.is_lost(S(1000), kMss));   // 4 ranges above
  EXPECT_TRUE(sb.is_lost(S(1299), kMss));   // 3 ranges above
  EXPECT_FALSE(sb.is_lost(S(1400), kMss));  // 2 ranges, 200 octets
  EXPECT_FALSE(sb.is_lost(S(1700), kMss));
  EXPECT_FALSE(sb.is_lost(S(1950), kMss));
}

TEST(SackScoreboard, PipeCountsUnlostHolesPlusRetransmissions) {
  const SackScoreboard sb = example();
  // Not lost: [1400,1500) 100 + [1600,1800) 200 + [1900,2000) 100 = 400; nothing retransmitted.
  EXPECT_EQ(sb.pipe(S(kUna), S(kNxt), S(kUna), kMss), 400u);
  // Retransmitted [1000,1100) and [1200,1250): +150.
  EXPECT_EQ(sb.pipe(S(kUna), S(kNxt), S(1250), kMss), 550u);
  // Retransmitted up to 1450: +100 +100 +50 (the last 50 also counted as not lost).
  EXPECT_EQ(sb.pipe(S(kUna), S(kNxt), S(1450), kMss), 650u);
  // high_rxt at or below una counts nothing; above snd_nxt is clamped (every hole once more: 600).
  EXPECT_EQ(sb.pipe(S(kUna), S(kNxt), S(500), kMss), 400u);
  EXPECT_EQ(sb.pipe(S(kUna), S(kNxt), S(5000), kMss), 1000u);
  // A larger DupThresh makes the lower holes count too: all 600 unSACKed octets.
  EXPECT_EQ(sb.pipe(S(kUna), S(kNxt), S(kUna), kMss, 5), 600u);
  // Without SACK information pipe is the whole flight.
  SackScoreboard none;
  EXPECT_EQ(none.pipe(S(kUna), S(kNxt), S(kUna), kMss), 1000u);
  EXPECT_EQ(none.pipe(S(kUna), S(kUna), S(kUna), kMss), 0u);
}

TEST(SackScoreboard, PipeMatchesOctetByOctetDefinition) {
  const SackScoreboard sb = example();
  for (uint32_t rxt : {1000u, 1050u, 1100u, 1234u, 1300u, 1555u, 1750u, 1999u, 2000u}) {
    uint32_t want = 0;
    for (uint32_t s = kUna; s < kNxt; ++s) {
      if (sb.is_sacked(S(s))) continue;
      if (!sb.is_lost(S(s), kMss)) ++want;  // RFC 6675 §4 SetPipe (a)
      if (s < rxt) ++want;                  // (b), exclusive high_rxt
    }
    EXPECT_EQ(sb.pipe(S(kUna), S(kNxt), S(rxt), kMss), want) << "high_rxt " << rxt;
  }
}

TEST(SackScoreboard, NextSegRule1PicksLowestLostHoleAtOrAboveHighRxt) {
  const SackScoreboard sb = example();
  EXPECT_EQ(sb.next_seg(S(kUna), S(kUna), kMss, false), (Seg{S(1000), 100}));
  EXPECT_EQ(sb.next_seg(S(kUna), S(1100), kMss, false), (Seg{S(1200), 100}));
  // Partly retransmitted hole: continue at high_rxt, stop at the SACKed range above.
  EXPECT_EQ(sb.next_seg(S(kUna), S(1250), kMss, false), (Seg{S(1250), 50}));
  // At most mss octets.
  EXPECT_EQ(sb.next_seg(S(kUna), S(kUna), 40, false), (Seg{S(1000), 40}));
  // Rule 1 wins over rule 3 even when rule 3 is allowed.
  EXPECT_EQ(sb.next_seg(S(kUna), S(kUna), kMss, true), (Seg{S(1000), 100}));
}

TEST(SackScoreboard, NextSegRule3TakesLowestUnsackedBelowHighestSacked) {
  const SackScoreboard sb = example();
  // Nothing lost at or above 1300: rule 1 fails.
  EXPECT_FALSE(sb.next_seg(S(kUna), S(1300), kMss, false).has_value());
  EXPECT_EQ(sb.next_seg(S(kUna), S(1300), kMss, true), (Seg{S(1400), 100}));
  EXPECT_EQ(sb.next_seg(S(kUna), S(1600), 150, true), (Seg{S(1600), 150}));
  EXPECT_EQ(sb.next_seg(S(kUna), S(1600), 300, true), (Seg{S(1600), 200}));  // not into [1800,1900)
}

TEST(SackScoreboard, NextSegNoneAboveHighestSackedOrWithoutSack) {
  const SackScoreboard sb = example();
  // [1900,2000) is above the highest SACKed octet: rules 1 and 3 exclude it (1.b).
  EXPECT_FALSE(sb.next_seg(S(kUna), S(1900), kMss, true).has_value());
  EXPECT_FALSE(sb.next_seg(S(kUna), S(1850), kMss, true).has_value());
  EXPECT_FALSE(sb.next_seg(S(kUna), S(kUna), 0, true).has_value());
  SackScoreboard none;
  EXPECT_FALSE(none.next_seg(S(kUna), S(kUna), kMss, true).has_value());
}

// Brute-force RFC 6675 §4 definitions over an octet bitmap, to check the hole-walking versions.
struct Model {
  uint32_t una;
  std::vector<bool> sacked;  // octet una + i
  bool lost(uint32_t i, uint32_t mss, uint32_t dt) const {
    uint32_t ranges = 0, bytes = 0;
    for (uint32_t j = i + 1; j < sacked.size(); ++j) {
      if (!sacked[j]) continue;
      ++bytes;
      if (j == i + 1 || !sacked[j - 1]) ++ranges;
    }
    return ranges >= dt || bytes > (dt - 1) * mss;
  }
};

TEST(SackScoreboard, AgreesWithOctetModelOnRandomBlocks) {
  uint32_t rng = 12345;
  auto next = [&rng](uint32_t n) {
    rng = rng * 1664525u + 1013904223u;
    return (rng >> 8) % n;
  };
  for (int round = 0; round < 200; ++round) {
    uint32_t una = 0xfffffc00u + next(2048);  // often across the wrap
    const uint32_t win = 400;
    Model m{una, std::vector<bool>(win, false)};
    SackScoreboard sb;
    for (int ack = 0; ack < 6; ++ack) {
      std::vector<SackBlock> blocks;
      for (uint32_t n = next(5); n > 0; --n) {
        const uint32_t l = next(win - 1);
        blocks.push_back(B(una + l, una + l + 1 + next(std::min(win - l, 40u))));
      }
      uint32_t want_new = 0;
      for (const auto& b : blocks) {
        for (uint32_t s = b.left.v - una; s < b.right.v - una; ++s) {
          if (!m.sacked[s]) ++want_new;
          m.sacked[s] = true;
        }
      }
      ASSERT_EQ(sb.update(S(una), S(una + win), blocks), want_new);
      ASSERT_LE(sb.size(), SackScoreboard::kMaxRanges);
      uint32_t count = 0;
      for (uint32_t i = 0; i < win; ++i) {
        ASSERT_EQ(sb.is_sacked(S(una + i)), m.sacked[i]) << i;
        count += m.sacked[i];
      }
      ASSERT_EQ(sb.sacked_bytes(), count);
      const uint32_t mss = 1 + next(30);
      const uint32_t dt = 1 + next(4);
      const uint32_t rxt = next(win + 1);
      uint32_t want_pipe = 0;
      uint32_t highest = 0;
      for (uint32_t i = 0; i < win; ++i) {
        if (m.sacked[i]) highest = i + 1;
      }
      std::optional<Seg> want1, want3;
      for (uint32_t i = 0; i < win; ++i) {
        if (m.sacked[i]) continue;
        const bool lost = m.lost(i, mss, dt);
        ASSERT_EQ(sb.is_lost(S(una + i), mss, dt), lost);
        want_pipe += (lost ? 0 : 1) + (i < rxt ? 1 : 0);
        if (i >= rxt && i < highest) {
          uint32_t len = 0;
          while (len < mss && !m.sacked[i + len]) ++len;
          if (lost && !want1) want1 = Seg{S(una + i), len};
          if (!want3) want3 = Seg{S(una + i), len};
        }
      }
      ASSERT_EQ(sb.pipe(S(una), S(una + win), S(una + rxt), mss, dt), want_pipe);
      ASSERT_EQ(sb.next_seg(S(una), S(una + rxt), mss, false, dt), want1);
      ASSERT_EQ(sb.next_seg(S(una), S(una + rxt), mss, true, dt), want1 ? want1 : want3);
      // Slide the window: the cumulative ACK advances, snd_nxt with it.
      const uint32_t adv = next(60);
      una += adv;
      m.una = una;
      m.sacked.erase(m.sacked.begin(), m.sacked.begin() + adv);
      m.sacked.resize(win, false);
      uint32_t left = 0;
      for (bool b : m.sacked) left += b;
      ASSERT_EQ(sb.update(S(una), S(una + win), {}), 0u);
      ASSERT_EQ(sb.sacked_bytes(), left);
    }
  }
}

TEST(SackScoreboard, StaysSmall) { EXPECT_LE(sizeof(SackScoreboard), 300u); }

}  // namespace
}  // namespace tern::tcp
