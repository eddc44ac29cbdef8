// RACK loss detection (RFC 8985 §6) over the per-connection transmission log: pure logic, driven as
// the engine drives it (on_send per transmission; per ACK: scoreboard update, on_ack, detect_loss).
#include "tern/tcp/rack.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <initializer_list>
#include <optional>
#include <random>
#include <span>
#include <vector>

#include "tern/tcp/sack.hpp"
#include "tern/wire/seq.hpp"
#include "tern/wire/tcp.hpp"

namespace tern::tcp {
namespace {

using wire::SackBlock;
using wire::SeqNum;
using Seg = SackScoreboard::Seg;

constexpr uint64_t kUs = 1'000;
constexpr uint64_t kMs = 1'000'000;
constexpr uint32_t kMss = 1000;
constexpr uint64_t kRtt = 10 * kMs;  // the path's RTT in every scenario
constexpr uint64_t kReo = kRtt / 4;  // RACK.reo_wnd with reo_wnd_mult 1: min_RTT / 4

constexpr SeqNum S(uint32_t v) { return SeqNum{v}; }
constexpr SackBlock B(uint32_t l, uint32_t r) { return SackBlock{SeqNum{l}, SeqNum{r}}; }

// One sender as the engine drives RACK: SND.UNA, SND.NXT (= SND.MAX), the scoreboard, a log.
struct Flow {
  TxLog log;
  Rack rack;
  SackScoreboard sb;
  SeqNum una;
  SeqNum nxt;
  uint64_t srtt = kRtt;
  bool in_recovery = false;
  bool newly_lost = false;

  explicit Flow(uint32_t isn = 0) : una{isn}, nxt{isn} { rack.attach(&log, una); }
  Flow(const Flow&) = delete;
  Flow& operator=(const Flow&) = delete;

  // New data: [nxt, nxt + len).
  void send(uint32_t len, uint64_t now) {
    rack.on_send(nxt, len, now, false);
    nxt += len;
  }
  // A retransmission of [seq, seq + len) (below SND.MAX).
  void resend(SeqNum seq, uint32_t len, uint64_t now) { rack.on_send(seq, len, now, true); }
  void resend(uint32_t seq, uint32_t len, uint64_t now) { resend(S(seq), len, now); }

  // An ACK: cumulative @p ack, SACK @p blocks. Returns detect_loss()'s reordering timeout.
  uint64_t ack(SeqNum ack, std::span<const SackBlock> blocks, uint64_t now, bool dsack = false) {
    if (ack > una) una = ack;
    sb.update(una, nxt, blocks);
    rack.on_ack(una, nxt, sb, dsack, now);
    return detect(now);
  }
  uint64_t ack(uint32_t ack_v, std::initializer_list<SackBlock> blocks, uint64_t now, bool dsack = false) {
    return ack(S(ack_v), std::span<const SackBlock>(blocks.begin(), blocks.size()), now, dsack);
  }
  // The reordering timer fired (or any other detect_loss() call).
  uint64_t detect(uint64_t now) { return rack.detect_loss(sb, srtt, in_recovery, kMss, now, &newly_lost); }
  uint64_t reo_wnd() const { return rack.reo_wnd(sb, srtt, in_recovery, kMss); }

  // The record holding byte @p s, or null.
  const TxLog::Rec* rec_at(SeqNum s) const {
    for (uint32_t i = 0; i < log.n; ++i) {
      if (log.start(i) <= s && s < log.rec[i].end) return &log.rec[i];
    }
    return nullptr;
  }
  bool lost(uint32_t s) const {
    const TxLog::Rec* r = rec_at(S(s));
    return r != nullptr && (r->flags & TxLog::kLost) != 0;
  }
  // The pieces the recovery output would resend, from SND.UNA on (without resending them).
  std::vector<Seg> lost_pieces(uint32_t mss = kMss) const {
    std::vector<Seg> v;
    SeqNum from = una;
    while (auto seg = rack.next_lost(sb, from, mss)) {
      v.push_back(*seg);
      from = seg->seq + seg->len;
      if (v.size() > 10'000) break;
    }
    return v;
  }
};

// RACK.min_RTT = RACK.rtt = kRtt from one segment [una, una + 1000) sent at 0, acknowledged at kRtt.
void prime(Flow& f) {
  f.send(kMss, 0);
  f.ack(f.nxt, {}, kRtt);
  ASSERT_EQ(f.rack.min_rtt_ns(), kRtt);
  ASSERT_EQ(f.rack.rtt_ns(), kRtt);
  ASSERT_EQ(f.log.n, 0u);
}

std::vector<Seg> segs(std::initializer_list<std::pair<uint32_t, uint32_t>> l) {
  std::vector<Seg> v;
  for (auto [s, n] : l) v.push_back(Seg{S(s), n});
  return v;
}

// ---- 1, 2: the reordering window ----

TEST(Rack, EarlierSegmentIsLostOnlyAfterRttPlusReorderingWindow) {
  Flow f;
  prime(f);                // una 1000
  f.send(kMss, 20 * kMs);  // [1000, 2000)
  f.send(kMss, 20 * kMs);  // [2000, 3000), sent after it
  // [2000, 3000) SACKed one RTT later: [1000, 2000) may just be reordered. One segment SACKed (below
  // DupThresh), no reordering seen: reo_wnd = min_RTT / 4.
  const uint64_t t = f.ack(1000, {B(2000, 3000)}, 30 * kMs);
  EXPECT_EQ(f.rack.rtt_ns(), kRtt);
  EXPECT_EQ(f.reo_wnd(), kReo);
  EXPECT_EQ(t, kReo);  // both sent together: all of the window is left
  EXPECT_FALSE(f.newly_lost);
  EXPECT_FALSE(f.lost(1000));
  EXPECT_FALSE(f.rack.next_lost(f.sb, f.una, kMss).has_value());
  EXPECT_EQ(f.rack.lost_bytes(f.sb), 0u);

  // Just before RACK.rtt + reo_wnd: still not lost; the timer is re-armed for the rest.
  EXPECT_EQ(f.detect(30 * kMs + t - 1 * kUs), 1 * kUs);
  EXPECT_FALSE(f.newly_lost);
  EXPECT_FALSE(f.lost(1000));

  // The reordering timer fires: lost, nothing more pending.
  EXPECT_EQ(f.detect(30 * kMs + t), 0u);
  EXPECT_TRUE(f.newly_lost);
  EXPECT_TRUE(f.lost(1000));
  EXPECT_FALSE(f.lost(2000));
  EXPECT_EQ(f.rack.marked_lost(), 1u);
  EXPECT_EQ(f.lost_pieces(), segs({{1000, 1000}}));
  EXPECT_EQ(f.rack.lost_bytes(f.sb), 1000u);

  // Marked once: another run neither marks it again nor arms a timer.
  EXPECT_EQ(f.detect(40 * kMs), 0u);
  EXPECT_FALSE(f.newly_lost);
  EXPECT_EQ(f.rack.marked_lost(), 1u);
}

TEST(Rack, TimeoutLastsUntilTheLastPendingSegmentIsDue) {
  Flow f;
  prime(f);
  f.send(kMss, 20 * kMs);              // [1000, 2000)
  f.send(kMss, 20 * kMs + 500 * kUs);  // [2000, 3000)
  f.send(kMss, 21 * kMs);              // [3000, 4000)
  // [3000, 4000) SACKed at 31 ms: RACK.rtt 10 ms; the first two have 1.5 ms and 2 ms left.
  EXPECT_EQ(f.ack(1000, {B(3000, 4000)}, 31 * kMs), 2 * kMs);
  EXPECT_FALSE(f.newly_lost);
  EXPECT_EQ(f.detect(32 * kMs + 500 * kUs), 500 * kUs);  // the first one is lost, the second not yet
  EXPECT_TRUE(f.newly_lost);
  EXPECT_TRUE(f.lost(1000));
  EXPECT_FALSE(f.lost(2000));
  EXPECT_EQ(f.detect(33 * kMs), 0u);
  EXPECT_TRUE(f.lost(2000));
  EXPECT_EQ(f.lost_pieces(), segs({{1000, 1000}, {2000, 1000}}));
}

TEST(Rack, DupThreshSegmentsSackedWithoutReorderingMeansLostAtOnce) {
  Flow f;
  prime(f);
  for (int i = 0; i < 4; ++i) f.send(kMss, 20 * kMs);         // [1000, 5000)
  const uint64_t t = f.ack(1000, {B(2000, 5000)}, 30 * kMs);  // three segments SACKed
  EXPECT_EQ(f.reo_wnd(), 0u);
  EXPECT_EQ(t, 0u);
  EXPECT_TRUE(f.newly_lost);
  EXPECT_TRUE(f.lost(1000));
  EXPECT_EQ(f.lost_pieces(), segs({{1000, 1000}}));
  EXPECT_EQ(f.rack.lost_bytes(f.sb), 1000u);
}

TEST(Rack, InRecoveryWithoutReorderingTheWindowIsZero) {
  Flow f;
  prime(f);
  f.send(kMss, 20 * kMs);
  f.send(kMss, 20 * kMs);
  f.in_recovery = true;
  EXPECT_EQ(f.ack(1000, {B(2000, 3000)}, 30 * kMs), 0u);  // one segment SACKed, yet lost at once
  EXPECT_EQ(f.reo_wnd(), 0u);
  EXPECT_TRUE(f.newly_lost);
  EXPECT_TRUE(f.lost(1000));
}

TEST(Rack, RackRttComesFromTheMostRecentlySentDeliveredSegment) {
  Flow f;
  prime(f);
  f.send(kMss, 20 * kMs);  // [1000, 2000)
  f.send(kMss, 25 * kMs);  // [2000, 3000)
  f.send(kMss, 25 * kMs);
  f.send(kMss, 25 * kMs);
  // [2000, 5000) SACKed at 30 ms: RACK.rtt 5 ms, reo_wnd 0; [1000, 2000) is 10 ms old: lost.
  EXPECT_EQ(f.ack(1000, {B(2000, 5000)}, 30 * kMs), 0u);
  EXPECT_EQ(f.rack.rtt_ns(), 5 * kMs);
  EXPECT_TRUE(f.lost(1000));
  // A segment sent after the delivered one is never judged by it, however old.
  Flow g;
  prime(g);
  g.send(kMss, 20 * kMs);  // [1000, 2000): delivered first
  g.send(kMss, 21 * kMs);  // [2000, 3000): sent after it
  EXPECT_EQ(g.ack(2000, {}, 30 * kMs), 0u);
  EXPECT_EQ(g.detect(100 * kMs), 0u);
  EXPECT_FALSE(g.newly_lost);
  EXPECT_FALSE(g.lost(2000));
}

// ---- 3: reordering ----

TEST(Rack, LateDeliveryOfNeverRetransmittedSegmentSetsReorderingSeen) {
  Flow f;
  prime(f);
  f.send(kMss, 20 * kMs);  // [1000, 2000)
  f.send(kMss, 20 * kMs);  // [2000, 3000)
  f.ack(1000, {B(2000, 3000)}, 30 * kMs);
  EXPECT_FALSE(f.rack.reordering_seen());
  f.ack(3000, {}, 31 * kMs);  // [1000, 2000) arrives after [2000, 3000), never retransmitted
  EXPECT_TRUE(f.rack.reordering_seen());
  EXPECT_EQ(f.log.n, 0u);

  // Now the window stays min_RTT / 4 in recovery and with DupThresh segments SACKed.
  f.in_recovery = true;
  EXPECT_EQ(f.reo_wnd(), kReo);
  for (int i = 0; i < 4; ++i) f.send(kMss, 40 * kMs);  // [3000, 7000)
  EXPECT_EQ(f.ack(3000, {B(4000, 7000)}, 50 * kMs), kReo);
  EXPECT_EQ(f.reo_wnd(), kReo);
  EXPECT_FALSE(f.newly_lost);
  EXPECT_FALSE(f.lost(3000));
  f.in_recovery = false;
  EXPECT_EQ(f.reo_wnd(), kReo);
  EXPECT_EQ(f.detect(50 * kMs + kReo), 0u);
  EXPECT_TRUE(f.lost(3000));
}

TEST(Rack, SackThenCumulativeAckInOrderIsNotReordering) {
  Flow f;
  prime(f);
  for (int i = 0; i < 3; ++i) f.send(kMss, 20 * kMs);  // [1000, 4000)
  f.ack(2000, {}, 30 * kMs);
  f.ack(2000, {B(2000, 3000)}, 30 * kMs + 50 * kUs);  // a SACK that the next ACK turns cumulative
  f.ack(4000, {}, 30 * kMs + 100 * kUs);
  EXPECT_FALSE(f.rack.reordering_seen());
  EXPECT_EQ(f.log.n, 0u);
}

// Reordering among the segments of one super-segment (a TSO burst: one on_send, one record).
TEST(Rack, LateDeliveryInsideOneSuperSegmentSetsReorderingSeen) {
  Flow f;
  prime(f);
  f.rack.on_send(S(1000), 10 * kMss, 20 * kMs, false);  // [1000, 11000), one record
  f.nxt = S(11000);
  f.ack(1000, {B(4000, 7000)}, 30 * kMs);  // segments 4..6 arrive first
  EXPECT_FALSE(f.rack.reordering_seen());
  // Segments 1..3 (never retransmitted) arrive after them: RFC 8985 §6.2 step 3, each newly
  // acknowledged with end_seq < RACK.fack and not retransmitted: reordering.
  f.ack(4000, {B(4000, 7000)}, 30 * kMs + 200 * kUs);
  if (!f.rack.reordering_seen()) {
    FAIL() << "reordering inside one super-segment record is never detected: on_ack only "
              "counts a record as newly delivered when its highest delivered byte (dend) "
              "advances, so [1000,4000) cumulatively ACKed after [4000,7000) was SACKed (same "
              "record [1000,11000)) does not reach the step-3 check (reordering_seen stays false)";
  }
  EXPECT_TRUE(f.rack.reordering_seen());
}

// ---- 4: D-SACK ----

TEST(Rack, DsackRaisesWindowMultiplierOncePerRound) {
  Flow f;
  prime(f);
  for (int i = 0; i < 4; ++i) f.send(kMss, 20 * kMs);  // [1000, 5000): the round ends at 5000
  EXPECT_EQ(f.rack.reo_wnd_mult(), 1u);
  f.ack(2000, {}, 30 * kMs, /*dsack=*/true);
  EXPECT_EQ(f.rack.reo_wnd_mult(), 2u);
  EXPECT_EQ(f.reo_wnd(), 2 * kReo);
  f.ack(3000, {}, 30 * kMs + 100 * kUs, /*dsack=*/true);  // the same round: no second step
  EXPECT_EQ(f.rack.reo_wnd_mult(), 2u);
  f.ack(4000, {}, 30 * kMs + 200 * kUs, /*dsack=*/true);
  EXPECT_EQ(f.rack.reo_wnd_mult(), 2u);
  f.send(kMss, 31 * kMs);                                 // [5000, 6000)
  f.ack(5000, {}, 31 * kMs + 100 * kUs, /*dsack=*/true);  // SND.UNA reached the round's SND.NXT
  EXPECT_EQ(f.rack.reo_wnd_mult(), 3u);
  EXPECT_EQ(f.reo_wnd(), 3 * kReo);
  f.ack(5500, {}, 31 * kMs + 200 * kUs, /*dsack=*/true);  // round now ends at 6000
  EXPECT_EQ(f.rack.reo_wnd_mult(), 3u);
}

TEST(Rack, DsackMultiplierPersistsSixteenRecoveries) {
  Flow f;
  prime(f);
  f.send(kMss, 20 * kMs);
  f.ack(1000, {}, 30 * kMs, /*dsack=*/true);
  EXPECT_EQ(f.rack.reo_wnd_mult(), 2u);
  for (int i = 0; i < 15; ++i) f.rack.on_recovery_exit();
  EXPECT_EQ(f.rack.reo_wnd_mult(), 2u);
  f.rack.on_recovery_exit();
  EXPECT_EQ(f.rack.reo_wnd_mult(), 1u);
  EXPECT_EQ(f.reo_wnd(), kReo);
  // A fresh D-SACK starts a fresh count of 16.
  f.ack(2000, {}, 31 * kMs, /*dsack=*/true);
  EXPECT_EQ(f.rack.reo_wnd_mult(), 2u);
  for (int i = 0; i < 10; ++i) f.rack.on_recovery_exit();
  f.send(kMss, 32 * kMs);
  f.ack(3000, {}, 33 * kMs, /*dsack=*/true);  // a new round: 3, and the count restarts at 16
  EXPECT_EQ(f.rack.reo_wnd_mult(), 3u);
  for (int i = 0; i < 15; ++i) f.rack.on_recovery_exit();
  EXPECT_EQ(f.rack.reo_wnd_mult(), 3u);
  f.rack.on_recovery_exit();
  EXPECT_EQ(f.rack.reo_wnd_mult(), 1u);
}

TEST(Rack, ReorderingWindowIsCappedAtSrtt) {
  Flow f;
  prime(f);
  // Each D-SACK ACK with SND.UNA = SND.NXT ends the last round and starts the next.
  for (int i = 0; i < 4; ++i) f.ack(1000, {}, (11 + i) * kMs, /*dsack=*/true);
  EXPECT_EQ(f.rack.reo_wnd_mult(), 5u);
  f.srtt = 12 * kMs;
  EXPECT_EQ(f.reo_wnd(), 12 * kMs);  // 5 * 10 ms / 4 = 12.5 ms, capped at SRTT
  f.srtt = 20 * kMs;
  EXPECT_EQ(f.reo_wnd(), 12'500'000u);
  f.srtt = 0;  // no SRTT yet: no cap
  EXPECT_EQ(f.reo_wnd(), 12'500'000u);

  // The capped window is what detect_loss uses.
  f.srtt = 12 * kMs;
  f.send(kMss, 20 * kMs);
  f.send(kMss, 20 * kMs);
  EXPECT_EQ(f.ack(1000, {B(2000, 3000)}, 30 * kMs), 12 * kMs);
  EXPECT_EQ(f.detect(42 * kMs - 1 * kUs), 1 * kUs);
  EXPECT_FALSE(f.lost(1000));
  EXPECT_EQ(f.detect(42 * kMs), 0u);
  EXPECT_TRUE(f.lost(1000));
}

// ---- 5: retransmissions ----

// prime; [1000, 2000) and [2000, 3000) at 20 ms; [2000, 3000) SACKed at 30 ms; [1000, 2000) lost at
// 32.5 ms and retransmitted then.
void lose_and_retransmit(Flow& f) {
  prime(f);
  f.send(kMss, 20 * kMs);
  f.send(kMss, 20 * kMs);
  ASSERT_EQ(f.ack(1000, {B(2000, 3000)}, 30 * kMs), kReo);
  ASSERT_EQ(f.detect(32 * kMs + 500 * kUs), 0u);
  ASSERT_TRUE(f.lost(1000));
  f.resend(1000, kMss, 32 * kMs + 500 * kUs);
}

TEST(Rack, RetransmissionIsJudgedByItsOwnTransmitTime) {
  Flow f;
  lose_and_retransmit(f);
  EXPECT_FALSE(f.lost(1000));  // retransmitted: no longer to repair
  ASSERT_NE(f.rec_at(S(1000)), nullptr);
  EXPECT_TRUE(f.rec_at(S(1000))->flags & TxLog::kRetrans);
  EXPECT_EQ(f.rack.lost_bytes(f.sb), 0u);
  EXPECT_FALSE(f.rack.next_lost(f.sb, f.una, kMss).has_value());
  // Nothing sent after the retransmission is delivered: it is not judged, however long it takes.
  EXPECT_EQ(f.detect(40 * kMs), 0u);
  EXPECT_FALSE(f.newly_lost);
  EXPECT_FALSE(f.lost(1000));

  f.send(kMss, 33 * kMs);  // [3000, 4000), after the retransmission
  // [3000, 4000) SACKed at 43 ms (RACK.rtt 10 ms, reo_wnd 2.5 ms): the retransmission is 10.5 ms
  // old, 2 ms to go.
  EXPECT_EQ(f.ack(1000, {B(2000, 4000)}, 43 * kMs), 2 * kMs);
  EXPECT_EQ(f.rack.rtt_ns(), kRtt);
  EXPECT_FALSE(f.newly_lost);
  EXPECT_FALSE(f.lost(1000));
  // Lost retransmission: marked lost again once its own RACK.rtt + reo_wnd passed.
  EXPECT_EQ(f.detect(45 * kMs), 0u);
  EXPECT_TRUE(f.newly_lost);
  EXPECT_TRUE(f.lost(1000));
  EXPECT_EQ(f.rack.marked_lost(), 2u);
  EXPECT_EQ(f.lost_pieces(), segs({{1000, 1000}}));
}

TEST(Rack, AckSoonerThanMinRttAfterRetransmissionDoesNotUpdateRackRtt) {
  Flow f;
  lose_and_retransmit(f);
  // The original [1000, 2000) arrives 1.5 ms after the retransmission: the ACK is ambiguous and, as
  // it came sooner than min_RTT, credited to the original (RFC 8985 §6.2 step 2).
  f.ack(3000, {}, 34 * kMs);
  EXPECT_EQ(f.rack.rtt_ns(), kRtt);
  EXPECT_EQ(f.rack.min_rtt_ns(), kRtt);
  EXPECT_FALSE(f.rack.reordering_seen());  // a retransmitted segment never proves reordering
  EXPECT_EQ(f.log.n, 0u);
}

TEST(Rack, AckOfRetransmissionAfterMinRttUpdatesRackRttButNotMinRtt) {
  Flow f;
  lose_and_retransmit(f);
  f.ack(3000, {}, 32 * kMs + 500 * kUs + 11 * kMs);  // 11 ms after the retransmission
  EXPECT_EQ(f.rack.rtt_ns(), 11 * kMs);
  EXPECT_EQ(f.rack.min_rtt_ns(), kRtt);
  EXPECT_FALSE(f.rack.reordering_seen());
  // An ambiguous sample shorter than min_RTT never lowers it either.
  Flow g;
  lose_and_retransmit(g);
  g.ack(3000, {}, 32 * kMs + 500 * kUs + 9 * kMs);
  EXPECT_EQ(g.rack.min_rtt_ns(), kRtt);
  EXPECT_EQ(g.rack.rtt_ns(), kRtt);
}

TEST(Rack, RetransmittedPieceOfRecordSplitsItAndKeepsTheRestLost) {
  Flow f;
  prime(f);
  f.rack.on_send(S(1000), 4 * kMss, 20 * kMs, false);  // [1000, 5000)
  f.rack.on_send(S(5000), 3 * kMss, 20 * kMs, false);  // [5000, 8000)
  f.nxt = S(8000);
  f.ack(1000, {B(5000, 8000)}, 30 * kMs);
  EXPECT_EQ(f.rack.lost_bytes(f.sb), 4000u);
  f.resend(2000, kMss, 30 * kMs);  // a piece in the middle: three records now
  EXPECT_EQ(f.log.n, 4u);
  EXPECT_TRUE(f.lost(1000));
  EXPECT_FALSE(f.lost(2000));
  EXPECT_TRUE(f.lost(3000));
  EXPECT_EQ(f.rack.lost_bytes(f.sb), 3000u);
  EXPECT_EQ(f.lost_pieces(), segs({{1000, 1000}, {3000, 1000}, {4000, 1000}}));
}

// ---- 6, 7: next_lost ----

TEST(Rack, SuperSegmentPartlySackedResendsHolesBelowHighestSackPieceByPiece) {
  Flow f;
  prime(f);
  f.rack.on_send(S(1000), 10 * kMss, 20 * kMs, false);  // [1000, 11000): one record
  f.nxt = S(11000);
  ASSERT_EQ(f.log.n, 1u);
  // Segments 3, 5 and 6 SACKed: three segments, no reordering seen: reo_wnd 0.
  EXPECT_EQ(f.ack(1000, {B(5000, 7000), B(3000, 4000)}, 30 * kMs), 0u);
  EXPECT_TRUE(f.newly_lost);
  // The part below the highest SACKed byte is lost; the same burst's bytes above are not judged.
  EXPECT_TRUE(f.lost(1000));
  EXPECT_TRUE(f.lost(6999));
  EXPECT_FALSE(f.lost(7000));
  EXPECT_FALSE(f.lost(10999));
  EXPECT_EQ(f.rack.lost_bytes(f.sb), 3000u);

  EXPECT_EQ(f.lost_pieces(), segs({{1000, 1000}, {2000, 1000}, {4000, 1000}}));
  EXPECT_EQ(f.lost_pieces(1500), segs({{1000, 1500}, {2500, 500}, {4000, 1000}}));
  EXPECT_EQ(f.rack.next_lost(f.sb, S(3500), kMss), (Seg{S(4000), 1000}));  // from inside a SACKed range
  EXPECT_EQ(f.rack.next_lost(f.sb, S(4500), kMss), (Seg{S(4500), 500}));
  EXPECT_FALSE(f.rack.next_lost(f.sb, S(5000), kMss).has_value());
  EXPECT_FALSE(f.rack.next_lost(f.sb, S(1000), 0).has_value());

  // The recovery output resends piece by piece; each resend takes its piece off the list.
  const uint64_t now = 30 * kMs;
  std::vector<Seg> sent;
  while (auto seg = f.rack.next_lost(f.sb, f.una, kMss)) {
    sent.push_back(*seg);
    f.resend(seg->seq, seg->len, now);
    ASSERT_LT(sent.size(), 10u);
  }
  EXPECT_EQ(sent, segs({{1000, 1000}, {2000, 1000}, {4000, 1000}}));
  EXPECT_EQ(f.rack.lost_bytes(f.sb), 0u);

  // Long after, the top of the burst is still not judged lost (nothing sent after it was delivered),
  // and the retransmissions are not either.
  EXPECT_EQ(f.detect(100 * kMs), 0u);
  EXPECT_FALSE(f.newly_lost);
  EXPECT_FALSE(f.lost(7000));
  EXPECT_FALSE(f.rack.next_lost(f.sb, f.una, kMss).has_value());
}

TEST(Rack, NextLostSkipsSackedRangesSpanningSeveralRecords) {
  Flow f;
  prime(f);
  f.rack.on_send(S(1000), 2000, 20 * kMs, false);  // R0 [1000, 3000)
  f.rack.on_send(S(3000), 2000, 20 * kMs, false);  // R1 [3000, 5000)
  f.rack.on_send(S(5000), 2000, 20 * kMs, false);  // R2 [5000, 7000)
  f.rack.on_send(S(7000), 1000, 20 * kMs, false);  // R3 [7000, 8000)
  f.nxt = S(8000);
  // [2500, 5500) covers the end of R0, all of R1 and the start of R2.
  EXPECT_EQ(f.ack(1000, {B(7000, 8000), B(6000, 6500), B(2500, 5500), B(1500, 2000)}, 30 * kMs), 0u);
  ASSERT_EQ(f.log.n, 4u);
  EXPECT_TRUE(f.lost(1000));
  EXPECT_FALSE(f.lost(3000));  // fully SACKed: delivered, never lost
  EXPECT_TRUE(f.lost(5000));
  EXPECT_FALSE(f.lost(7000));
  EXPECT_EQ(f.lost_pieces(), segs({{1000, 500}, {2000, 500}, {5500, 500}, {6500, 500}}));
  EXPECT_EQ(f.rack.lost_bytes(f.sb), 2000u);
  EXPECT_EQ(f.rack.next_lost(f.sb, S(2500), kMss), (Seg{S(5500), 500}));
  EXPECT_EQ(f.rack.next_lost(f.sb, S(3000), kMss), (Seg{S(5500), 500}));
  EXPECT_EQ(f.rack.next_lost(f.sb, S(5200), kMss), (Seg{S(5500), 500}));
  EXPECT_EQ(f.rack.next_lost(f.sb, S(6000), kMss), (Seg{S(6500), 500}));
  EXPECT_EQ(f.rack.next_lost(f.sb, S(6700), 100), (Seg{S(6700), 100}));
  EXPECT_FALSE(f.rack.next_lost(f.sb, S(7000), kMss).has_value());
}

// ---- 8: lost_bytes ----

TEST(Rack, LostBytesCountsOnlyUnsackedBytesOfLostRecords) {
  Flow f;
  prime(f);
  f.rack.on_send(S(1000), 5 * kMss, 20 * kMs, false);  // R [1000, 6000)
  f.rack.on_send(S(6000), kMss, 21 * kMs, false);      // T [6000, 7000)
  f.rack.on_send(S(7000), kMss, 22 * kMs, false);      // U [7000, 8000): sent after T
  f.nxt = S(8000);
  EXPECT_EQ(f.ack(1000, {B(6000, 7000), B(4000, 5000), B(2000, 3000)}, 31 * kMs), 0u);
  EXPECT_TRUE(f.lost(1000));
  EXPECT_FALSE(f.lost(7000));  // unSACKed but sent after T: not lost, not counted
  // R's unSACKed bytes: [1000, 2000) [3000, 4000) [5000, 6000).
  EXPECT_EQ(f.rack.lost_bytes(f.sb), 3000u);
  EXPECT_LE(f.rack.lost_bytes(f.sb), static_cast<uint32_t>(f.nxt - f.una) - f.sb.sacked_bytes());

  f.ack(1000, {B(5000, 6000)}, 32 * kMs);  // more of R SACKed
  EXPECT_EQ(f.rack.lost_bytes(f.sb), 2000u);
  f.resend(1000, kMss, 32 * kMs);
  EXPECT_EQ(f.rack.lost_bytes(f.sb), 1000u);
  EXPECT_EQ(f.lost_pieces(), segs({{3000, 1000}}));
  f.resend(3000, kMss, 32 * kMs);
  EXPECT_EQ(f.rack.lost_bytes(f.sb), 0u);
  EXPECT_FALSE(f.rack.next_lost(f.sb, f.una, kMss).has_value());
}

// ---- 9: cumulative ACKs ----

TEST(Rack, CumulativeAckTrimsTheLog) {
  Flow f;
  prime(f);
  EXPECT_EQ(f.log.base, S(1000));
  for (int i = 0; i < 3; ++i) f.send(kMss, 20 * kMs);  // [1000, 4000)
  ASSERT_EQ(f.log.n, 3u);
  f.ack(2500, {}, 30 * kMs);
  ASSERT_EQ(f.log.n, 2u);  // [1000, 2000) gone, [2000, 3000) keeps [2500, 3000)
  EXPECT_EQ(f.log.base, S(2500));
  EXPECT_EQ(f.log.rec[0].end, S(3000));
  EXPECT_EQ(f.log.rec[1].end, S(4000));
  f.ack(4000, {}, 31 * kMs);
  EXPECT_EQ(f.log.n, 0u);
  EXPECT_EQ(f.log.base, S(4000));
  f.send(kMss, 40 * kMs);
  ASSERT_EQ(f.log.n, 1u);
  EXPECT_EQ(f.log.base, S(4000));
  EXPECT_EQ(f.log.rec[0].end, S(5000));
  // A late transmission entirely below SND.UNA changes nothing.
  f.resend(3000, kMss, 41 * kMs);
  EXPECT_EQ(f.log.n, 1u);
  EXPECT_EQ(f.log.base, S(4000));
}

TEST(Rack, LostRecordPartlyAckedIsResentFromSndUna) {
  Flow f;
  prime(f);
  f.rack.on_send(S(1000), 3 * kMss, 20 * kMs, false);  // [1000, 4000)
  f.rack.on_send(S(4000), 3 * kMss, 20 * kMs, false);  // [4000, 7000)
  f.nxt = S(7000);
  EXPECT_EQ(f.ack(1000, {B(4000, 7000)}, 30 * kMs), 0u);
  EXPECT_EQ(f.rack.lost_bytes(f.sb), 3000u);
  f.ack(2000, {}, 31 * kMs);  // [1000, 2000) was not lost after all: reordered
  EXPECT_TRUE(f.rack.reordering_seen());
  ASSERT_EQ(f.log.n, 2u);
  EXPECT_EQ(f.log.base, S(2000));
  EXPECT_TRUE(f.lost(2000));
  EXPECT_EQ(f.rack.lost_bytes(f.sb), 2000u);
  EXPECT_EQ(f.lost_pieces(), segs({{2000, 1000}, {3000, 1000}}));
}

TEST(Rack, SequenceNumbersWrapAround) {
  Flow f(0xFFFF'EC18u);
  prime(f);
  ASSERT_EQ(f.una, S(0xFFFF'F000u));                   // the flight starts 4096 bytes below the wrap
  for (int i = 0; i < 8; ++i) f.send(kMss, 20 * kMs);  // [-4096, 3904)
  EXPECT_EQ(f.ack(0xFFFF'F000u, {B(0xFFFF'F3E8u, 3904)}, 30 * kMs), 0u);
  EXPECT_TRUE(f.lost(0xFFFF'F000u));
  EXPECT_EQ(f.lost_pieces(), segs({{0xFFFF'F000u, 1000}}));
  EXPECT_EQ(f.rack.lost_bytes(f.sb), 1000u);
  f.ack(10, {B(0xFFFF'F3E8u, 3904)}, 31 * kMs);
  EXPECT_EQ(f.log.base, S(10));
  EXPECT_EQ(f.rack.lost_bytes(f.sb), 0u);
}

// ---- 10: bounded log ----

TEST(Rack, FullLogJoinsNewDataToLastRecord) {
  Flow f;
  prime(f);
  const uint32_t n = TxLog::kCap + 36;
  for (uint32_t i = 0; i < n; ++i) f.send(kMss, 20 * kMs + i * kUs);
  EXPECT_EQ(f.log.n, TxLog::kCap);
  EXPECT_EQ(f.rack.log_full(), 36u);
  EXPECT_EQ(f.log.base, S(1000));
  EXPECT_EQ(f.log.rec[TxLog::kCap - 1].end, f.nxt);
  EXPECT_EQ(f.log.start(TxLog::kCap - 1), S(1000 + (TxLog::kCap - 1) * kMss));
  for (uint32_t i = 1; i < f.log.n; ++i) EXPECT_LT(f.log.start(i), f.log.rec[i].end);

  // Retransmissions needing a split while full: the whole record takes the new time.
  const uint64_t before = f.rack.log_full();
  f.resend(1500, 500, 25 * kMs);  // the upper half of [1000, 2000)
  EXPECT_EQ(f.log.n, TxLog::kCap);
  EXPECT_GT(f.rack.log_full(), before);
  EXPECT_TRUE(f.rec_at(S(1000))->flags & TxLog::kRetrans);
  EXPECT_EQ(f.rec_at(S(1000))->ts_us, 25 * kMs / kUs);
  const SeqNum mid = S(1000 + (TxLog::kCap + 5) * kMss);  // inside the joined last record
  f.resend(mid, kMss, 26 * kMs);
  EXPECT_EQ(f.log.n, TxLog::kCap);
  EXPECT_TRUE(f.rec_at(mid)->flags & TxLog::kRetrans);
  EXPECT_EQ(f.rec_at(S(1000 + (TxLog::kCap - 1) * kMss))->ts_us, 26 * kMs / kUs);

  // Losses still work: SACK above the second record; it and the ones below are lost.
  f.ack(1000, {B(4000, 7000)}, 40 * kMs);
  EXPECT_TRUE(f.newly_lost);
  EXPECT_FALSE(f.lost(1000));  // retransmitted at 25 ms, after [4000, 7000): not judged
  EXPECT_TRUE(f.lost(2000));
  EXPECT_TRUE(f.lost(3000));
  EXPECT_EQ(f.lost_pieces(), segs({{2000, 1000}, {3000, 1000}}));
  f.resend(2000, 2 * kMss, 40 * kMs);  // no split needed: two whole records
  EXPECT_EQ(f.rack.lost_bytes(f.sb), 0u);
  f.ack(f.nxt, {}, 50 * kMs);
  EXPECT_EQ(f.log.n, 0u);
}

TEST(Rack, FullLogWithDeliveredSuperSegmentLeavesItUnjudged) {
  Flow f;
  prime(f);
  for (uint32_t i = 0; i < TxLog::kCap + 20; ++i) f.send(kMss, 20 * kMs);
  ASSERT_EQ(f.log.n, TxLog::kCap);
  const uint32_t last = 1000 + (TxLog::kCap - 1) * kMss;  // the joined record [last, nxt)
  const uint64_t before = f.rack.log_full();
  // A SACK inside the joined record: RACK's segment; the record can not be split to judge its lower
  // part, so that part is left for later (the records before it are judged).
  f.ack(1000, {B(last + 5000, last + 8000)}, 30 * kMs);
  EXPECT_TRUE(f.lost(1000));
  EXPECT_FALSE(f.lost(last));
  EXPECT_GT(f.rack.log_full(), before);
  EXPECT_EQ(f.log.n, TxLog::kCap);
}

TEST(Rack, FullLogNewDataJoiningLostRecordUnmarksIt) {
  Flow f;
  prime(f);
  for (uint32_t i = 0; i < TxLog::kCap; ++i) f.send(kMss, 20 * kMs);  // [1000, 65000), full
  ASSERT_EQ(f.log.n, TxLog::kCap);
  f.resend(1000, kMss, 25 * kMs);  // a whole record: no split needed
  EXPECT_EQ(f.rack.log_full(), 0u);
  // The retransmission is SACKed: everything sent before it is lost (15 ms old, RACK.rtt 10 ms).
  f.ack(1000, {B(1000, 2000)}, 35 * kMs);
  EXPECT_TRUE(f.lost(2000));
  EXPECT_TRUE(f.lost(64000));
  EXPECT_EQ(f.rack.lost_bytes(f.sb), 63'000u);
  // New data joins the last record, which takes the new time and is no longer lost: its old bytes
  // are judged again later; the new bytes are never named lost before they could be.
  f.send(kMss, 36 * kMs);
  EXPECT_EQ(f.log.n, TxLog::kCap);
  EXPECT_EQ(f.rack.log_full(), 1u);
  EXPECT_FALSE(f.lost(64000));
  EXPECT_FALSE(f.lost(65000));
  EXPECT_EQ(f.rack.lost_bytes(f.sb), 62'000u);
  EXPECT_FALSE(f.rack.next_lost(f.sb, S(64000), kMss).has_value());
}

// The timer detect_loss() asks for must not fire before the loss it waits for can be marked.
TEST(Rack, ReorderingTimeoutIsNotEarlyWithSubMicrosecondWindow) {
  Flow f;
  f.send(kMss, 0);
  f.ack(1000, {}, 10'001 * kUs);  // min_RTT 10.001 ms: reo_wnd 2.50025 ms
  f.send(kMss, 20 * kMs);
  f.send(kMss, 20 * kMs);
  uint64_t now = 30'002 * kUs;  // RACK.rtt 10.002 ms
  const uint64_t t = f.ack(1000, {B(2000, 3000)}, now);
  EXPECT_EQ(f.reo_wnd(), 2'500'250u);
  // The delay is rounded up to the log's microseconds: never early, at most 1 us late.
  EXPECT_GE(t, 2'500'250u);
  EXPECT_LT(t, 2'500'250u + 1000);
  now += t;
  const uint64_t again = f.detect(now);
  if (!f.lost(1000)) {
    FAIL() << "detect_loss() returned " << t << " ns but at now + that it marks "
           << "nothing and asks for " << again << " ns more: times are truncated to microseconds "
           << "(elapsed_ns) while the threshold RACK.rtt + reo_wnd keeps a sub-microsecond part "
           << "(min_RTT / 4), so the timer fires up to 999 ns early, repeatedly";
  }
  EXPECT_EQ(again, 0u);
  EXPECT_TRUE(f.lost(1000));
}

// Invariants of the log and of next_lost/lost_bytes against the scoreboard.
::testing::AssertionResult consistent(const Flow& f, uint32_t mss) {
  const TxLog& l = f.log;
  if (l.n > TxLog::kCap) return ::testing::AssertionFailure() << "n " << l.n;
  if (l.n == 0) {
    if (f.una != f.nxt) return ::testing::AssertionFailure() << "empty log with data in flight";
  } else {
    if (l.base != f.una) return ::testing::AssertionFailure() << "base " << l.base.v << " una " << f.una.v;
    if (l.rec[l.n - 1].end != f.nxt) {
      return ::testing::AssertionFailure() << "last end " << l.rec[l.n - 1].end.v << " nxt " << f.nxt.v;
    }
  }
  for (uint32_t i = 0; i < l.n; ++i) {
    if (!(l.start(i) < l.rec[i].end)) return ::testing::AssertionFailure() << "record " << i << " empty";
  }
  // lost bytes, counted from the ranges directly
  uint32_t expect_lost = 0;
  for (uint32_t i = 0; i < l.n; ++i) {
    if (!(l.rec[i].flags & TxLog::kLost)) continue;
    const SeqNum s = l.start(i);
    const SeqNum e = l.rec[i].end;
    uint32_t b = static_cast<uint32_t>(e - s);
    for (const auto& r : f.sb.ranges()) {
      const SeqNum lo = wire::seq_max(r.left, s);
      const SeqNum hi = wire::seq_min(r.right, e);
      if (lo < hi) b -= static_cast<uint32_t>(hi - lo);
    }
    expect_lost += b;
  }
  const uint32_t lost = f.rack.lost_bytes(f.sb);
  if (lost != expect_lost)
    return ::testing::AssertionFailure() << "lost_bytes " << lost << " vs " << expect_lost;
  const uint32_t unsacked = static_cast<uint32_t>(f.nxt - f.una) - f.sb.sacked_bytes();
  if (lost > unsacked) return ::testing::AssertionFailure() << "lost " << lost << " > unsacked " << unsacked;
  // next_lost, walked from SND.UNA: each piece inside one lost record, unSACKed; all add up to lost_bytes.
  uint32_t walked = 0;
  SeqNum from = f.una;
  for (int k = 0; k < 100'000; ++k) {
    auto seg = f.rack.next_lost(f.sb, from, mss);
    if (!seg) break;
    if (seg->len == 0 || seg->len > mss) return ::testing::AssertionFailure() << "len " << seg->len;
    if (seg->seq < from) return ::testing::AssertionFailure() << "piece below from";
    const TxLog::Rec* r = f.rec_at(seg->seq);
    if (r == nullptr || !(r->flags & TxLog::kLost)) {
      return ::testing::AssertionFailure() << "piece at " << seg->seq.v << " not in a lost record";
    }
    if (seg->seq + seg->len > r->end) return ::testing::AssertionFailure() << "piece beyond its record";
    for (const auto& rg : f.sb.ranges()) {
      if (rg.left < seg->seq + seg->len && seg->seq < rg.right) {
        return ::testing::AssertionFailure() << "piece at " << seg->seq.v << " SACKed";
      }
    }
    walked += seg->len;
    from = seg->seq + seg->len;
  }
  if (walked != lost)
    return ::testing::AssertionFailure() << "next_lost walk " << walked << " vs lost " << lost;
  return ::testing::AssertionSuccess();
}

void random_model(uint32_t isn, uint32_t seed) {
  Flow f(isn);
  std::mt19937 rng(seed);
  auto rnd = [&](uint32_t n) { return n == 0 ? 0u : static_cast<uint32_t>(rng() % n); };
  uint64_t now = 1 * kMs;
  constexpr uint32_t kMaxFlight = 40'000;
  uint32_t max_n = 0;
  for (int step = 0; step < 2000; ++step) {
    now += rnd(3000) * kUs + rnd(1000);  // not microsecond-aligned
    const uint32_t flight = static_cast<uint32_t>(f.nxt - f.una);
    const uint32_t op = rnd(10);
    if (op < 4) {
      if (flight < kMaxFlight) f.send(1 + rnd(op == 0 ? 10 * kMss : kMss / 2), now);
    } else if (op < 7) {
      SeqNum ack = f.una;
      if (rnd(8) == 0) ack = f.una + rnd(flight / 2 + 1);
      std::vector<SackBlock> blocks;
      const uint32_t left = static_cast<uint32_t>(f.nxt - ack);
      for (uint32_t k = rnd(5); k > 0 && left > 0; --k) {
        const uint32_t a = rnd(left);
        const uint32_t b = a + 1 + rnd(left - a);
        blocks.push_back(SackBlock{ack + a, ack + b});
      }
      f.ack(ack, blocks, now, rnd(10) == 0);
    } else if (op < 9) {
      if (flight == 0) continue;
      if (auto seg = f.rack.next_lost(f.sb, f.una, kMss); seg && rnd(4) != 0) {
        f.resend(seg->seq, seg->len, now);
      } else {
        const uint32_t a = rnd(flight);
        f.resend(f.una + a, 1 + rnd(std::min<uint32_t>(flight - a, 3 * kMss)), now);
      }
    } else {
      f.detect(now);
      if (rnd(4) == 0) {
        if (f.in_recovery) f.rack.on_recovery_exit();
        f.in_recovery = !f.in_recovery;
      }
    }
    ASSERT_TRUE(consistent(f, kMss)) << "step " << step << " op " << op;
    max_n = std::max(max_n, f.log.n);
  }
  EXPECT_EQ(max_n, TxLog::kCap);
  // The run exercised the interesting paths.
  EXPECT_GT(f.rack.marked_lost(), 0u);
  EXPECT_GT(f.rack.log_full(), 0u);
}

TEST(Rack, RandomizedOperationsKeepLogAndRepairListConsistent) {
  for (uint32_t seed = 1; seed <= 8; ++seed) {
    SCOPED_TRACE(seed);
    random_model(1000, seed);
    if (HasFatalFailure()) return;
  }
}

TEST(Rack, RandomizedOperationsAcrossSequenceWrap) {
  for (uint32_t seed = 101; seed <= 104; ++seed) {
    SCOPED_TRACE(seed);
    random_model(0xFFFF'8000u, seed);
    if (HasFatalFailure()) return;
  }
}

TEST(Rack, WithoutLogNothingIsDetected) {
  Rack r;
  SackScoreboard sb;
  r.on_send(S(0), 1000, 0, false);
  r.on_ack(S(1000), S(1000), sb, false, kRtt);
  bool lost = true;
  EXPECT_EQ(r.detect_loss(sb, kRtt, false, kMss, 2 * kRtt, &lost), 0u);
  EXPECT_FALSE(lost);
  EXPECT_FALSE(r.next_lost(sb, S(0), kMss).has_value());
  EXPECT_EQ(r.lost_bytes(sb), 0u);
  EXPECT_EQ(r.take_log(), nullptr);
}

}  // namespace
}  // namespace tern::tcp
