// TCP loss recovery, ECN, Fast Open and the newer socket options (issue 12), driven segment by
// segment. One tern Core is the stack under test; the test plays the peer with the scripted-peer
// harness (tcp_peer.hpp) and a fake clock. Round trips are real times on that clock (10 ms unless
// said otherwise: the fake clock moves between the stack's segment and the peer's ACK), so the
// RACK, TLP, RTO and HyStart++ timers see meaningful RTTs. Each test checks the exact segments a
// mechanism must (or must not) produce, so it fails when the mechanism is missing.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <optional>
#include <utility>
#include <vector>

#include "tcp_peer.hpp"
#include "tern/tcp/tcp.hpp"
#include "tern/wire/tcp.hpp"

namespace tern::tcp {
namespace {

using wire::SeqNum;
namespace fl = wire::tcp_flag;

constexpr uint32_t M = 1448;  // payload per segment: MSS 1460 less the 12 bytes of timestamps
constexpr uint32_t kNoTsM = 1460;
constexpr uint32_t kInf = UINT32_MAX;  // ssthresh "arbitrarily high" (RFC 5681 §3.1)

using Blocks = std::vector<std::pair<SeqNum, SeqNum>>;

class ModernTest : public TcpPeerTest {
 protected:
  /** Active open, then one segment acknowledged one RTT later (warm_up()). */
  void open() {
    open_active(syn_);
    if (HasFatalFailure()) return;
    warm_up();
  }
  /**
   * One full segment out, acknowledged kRtt later: the peer's scaled window is in place (so later
   * duplicate ACKs are duplicates, RFC 5681 §2), SRTT = kRtt, RACK.min_RTT = kRtt.
   */
  void warm_up() {
    const uint32_t mss = conn_->info().mss;
    app_send(pattern(mss, 0x55));
    Seg s = expect(fl::ack, "warm-up segment");
    ASSERT_EQ(s.len(), mss);
    advance(kRtt);
    peer_ack(s.end());
    expect_nothing("(after the warm-up ACK)");
    ASSERT_EQ(conn_->info().bytes_in_flight, 0u);
  }
  /** A pure ACK from the peer echoing @p tsecr (the TSval of the segment it acknowledges). */
  void ack_echo(SeqNum ack, uint32_t tsecr, const Blocks& sack = {}, uint8_t extra = 0) {
    wire::TcpOptions o;
    o.timestamps = wire::TcpTimestamps{++p_tsval_, tsecr};
    o.sack_count = static_cast<uint8_t>(sack.size());
    for (size_t i = 0; i < sack.size(); ++i) o.sack[i] = wire::SackBlock{sack[i].first, sack[i].second};
    send(static_cast<uint8_t>(fl::ack | extra), p_nxt_, ack, {}, o);
  }
  static uint32_t tsval(const Seg& s) { return s.opts.timestamps ? s.opts.timestamps->tsval : 0; }
  /** Segments with data among @p v. */
  static std::vector<Seg> data_of(const std::vector<Seg>& v) {
    std::vector<Seg> d;
    for (const Seg& s : v) {
      if (s.len() > 0) d.push_back(s);
    }
    return d;
  }
  /** A SYN from the peer (port @p port) to the listener with extra flags, options and data. */
  Seg syn_in(uint16_t port, uint8_t extra, const wire::TcpOptions& so, const Bytes& data = {}) {
    peer_port_ = port;
    stack_port_ = kListenPort;
    p_nxt_ = p_iss_;
    send(static_cast<uint8_t>(fl::syn | extra), p_nxt_, SeqNum{}, data, so, 65535);
    p_nxt_ += 1;
    return expect(fl::syn | fl::ack, "SYN,ACK");
  }

  PeerSyn syn_;
};

class Established : public ModernTest {
 protected:
  void SetUp() override {
    ModernTest::SetUp();
    if (HasFatalFailure()) return;
    open();
  }
};

// ===========================================================================================
// 1. Limited Transmit (RFC 3042)
// ===========================================================================================

// NewReno keeps ssthresh = FlightSize / 2 easy to read (RFC 5681 §3.1 eq. 4).
class LimitedTransmitSack : public Established {
 protected:
  LimitedTransmitSack() { params_.socket.congestion = CcAlgo::newreno; }
};

// RFC 3042 §2: the first and second duplicate ACKs each release one new segment beyond cwnd (cwnd
// itself unchanged); the third starts recovery (RFC 6675 §5 / RFC 8985) and releases no new data.
// RFC 5681 §3.2 step 2: the limited-transmit segments are not part of FlightSize for ssthresh.
TEST_F(LimitedTransmitSack, FirstTwoDupAcksEachSendOneNewSegment) {
  app_send(pattern(14 * M));
  auto segs = take_all();
  ASSERT_EQ(segs.size(), 10u) << "IW10 fills cwnd";
  const SeqNum b = segs[0].seq;
  auto S = [&](uint32_t i) { return b + i * M; };
  const uint32_t cwnd0 = conn_->info().cwnd;
  ASSERT_EQ(cwnd0, 10 * M);
  advance(kRtt);
  peer_sack(S(0), {{S(1), S(2)}});
  auto a = take_all();
  ASSERT_EQ(a.size(), 1u) << "first duplicate ACK: one new segment";
  EXPECT_EQ(a[0].seq.v, S(10).v);
  EXPECT_EQ(a[0].len(), M);
  EXPECT_EQ(conn_->info().cwnd, cwnd0) << "RFC 3042 §2: cwnd is not changed";
  EXPECT_EQ(stats().limited_transmits, 1u);
  peer_sack(S(0), {{S(1), S(3)}});
  a = take_all();
  ASSERT_EQ(a.size(), 1u) << "second duplicate ACK: one more";
  EXPECT_EQ(a[0].seq.v, S(11).v);
  EXPECT_EQ(conn_->info().cwnd, cwnd0);
  EXPECT_EQ(stats().limited_transmits, 2u);
  peer_sack(S(0), {{S(1), S(4)}});
  a = take_all();
  ASSERT_EQ(a.size(), 1u) << "third: the retransmission only, no new data";
  EXPECT_EQ(a[0].seq.v, S(0).v);
  EXPECT_EQ(stats().limited_transmits, 2u);
  EXPECT_EQ(conn_->info().ca_state, CaState::recovery);
  EXPECT_EQ(conn_->info().ssthresh, 5 * M) << "RFC 5681 §3.2 step 2: FlightSize without the LT segments";
  peer_ack(S(12));
  take_all();
  EXPECT_EQ(stats().rto_timeouts, 0u);
}

class LimitedTransmitNoSack : public Established {
 protected:
  LimitedTransmitNoSack() {
    syn_.sack = false;
    syn_.ts = false;  // plain 1460-byte segments
    params_.socket.congestion = CcAlgo::newreno;
  }
};

// RFC 3042 §2 without SACK: plain duplicate ACKs. The third is a fast retransmit (RFC 5681 §3.2):
// ssthresh from the flight without the limited-transmit segments, cwnd = ssthresh + 3 SMSS, and
// later duplicates inflate cwnd by one SMSS each (step 4) with no further limited transmit: new
// data only once cwnd exceeds what is outstanding (step 5).
TEST_F(LimitedTransmitNoSack, FirstTwoDupAcksEachSendOneNewSegment) {
  const uint32_t m = kNoTsM;
  ASSERT_FALSE(conn_->info().sack);
  ASSERT_FALSE(conn_->info().timestamps);
  app_send(pattern(20 * m));
  auto segs = take_all();
  ASSERT_EQ(segs.size(), 10u);
  const SeqNum b = segs[0].seq;
  auto S = [&](uint32_t i) { return b + i * m; };
  advance(kRtt);
  peer_ack(S(0));
  auto a = take_all();
  ASSERT_EQ(a.size(), 1u);
  EXPECT_EQ(a[0].seq.v, S(10).v);
  peer_ack(S(0));
  a = take_all();
  ASSERT_EQ(a.size(), 1u);
  EXPECT_EQ(a[0].seq.v, S(11).v);
  EXPECT_EQ(stats().limited_transmits, 2u);
  peer_ack(S(0));
  a = take_all();
  ASSERT_EQ(a.size(), 1u) << "third duplicate ACK: fast retransmit only";
  EXPECT_EQ(a[0].seq.v, S(0).v);
  EXPECT_EQ(stats().fast_retransmits, 1u);
  EXPECT_EQ(conn_->info().ssthresh, 5 * m) << "RFC 5681 §3.2 step 2";
  EXPECT_EQ(conn_->info().cwnd, 8 * m) << "RFC 5681 §3.2 step 3: ssthresh + 3 SMSS";
  // 12 segments outstanding: cwnd = 9, 10, 11, 12 SMSS after duplicates 4..7 lets nothing new out.
  for (int d = 4; d <= 7; ++d) {
    peer_ack(S(0));
    EXPECT_TRUE(take_all().empty()) << "duplicate ACK " << d << " (cwnd " << conn_->info().cwnd / m
                                    << " SMSS)";
  }
  peer_ack(S(0));
  a = take_all();
  ASSERT_EQ(a.size(), 1u) << "duplicate ACK 8: cwnd 13 SMSS > 12 outstanding";
  EXPECT_EQ(a[0].seq.v, S(12).v);
  EXPECT_EQ(stats().limited_transmits, 2u);
  peer_ack(S(13));
  take_all();
}

class LimitedTransmitOff : public Established {
 protected:
  LimitedTransmitOff() {
    params_.limited_transmit = false;
    params_.socket.congestion = CcAlgo::newreno;
  }
};

TEST_F(LimitedTransmitOff, DupAcksReleaseNothing) {
  app_send(pattern(14 * M));
  auto segs = take_all();
  ASSERT_EQ(segs.size(), 10u);
  const SeqNum b = segs[0].seq;
  auto S = [&](uint32_t i) { return b + i * M; };
  advance(kRtt);
  peer_sack(S(0), {{S(1), S(2)}});
  expect_nothing("(limited transmit off: first duplicate)");
  peer_sack(S(0), {{S(1), S(3)}});
  expect_nothing("(limited transmit off: second duplicate)");
  peer_sack(S(0), {{S(1), S(4)}});
  auto a = take_all();
  ASSERT_EQ(a.size(), 1u);
  EXPECT_EQ(a[0].seq.v, S(0).v);
  EXPECT_EQ(stats().limited_transmits, 0u);
  EXPECT_EQ(conn_->info().ssthresh, 5 * M);
  peer_ack(S(10));
  take_all();
}

class LimitedTransmitNoSackOff : public LimitedTransmitNoSack {
 protected:
  LimitedTransmitNoSackOff() { params_.limited_transmit = false; }
};

TEST_F(LimitedTransmitNoSackOff, DupAcksReleaseNothing) {
  app_send(pattern(14 * kNoTsM));
  auto segs = take_all();
  ASSERT_EQ(segs.size(), 10u);
  advance(kRtt);
  peer_ack(segs[0].seq);
  expect_nothing("(first duplicate)");
  peer_ack(segs[0].seq);
  expect_nothing("(second duplicate)");
  peer_ack(segs[0].seq);
  Seg r = expect(fl::ack, "fast retransmission");
  EXPECT_EQ(r.seq.v, segs[0].seq.v);
  expect_nothing();
  EXPECT_EQ(stats().limited_transmits, 0u);
  peer_ack(segs[9].end());
  take_all();
}

// ===========================================================================================
// 2. Tail loss probe (RFC 8985 §7)
// ===========================================================================================

// A 1 s minimum RTO (RFC 6298 §2.4 strictly) keeps the RTO well apart from the probe timeout.
class Tlp : public Established {
 protected:
  Tlp() { params_.rtt.min_rto_ns = kSec; }
};

// RFC 8985 §7.2: with one segment outstanding, PTO = 2 SRTT + WCDelAckT (200 ms); §7.3: the
// probe is the last segment again when there is no new data; §7.4: its ACK, then an ACK above
// TLP.end_seq, mark the loss repaired (cwnd reduced once); no RTO.
TEST_F(Tlp, LastSegmentLostIsProbedAfterTwoSrttPlusDelayedAckAllowance) {
  ASSERT_EQ(conn_->info().srtt_ns, kRtt);
  ASSERT_EQ(conn_->info().rto_ns, kSec);
  app_send(pattern(4 * M));
  auto segs = take_all();
  ASSERT_EQ(segs.size(), 4u);
  advance(kRtt);
  peer_ack(segs[2].end());  // segment 3 was lost
  expect_nothing("(the ACK of the first three)");
  advance(2 * kRtt + 200 * kMs - kMs);
  expect_nothing("(before PTO = 2 SRTT + 200 ms)");
  advance(kMs);
  Seg p = expect(fl::ack, "tail loss probe");
  EXPECT_EQ(p.seq.v, segs[3].seq.v) << "RFC 8985 §7.3: the last segment again";
  EXPECT_EQ(p.payload, segs[3].payload);
  EXPECT_EQ(stats().tlp_probes, 1u);
  EXPECT_EQ(stats().tlp_new_data, 0u);
  advance(kRtt);
  peer_ack(segs[3].end());
  expect_nothing();
  EXPECT_EQ(conn_->info().bytes_in_flight, 0u);
  EXPECT_EQ(conn_->info().ssthresh, kInf) << "no verdict before an ACK above TLP.end_seq";
  // The next flight's ACK goes above TLP.end_seq without a D-SACK: the probe repaired a loss.
  app_send(pattern(M, 3));
  Seg n = expect(fl::ack, "new data");
  advance(kRtt);
  peer_ack(n.end());
  EXPECT_EQ(stats().tlp_recoveries, 1u);
  EXPECT_LT(conn_->info().ssthresh, kInf) << "RFC 8985 §7.4.2: congestion response to the repaired loss";
  EXPECT_EQ(stats().rto_timeouts, 0u);
  EXPECT_EQ(stats().retrans_segs, 1u);
}

// RFC 8985 §7.2: with more than one segment outstanding, PTO = 2 SRTT (no delayed-ACK allowance),
// and the probe is the highest segment; the SACK it draws lets RACK find the other lost one.
TEST_F(Tlp, TailOfTwoLostIsProbedAfterTwoSrttAndRackRepairsTheOther) {
  app_send(pattern(6 * M));
  auto segs = take_all();
  ASSERT_EQ(segs.size(), 6u);
  advance(kRtt);
  peer_ack(segs[3].end());  // segments 4 and 5 lost
  expect_nothing();
  advance(2 * kRtt - kMs);
  expect_nothing("(before PTO = 2 SRTT)");
  advance(kMs);
  Seg p = expect(fl::ack, "tail loss probe");
  EXPECT_EQ(p.seq.v, segs[5].seq.v) << "the last segment, not the first unacknowledged";
  expect_nothing();
  advance(kRtt);
  peer_sack(segs[3].end(), {{segs[5].seq, segs[5].end()}});
  Seg r = expect(fl::ack, "RACK retransmission");
  EXPECT_EQ(r.seq.v, segs[4].seq.v);
  expect_nothing();
  EXPECT_GE(stats().rack_marked_lost, 1u);
  advance(kRtt);
  peer_ack(segs[5].end());
  expect_nothing();
  EXPECT_EQ(stats().tlp_probes, 1u);
  EXPECT_EQ(stats().rto_timeouts, 0u);
  EXPECT_EQ(conn_->info().bytes_in_flight, 0u);
}

// RFC 8985 §7.3: with new data waiting (here behind Nagle), the probe sends it instead.
TEST_F(Tlp, ProbeSendsNewDataWhenSomeWaits) {
  app_send(pattern(3 * M + 100));
  auto segs = take_all();
  ASSERT_EQ(segs.size(), 3u) << "the 100-byte tail waits (Nagle)";
  advance(kRtt);
  peer_ack(segs[1].end());  // segment 2 lost
  expect_nothing("(Nagle still holds the tail: segment 2 is in flight)");
  advance(2 * kRtt + 200 * kMs - kMs);
  expect_nothing();
  advance(kMs);
  Seg p = expect(fl::ack, "probe with new data");
  EXPECT_EQ(p.seq.v, segs[2].end().v);
  EXPECT_EQ(p.len(), 100u);
  EXPECT_EQ(stats().tlp_new_data, 1u);
  advance(kRtt);
  peer_sack(segs[1].end(), {{p.seq, p.end()}});
  Seg r = expect(fl::ack, "RACK retransmission of segment 2");
  EXPECT_EQ(r.seq.v, segs[2].seq.v);
  advance(kRtt);
  peer_ack(p.end());
  expect_nothing();
  EXPECT_EQ(stats().rto_timeouts, 0u);
  EXPECT_EQ(conn_->info().bytes_in_flight, 0u);
}

// ===========================================================================================
// 3. RACK reordering window (RFC 8985 §6.2)
// ===========================================================================================

// RFC 8985 §6.2 step 4/5: a segment SACKed above one merely delayed: the earlier one is lost only
// once RACK.rtt + RACK.reo_wnd (min_RTT / 4 = 2.5 ms) has passed since it was sent.
TEST_F(Established, RackWaitsReorderingWindowAndTheLateAckArrives) {
  ASSERT_EQ(conn_->info().min_rtt_ns, kRtt);
  app_send(pattern(4 * M));
  auto segs = take_all();
  ASSERT_EQ(segs.size(), 4u);
  advance(kRtt);
  peer_sack(segs[0].seq, {{segs[1].seq, segs[1].end()}});
  expect_nothing("(within the reordering window)");
  EXPECT_EQ(conn_->info().ca_state, CaState::disorder);
  advance(kMs);
  peer_ack(segs[1].end());  // segment 0 was only delayed
  expect_nothing();
  advance(kMs);
  expect_nothing("(past the window: nothing is lost)");
  advance(3 * kMs);
  expect_nothing();
  EXPECT_TRUE(conn_->info().reordering) << "RFC 8985 §6.2 step 3: reordering seen";
  EXPECT_EQ(stats().retrans_segs, 0u);
  EXPECT_EQ(stats().rack_marked_lost, 0u);
  EXPECT_EQ(stats().rack_reo_timeouts, 0u);
  peer_ack(segs[3].end());
  expect_nothing();
  EXPECT_EQ(conn_->info().ca_state, CaState::open);
}

TEST_F(Established, RackRetransmitsWhenTheReorderingWindowPasses) {
  app_send(pattern(4 * M));
  auto segs = take_all();
  ASSERT_EQ(segs.size(), 4u);
  advance(kRtt);
  peer_sack(segs[0].seq, {{segs[1].seq, segs[1].end()}});
  expect_nothing("(within the reordering window)");
  advance(kMs);
  expect_nothing("(11 ms after sending: RACK.rtt + reo_wnd = 12.5 ms)");
  advance(kMs);
  expect_nothing("(12 ms)");
  advance(kMs);
  Seg r = expect(fl::ack, "retransmission after the reordering window");
  EXPECT_EQ(r.seq.v, segs[0].seq.v);
  expect_nothing();
  EXPECT_EQ(stats().rack_reo_timeouts, 1u);
  EXPECT_EQ(stats().rack_marked_lost, 1u);
  EXPECT_EQ(stats().rto_timeouts, 0u);
  advance(kRtt);
  peer_ack(segs[3].end());
  expect_nothing();
  EXPECT_EQ(conn_->info().bytes_in_flight, 0u);
}

// ===========================================================================================
// 4. Proportional Rate Reduction (RFC 6937)
// ===========================================================================================

// RFC 6937 §3 example: NewReno halving (ssthresh = RecoverFS / 2 = 10 segments), one loss, each ACK
// SACKing one segment. Limited transmit off so that RecoverFS is the 20 segments.
class Prr : public Established {
 protected:
  Prr() {
    params_.initial_window = 20;
    params_.limited_transmit = false;
    params_.socket.congestion = CcAlgo::newreno;
  }
};

// RFC 6937 §3.1: while pipe > ssthresh, sndcnt = CEIL(prr_delivered * ssthresh / RecoverFS) -
// prr_out (the first ACK forces the fast retransmit): one segment per two ACKs; once pipe reaches
// ssthresh, PRR-SSRB sends what keeps pipe at ssthresh: one segment per ACK. Never a burst.
TEST_F(Prr, SegmentsFollowTheProportionalRule) {
  ASSERT_EQ(conn_->info().cwnd, 20 * M);
  app_send(pattern(40 * M));
  auto segs = take_all();
  ASSERT_EQ(segs.size(), 20u);
  const SeqNum b = segs[0].seq;
  auto S = [&](uint32_t i) { return b + i * M; };
  advance(kRtt);
  peer_sack(S(0), {{S(1), S(2)}});
  expect_nothing();
  peer_sack(S(0), {{S(1), S(3)}});
  expect_nothing();
  // k = 1..17: the ACKs SACKing segments 3..19 (segment 0 lost).
  // pipe > ssthresh up to k = 11 (proportional), then PRR-SSRB.
  const std::vector<size_t> want = {1, 0, 0, 1, 0, 1, 0, 1, 0, 1, 0, 0, 1, 1, 1, 1, 1};
  uint32_t next_new = 20;
  for (uint32_t k = 1; k <= 17; ++k) {
    peer_sack(S(0), {{S(1), S(k + 3)}});
    auto out = take_all();
    ASSERT_EQ(out.size(), want[k - 1]) << "ACK " << k << " of recovery";
    for (const Seg& s : out) {
      if (k == 1) {
        EXPECT_EQ(s.seq.v, S(0).v) << "the fast retransmission";
      } else {
        EXPECT_EQ(s.seq.v, S(next_new).v) << "new data in order, ACK " << k;
        ++next_new;
      }
      EXPECT_EQ(s.len(), M);
    }
    if (k == 1) {
      EXPECT_EQ(conn_->info().ssthresh, 10 * M);
      EXPECT_EQ(conn_->info().ca_state, CaState::recovery);
    }
  }
  EXPECT_EQ(next_new, 29u);
  EXPECT_EQ(stats().retrans_segs, 1u);
  // The retransmission's ACK ends recovery: cwnd = ssthresh (RFC 6937 §3.1).
  advance(kRtt);
  peer_ack(S(20));
  EXPECT_EQ(conn_->info().ca_state, CaState::open);
  EXPECT_EQ(conn_->info().cwnd, 10 * M);
  auto out = take_all();
  EXPECT_LE(out.size(), 1u) << "no burst at the end of recovery";
}

// RFC 6937 §3.1 (and Linux): at the end of recovery cwnd = ssthresh, not RFC 6582's
// min(ssthresh, FlightSize + SMSS), which collapses cwnd when the application sent little.
TEST_F(Prr, RecoveryExitSetsCwndToSsthresh) {
  app_send(pattern(24 * M));
  auto segs = take_all();
  ASSERT_EQ(segs.size(), 20u);
  const SeqNum b = segs[0].seq;
  auto S = [&](uint32_t i) { return b + i * M; };
  advance(kRtt);
  peer_sack(S(0), {{S(1), S(2)}});
  peer_sack(S(0), {{S(1), S(3)}});
  size_t sent = 0;
  for (uint32_t k = 1; k <= 17; ++k) {
    peer_sack(S(0), {{S(1), S(k + 3)}});
    sent += take_all().size();
  }
  EXPECT_EQ(sent, 5u) << "the retransmission and the 4 segments of new data";
  advance(kRtt);
  peer_ack(S(20));
  EXPECT_EQ(conn_->info().ca_state, CaState::open);
  EXPECT_EQ(conn_->info().bytes_in_flight, 4 * M);
  EXPECT_EQ(conn_->info().ssthresh, 10 * M);
  EXPECT_EQ(conn_->info().cwnd, 10 * M) << "cwnd = ssthresh, not FlightSize + SMSS = 5 segments";
  expect_nothing("(nothing left to send)");
}

class PrrRfc6675 : public Prr {
 protected:
  PrrRfc6675() {
    params_.initial_window = 30;
    params_.recovery = LossRecovery::rfc6675;
  }
};

// RFC 6937 §3: DeliveredData = change_in(snd.una) + change_in(SACKd). A partial ACK that covers
// SACKed segments delivered only the bytes not SACKed before. Here RecoverFS = 30 segments,
// ssthresh = 15; segment 0 lost, segments 1..5 SACKed, the ACKs of 6..9 lost: the partial ACK up
// to segment 10 delivers 5 segments (10 acknowledged - 5 no longer SACKed), so prr_delivered = 8
// and sndcnt = CEIL(8 * 15 / 30) - prr_out (1) = 3 segments, not 5.
TEST_F(PrrRfc6675, PartialAckCountsOnlyNewlyDeliveredBytes) {
  app_send(pattern(40 * M));
  auto segs = take_all();
  ASSERT_EQ(segs.size(), 30u);
  const SeqNum b = segs[0].seq;
  auto S = [&](uint32_t i) { return b + i * M; };
  advance(kRtt);
  peer_sack(S(0), {{S(1), S(2)}});
  peer_sack(S(0), {{S(1), S(3)}});
  EXPECT_TRUE(take_all().empty());
  peer_sack(S(0), {{S(1), S(4)}});
  auto out = take_all();
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].seq.v, S(0).v);
  EXPECT_EQ(conn_->info().ssthresh, 15 * M);
  peer_sack(S(0), {{S(1), S(5)}});
  EXPECT_TRUE(take_all().empty()) << "prr_delivered 2: CEIL(2 * 15 / 30) - 1 = 0";
  peer_sack(S(0), {{S(1), S(6)}});
  EXPECT_TRUE(take_all().empty()) << "prr_delivered 3: 1.5 - 1 segments";
  advance(kRtt);
  peer_ack(S(10));  // the retransmission arrived; the ACKs of segments 6..9 were lost
  out = take_all();
  ASSERT_EQ(out.size(), 3u) << "RFC 6937 §3: DeliveredData = 10 acknowledged - 5 no longer SACKed";
  for (uint32_t i = 0; i < 3; ++i) EXPECT_EQ(out[i].seq.v, S(30 + i).v);
  EXPECT_EQ(conn_->info().ca_state, CaState::recovery);
  advance(kRtt);
  peer_ack(S(33));
  take_all();
}

// ===========================================================================================
// 5. Spurious retransmissions undone (RFC 3522 Eifel, RFC 4015; D-SACK, RFC 2883 / RFC 3708)
// ===========================================================================================

// RFC 6675 recovery: no tail loss probe comes before the RTO.
class EstablishedNoTlp : public Established {
 protected:
  EstablishedNoTlp() { params_.recovery = LossRecovery::rfc6675; }
};

// RFC 3522 §3: the first ACK after an RTO echoes a TSval older than the retransmission's: the
// original arrived, the timeout was spurious. RFC 4015 §4: ssthresh = pipe_prev, cwnd = FlightSize +
// min(bytes_acked, IW), and transmission goes on with new data (SND.NXT = SND.MAX), no go-back-N.
TEST_F(EstablishedNoTlp, SpuriousRtoIsUndoneByEifel) {
  ASSERT_TRUE(conn_->info().timestamps);
  app_send(pattern(5 * M));
  auto segs = take_all();
  ASSERT_EQ(segs.size(), 5u);
  const SeqNum b = segs[0].seq;
  auto S = [&](uint32_t i) { return b + i * M; };
  const uint32_t orig_ts = tsval(segs[0]);
  ASSERT_EQ(conn_->info().ssthresh, kInf);
  advance(conn_->info().rto_ns);
  Seg r = expect(fl::ack, "RTO retransmission");
  EXPECT_EQ(r.seq.v, S(0).v);
  EXPECT_GT(tsval(r), orig_ts);
  EXPECT_EQ(stats().rto_timeouts, 1u);
  EXPECT_EQ(conn_->info().cwnd, M);
  EXPECT_LT(conn_->info().ssthresh, kInf);
  EXPECT_EQ(conn_->info().ca_state, CaState::loss);
  app_send(pattern(5 * M, 9));  // new data waiting
  expect_nothing("(cwnd is one segment)");
  // The ACKs of the originals were only delayed: the first echoes the original TSval.
  advance(5 * kMs);
  ack_echo(S(2), orig_ts);
  EXPECT_EQ(stats().spurious_rtos, 1u);
  EXPECT_EQ(conn_->info().ssthresh, kInf) << "RFC 4015 §4: ssthresh = pipe_prev";
  EXPECT_EQ(conn_->info().cwnd, 3 * M + 2 * M) << "RFC 4015 §4: FlightSize + min(bytes_acked, IW)";
  EXPECT_EQ(conn_->info().undos, 1u);
  EXPECT_EQ(conn_->info().ca_state, CaState::open) << "the timeout was undone";
  auto out = take_all();
  ASSERT_EQ(out.size(), 2u);
  EXPECT_EQ(out[0].seq.v, S(5).v) << "RFC 4015 §4: new data, not segment 2 again";
  EXPECT_EQ(out[1].seq.v, S(6).v);
  EXPECT_EQ(stats().retrans_segs, 1u);
  ack_echo(S(5), orig_ts);
  advance(kRtt);
  peer_ack(S(7));
  take_all();
  EXPECT_EQ(stats().rto_timeouts, 1u);
}

// Control: an ACK echoing the retransmission's TSval is no evidence; the RTO response stands and
// the sender goes back to SND.UNA (RFC 5681 §3.1, RFC 6298 §5).
TEST_F(EstablishedNoTlp, GenuineRtoIsNotUndone) {
  app_send(pattern(5 * M));
  auto segs = take_all();
  ASSERT_EQ(segs.size(), 5u);
  advance(conn_->info().rto_ns);
  Seg r = expect(fl::ack, "RTO retransmission");
  advance(kRtt);
  ack_echo(segs[0].end(), tsval(r));
  EXPECT_EQ(stats().spurious_rtos, 0u);
  EXPECT_LT(conn_->info().ssthresh, kInf);
  auto out = take_all();
  ASSERT_FALSE(out.empty());
  EXPECT_EQ(out[0].seq.v, segs[1].seq.v) << "go back to SND.UNA";
  peer_ack(segs[4].end());
  take_all();
}

// RFC 2883 §4 / RFC 3708: the peer reports the fast retransmission as a duplicate (D-SACK: the first
// block below the cumulative ACK); every retransmitted byte was needless: the reduction is undone
// (Linux's tcp_try_undo_dsack; RFC 4015 covers timeouts), and RACK widens its reordering window
// (RFC 8985 §6.2 step 4).
TEST_F(Established, DsackOfTheFastRetransmissionUndoesTheReduction) {
  app_send(pattern(12 * M));
  auto segs = take_all();
  ASSERT_EQ(segs.size(), 10u);
  const SeqNum b = segs[0].seq;
  auto S = [&](uint32_t i) { return b + i * M; };
  const uint32_t cwnd0 = conn_->info().cwnd;
  advance(kRtt);
  peer_sack(S(0), {{S(1), S(2)}});
  peer_sack(S(0), {{S(1), S(3)}});
  EXPECT_EQ(take_all().size(), 2u) << "limited transmit: segments 10 and 11";
  peer_sack(S(0), {{S(1), S(4)}});
  Seg r = expect(fl::ack, "fast retransmission");
  EXPECT_EQ(r.seq.v, S(0).v);
  expect_nothing();
  EXPECT_LT(conn_->info().cwnd, cwnd0);
  EXPECT_LT(conn_->info().ssthresh, kInf);
  EXPECT_EQ(conn_->info().reo_wnd_mult, 1u);
  // Segment 0 was only reordered: it arrives (segments 10 and 11 are still on their way) ...
  advance(kMs);
  ack_echo(S(10), tsval(segs[0]));
  EXPECT_EQ(conn_->info().ca_state, CaState::recovery) << "a partial ACK";
  EXPECT_EQ(stats().spurious_undos, 0u);
  // ... then the retransmission, a duplicate.
  advance(4 * kMs);
  ack_echo(S(10), tsval(r), {{S(0), S(1)}});
  EXPECT_EQ(stats().dsacks_received, 1u);
  EXPECT_EQ(stats().spurious_undos, 1u);
  EXPECT_EQ(conn_->info().undos, 1u);
  EXPECT_NE(conn_->info().ca_state, CaState::recovery);
  EXPECT_EQ(conn_->info().cwnd, cwnd0) << "cwnd as before the recovery";
  EXPECT_EQ(conn_->info().ssthresh, kInf) << "ssthresh as before the recovery";
  EXPECT_EQ(conn_->info().reo_wnd_mult, 2u) << "RFC 8985 §6.2 step 4: a D-SACK widens the window";
  // The same report again (a duplicated ACK) is not counted twice.
  ack_echo(S(10), tsval(r), {{S(0), S(1)}});
  EXPECT_EQ(stats().dsacks_received, 1u);
  EXPECT_EQ(stats().spurious_undos, 1u);
  advance(kMs);
  ack_echo(S(12), tsval(segs[9]));
  EXPECT_EQ(conn_->info().ca_state, CaState::open);
  EXPECT_GE(conn_->info().cwnd, cwnd0);
  EXPECT_EQ(stats().rto_timeouts, 0u);
}

// ===========================================================================================
// 6. D-SACK as the receiver (RFC 2883)
// ===========================================================================================

// RFC 2883 §4.1.1: a duplicate of data already acknowledged is reported as the first SACK block
// of the ACK it draws (at once), once.
TEST_F(Established, DuplicateSegmentIsReportedAsDsack) {
  const SeqNum a0 = p_nxt_;
  peer_data(pattern(1000, 1));
  advance(params_.delayed_ack_ns);
  expect_ack(p_nxt_, "delayed ACK (lost on its way)");
  // The peer times out and sends the segment again.
  send(fl::ack | fl::psh, a0, p_rcv_, pattern(1000, 1));
  Seg a = expect_ack(p_nxt_, "ACK with D-SACK, at once");
  ASSERT_EQ(a.opts.sack_count, 1u);
  EXPECT_EQ(a.opts.sack[0].left.v, a0.v);
  EXPECT_EQ(a.opts.sack[0].right.v, (a0 + 1000).v);
  EXPECT_EQ(stats().dsacks_sent, 1u);
  // Reported once: the next ACK has no D-SACK.
  peer_data(pattern(M, 2));
  peer_data(pattern(M, 3));
  Seg n = expect_ack(p_nxt_, "ACK of two new segments");
  EXPECT_EQ(n.opts.sack_count, 0u);
  EXPECT_EQ(stats().dsacks_sent, 1u);
  EXPECT_EQ(read_all().size(), 1000u + 2 * M);
}

// RFC 2883 §4.1.1: a segment partly duplicate (old data plus new) reports the old part.
TEST_F(Established, PartlyDuplicateSegmentReportsTheOldPart) {
  const SeqNum a0 = p_nxt_;
  Bytes all = pattern(1500, 4);
  peer_data(Bytes(all.begin(), all.begin() + 1000));
  advance(params_.delayed_ack_ns);
  expect_ack(p_nxt_);
  send(fl::ack | fl::psh, a0, p_rcv_, all);
  p_nxt_ = a0 + 1500;
  Seg a = expect_ack(p_nxt_, "ACK of the new part, with D-SACK of the old");
  ASSERT_GE(a.opts.sack_count, 1u);
  EXPECT_EQ(a.opts.sack[0].left.v, a0.v);
  EXPECT_EQ(a.opts.sack[0].right.v, (a0 + 1000).v);
  EXPECT_EQ(read_all(), all);
}

// RFC 2883 §4.1.2: a duplicate of held out-of-order data: the D-SACK block first, then the SACK
// block that contains it.
TEST_F(Established, DuplicateOfOutOfOrderDataIsReportedAsDsack) {
  const SeqNum a0 = p_nxt_;
  Bytes all = pattern(1500, 5);
  const SeqNum hi = a0 + 1000;
  send(fl::ack | fl::psh, hi, p_rcv_, Bytes(all.begin() + 1000, all.end()));
  Seg s = expect_ack(a0, "duplicate ACK with SACK");
  ASSERT_EQ(s.opts.sack_count, 1u);
  EXPECT_EQ(s.opts.sack[0].left.v, hi.v);
  send(fl::ack | fl::psh, hi, p_rcv_, Bytes(all.begin() + 1000, all.end()));
  Seg d = expect_ack(a0, "ACK with D-SACK");
  ASSERT_EQ(d.opts.sack_count, 2u);
  EXPECT_EQ(d.opts.sack[0].left.v, hi.v);
  EXPECT_EQ(d.opts.sack[0].right.v, (hi + 500).v);
  EXPECT_EQ(d.opts.sack[1].left.v, hi.v) << "the SACK block holding it follows";
  EXPECT_EQ(d.opts.sack[1].right.v, (hi + 500).v);
  EXPECT_EQ(stats().dsacks_sent, 1u);
  peer_data(Bytes(all.begin(), all.begin() + 1000));
  p_nxt_ = a0 + 1500;
  expect_ack(p_nxt_, "the gap filled");
  EXPECT_EQ(read_all(), all);
}

class EstablishedNoDsack : public Established {
 protected:
  EstablishedNoDsack() { params_.dsack = false; }
};

TEST_F(EstablishedNoDsack, DuplicateSegmentIsNotReported) {
  const SeqNum a0 = p_nxt_;
  peer_data(pattern(1000, 1));
  advance(params_.delayed_ack_ns);
  expect_ack(p_nxt_);
  send(fl::ack | fl::psh, a0, p_rcv_, pattern(1000, 1));
  Seg a = expect_ack(p_nxt_, "ACK of the duplicate");
  EXPECT_EQ(a.opts.sack_count, 0u);
  EXPECT_EQ(stats().dsacks_sent, 0u);
}

// ===========================================================================================
// 7. HyStart++ (RFC 9406)
// ===========================================================================================

class HyStart : public Established {
 protected:
  HyStart() {
    params_.socket.send_buffer = 1024 * 1024;
    params_.socket.congestion = CcAlgo::newreno;
  }
  /** Keep the send queue full: the connection is cwnd-limited, never application-limited. */
  void top_up() {
    const uint32_t space = conn_->send_space();
    if (space >= M) app_send(pattern(space, 7));
  }
  /**
   * One round trip of @p rtt: everything the stack has sent is delivered and each segment is
   * acknowledged on its own @p rtt after it left (echoing its TSval: RFC 7323 RTTM samples).
   */
  void round_trip(uint64_t rtt) {
    top_up();
    auto segs = take_all();
    ASSERT_FALSE(segs.empty());
    advance(rtt);
    for (const Seg& s : segs) ack_echo(s.end(), tsval(s));
    sent_ += segs.size();
  }
  size_t sent_ = 0;
};

// RFC 9406 §4.2: after N_RTT_SAMPLE (8) RTT samples of a round, a round minimum RTT higher than the
// last round's by RttThresh (max(4 ms, min(lastRoundMinRTT / 8, 16 ms)) = 4 ms here) ends slow start
// for Conservative Slow Start; after CSS_ROUNDS (5) rounds in CSS, congestion avoidance with
// ssthresh = cwnd. All before any loss.
TEST_F(HyStart, RisingRttEndsSlowStartBeforeAnyLoss) {
  round_trip(kRtt);
  round_trip(kRtt);
  EXPECT_FALSE(conn_->info().hystart_css);
  EXPECT_TRUE(conn_->info().in_slow_start);
  const uint32_t cwnd_before = conn_->info().cwnd;
  EXPECT_EQ(cwnd_before, 40 * M) << "slow start doubled cwnd twice";
  // The queue builds: RTT 10 -> 20 ms. A HyStart++ round starts with windowEnd = SND.NXT, so it lags
  // these round trips by a few segments: the first round with only 20 ms samples ends in the second.
  round_trip(2 * kRtt);
  round_trip(2 * kRtt);
  EXPECT_TRUE(conn_->info().hystart_css) << "RFC 9406 §4.2: CSS after the RTT rose";
  EXPECT_EQ(conn_->info().ssthresh, kInf);
  EXPECT_LT(conn_->info().cwnd, 4 * cwnd_before) << "CSS grows slower than slow start (HyStartOff: 4x)";
  for (int i = 0; i < 5 && conn_->info().ssthresh == kInf; ++i) round_trip(2 * kRtt);
  EXPECT_LT(conn_->info().ssthresh, kInf) << "RFC 9406 §4.2: CSS_ROUNDS later, ssthresh = cwnd";
  EXPECT_FALSE(conn_->info().in_slow_start);
  EXPECT_FALSE(conn_->info().hystart_css);
  EXPECT_EQ(stats().retrans_segs, 0u);
  EXPECT_EQ(stats().rto_timeouts, 0u);
  EXPECT_EQ(stats().sack_recoveries, 0u);
}

class HyStartOff : public HyStart {
 protected:
  HyStartOff() { params_.cc.hystart = false; }
};

TEST_F(HyStartOff, RisingRttDoesNotEndSlowStart) {
  round_trip(kRtt);
  round_trip(kRtt);
  const uint32_t cwnd_before = conn_->info().cwnd;
  EXPECT_EQ(cwnd_before, 40 * M);
  round_trip(2 * kRtt);
  round_trip(2 * kRtt);
  EXPECT_FALSE(conn_->info().hystart_css);
  EXPECT_EQ(conn_->info().ssthresh, kInf);
  EXPECT_TRUE(conn_->info().in_slow_start);
  EXPECT_EQ(conn_->info().cwnd, 4 * cwnd_before) << "slow start goes on doubling";
}

// ===========================================================================================
// 8. Quick ACK (Linux quickack mode)
// ===========================================================================================

class QuickAck : public Established {
 protected:
  QuickAck() { params_.quick_acks = 16; }
};

// The peer's first 16 data segments are each ACKed at once (the peer is in slow start); then
// delayed ACK (RFC 1122 §4.2.3.2, RFC 5681 §4.2); after the peer was silent longer than an RTO,
// quick ACK again.
TEST_F(QuickAck, FirstSegmentsAndAfterIdleAreAckedAtOnce) {
  for (int i = 0; i < 16; ++i) {
    peer_data(pattern(M, static_cast<uint8_t>(i)));
    Seg a = expect_ack(p_nxt_, "quick ACK");
    EXPECT_EQ(a.ack.v, p_nxt_.v) << "segment " << i;
  }
  peer_data(pattern(M, 16));
  expect_nothing("(the 17th waits for the delayed ACK)");
  advance(params_.delayed_ack_ns);
  expect_ack(p_nxt_, "delayed ACK");
  const uint64_t rto = conn_->info().rto_ns;
  // A pause shorter than the RTO: still delayed.
  advance(rto / 2);
  peer_data(pattern(M, 17));
  expect_nothing("(a short pause does not restart quick ACK)");
  advance(params_.delayed_ack_ns);
  expect_ack(p_nxt_, "delayed ACK");
  // Silent longer than an RTO: the peer starts over (restart window): quick ACKs again.
  advance(rto + kMs);
  peer_data(pattern(M, 18));
  expect_ack(p_nxt_, "quick ACK after idle");
  peer_data(pattern(M, 19));
  expect_ack(p_nxt_, "and the next one too");
  EXPECT_EQ(read_all().size(), 20u * M);
}

// ===========================================================================================
// 9. TCP Fast Open (RFC 7413)
// ===========================================================================================

class FastOpenServer : public ModernTest {
 protected:
  void SetUp() override {
    ModernTest::SetUp();
    if (HasFatalFailure()) return;
    ListenOptions lo;
    lo.fastopen = qlen_;
    auto l = tcp().listen(kListenPort, lo);
    ASSERT_TRUE(l);
    lst_ = *l;
  }
  /** The peer's SYN options (no timestamps: several connections at once stay simple). */
  wire::TcpOptions tfo_opts(std::optional<wire::FastOpenCookie> cookie) {
    wire::TcpOptions so = syn_options(PeerSyn{.ts = false});
    so.fastopen = cookie;
    return so;
  }
  /** Ask for a cookie on port @p port, complete that handshake; returns the cookie. */
  wire::FastOpenCookie get_cookie(uint16_t port) {
    Seg sa = syn_in(port, 0, tfo_opts(wire::FastOpenCookie{}));
    EXPECT_EQ(sa.ack.v, (p_iss_ + 1).v);
    EXPECT_TRUE(sa.opts.fastopen.has_value()) << "RFC 7413 §4.1.2: the SYN-ACK carries a cookie";
    wire::FastOpenCookie c = sa.opts.fastopen.value_or(wire::FastOpenCookie{});
    EXPECT_GE(c.len, wire::FastOpenCookie::kMinLen);
    send_raw(port, kListenPort, fl::ack, p_iss_ + 1, sa.seq + 1, {}, {}, 65535);
    Connection* a = lst_->accept();
    EXPECT_NE(a, nullptr);
    if (a != nullptr) extra_.push_back(a);
    return c;
  }
  uint32_t qlen_ = 4;
};

// RFC 7413 §4.1.2, §4.2.1/§4.2.2 (server): a cookie request gets a cookie; a SYN with that cookie
// and data opens a connection that is in accept() at once with the data readable, its SYN-ACK
// acknowledging the data; a bad cookie: the data is not acknowledged and a fresh cookie is given.
TEST_F(FastOpenServer, CookieRequestThenDataOnSynThenBadCookie) {
  const wire::FastOpenCookie cookie = get_cookie(41000);
  EXPECT_EQ(stats().tfo_cookies_sent, 1u);
  // A SYN with the cookie and 300 bytes.
  const Bytes data = pattern(300, 8);
  Seg sa = syn_in(41001, 0, tfo_opts(cookie), data);
  EXPECT_EQ(sa.ack.v, (p_iss_ + 1 + 300).v) << "RFC 7413 §4.2.1: the SYN-ACK acknowledges the data";
  EXPECT_FALSE(sa.opts.fastopen.has_value()) << "a valid cookie is not replaced";
  EXPECT_EQ(stats().tfo_accepted, 1u);
  ASSERT_EQ(lst_->pending(), 1u) << "ready in accept() before the handshake completes";
  conn_ = lst_->accept();
  ASSERT_NE(conn_, nullptr);
  EXPECT_EQ(conn_->state(), State::syn_received);
  EXPECT_EQ(read_all(), data);
  // The server may answer at once (RFC 7413 §4.2.1): the reply waits for the handshake here.
  send_raw(41001, kListenPort, fl::ack, p_iss_ + 301, sa.seq + 1, {}, {}, 65535);
  EXPECT_EQ(conn_->state(), State::established);
  // A SYN with a bad cookie and data: only the SYN is acknowledged, a fresh cookie given.
  wire::FastOpenCookie bad = cookie;
  bad.bytes[0] ^= 0xff;
  Seg sb = syn_in(41002, 0, tfo_opts(bad), data);
  EXPECT_EQ(sb.ack.v, (p_iss_ + 1).v) << "RFC 7413 §4.2.2: data with a bad cookie is not acknowledged";
  ASSERT_TRUE(sb.opts.fastopen.has_value());
  EXPECT_EQ(*sb.opts.fastopen, cookie) << "a fresh (valid) cookie";
  EXPECT_EQ(stats().tfo_bad_cookie, 1u);
  EXPECT_EQ(lst_->pending(), 0u) << "not ready before the handshake";
  // The client completes the handshake and sends the data again.
  send_raw(41002, kListenPort, fl::ack | fl::psh, p_iss_ + 1, sb.seq + 1, data, {}, 65535);
  ASSERT_EQ(lst_->pending(), 1u);
  Connection* c = lst_->accept();
  ASSERT_NE(c, nullptr);
  extra_.push_back(c);
  EXPECT_EQ(read_all(c), data);
  EXPECT_EQ(stats().tfo_accepted, 1u);
}

class FastOpenServerQ1 : public FastOpenServer {
 protected:
  FastOpenServerQ1() { qlen_ = 1; }
};

// RFC 7413 §5.1: at most ListenOptions::fastopen Fast Open connections pending (handshake not
// complete); beyond it a valid cookie gets a regular handshake (the data is not taken).
TEST_F(FastOpenServerQ1, PendingLimitFallsBackToRegularHandshake) {
  const wire::FastOpenCookie cookie = get_cookie(42000);
  const Bytes data = pattern(200, 1);
  Seg s1 = syn_in(42001, 0, tfo_opts(cookie), data);
  EXPECT_EQ(s1.ack.v, (p_iss_ + 201).v);
  Seg s2 = syn_in(42002, 0, tfo_opts(cookie), data);
  EXPECT_EQ(s2.ack.v, (p_iss_ + 1).v) << "over the pending limit: data not taken";
  EXPECT_EQ(stats().tfo_overflow, 1u);
  EXPECT_EQ(lst_->pending(), 1u);
  // The first one completes its handshake: room again.
  send_raw(42001, kListenPort, fl::ack, p_iss_ + 201, s1.seq + 1, {}, {}, 65535);
  Seg s3 = syn_in(42003, 0, tfo_opts(cookie), data);
  EXPECT_EQ(s3.ack.v, (p_iss_ + 201).v);
  EXPECT_EQ(stats().tfo_accepted, 2u);
  while (Connection* c = lst_->accept()) extra_.push_back(c);
}

// No Fast Open on the listener: the option is ignored, data on the SYN is not acknowledged.
TEST_F(ModernTest, ListenerWithoutFastOpenIgnoresCookies) {
  listen();
  wire::TcpOptions so = syn_options(PeerSyn{.ts = false});
  so.fastopen = wire::FastOpenCookie{};
  Seg sa = syn_in(43000, 0, so, pattern(100));
  EXPECT_EQ(sa.ack.v, (p_iss_ + 1).v);
  EXPECT_FALSE(sa.opts.fastopen.has_value());
}

class FastOpenClient : public ModernTest {
 protected:
  /** connect() with Fast Open; @p data is sent before the SYN leaves; returns the SYN. */
  Seg connect_tfo(const Bytes& data) {
    ConnectOptions co;
    co.fastopen = true;
    auto r = tcp().connect(Endpoint{kIpPeer, peer_port_}, co);
    EXPECT_TRUE(r);
    if (!r) return Seg{};
    conn_ = *r;
    stack_port_ = conn_->local().port;
    if (!data.empty()) app_send(data);
    Seg s = expect(fl::syn, "the Fast Open SYN");
    took_syn(s, syn_);
    p_nxt_ = p_iss_;
    return s;
  }
  /** The peer's SYN-ACK acknowledging @p ack, maybe with a cookie. */
  void synack(SeqNum ack, std::optional<wire::FastOpenCookie> cookie) {
    wire::TcpOptions so = syn_options(syn_);
    so.fastopen = cookie;
    send(fl::syn | fl::ack, p_nxt_, ack, {}, so);
    p_nxt_ += 1;
  }
  static wire::FastOpenCookie a_cookie() {
    wire::FastOpenCookie c;
    c.len = 8;
    for (uint8_t i = 0; i < 8; ++i) c.bytes[i] = static_cast<uint8_t>(0xa0 + i);
    return c;
  }
};

// RFC 7413 §4.1.1/§4.2.1 (client): the first connect asks for a cookie (empty option, no data); with
// the cookie cached, the next SYN carries it and the data, which the SYN-ACK acknowledges.
TEST_F(FastOpenClient, CookieRequestThenDataOnSyn) {
  const Bytes d1 = pattern(300, 1);
  Seg syn = connect_tfo(d1);
  ASSERT_TRUE(syn.opts.fastopen.has_value()) << "a cookie request";
  EXPECT_EQ(syn.opts.fastopen->len, 0u);
  EXPECT_EQ(syn.len(), 0u) << "no data without a cookie";
  EXPECT_EQ(stats().tfo_cookie_requests, 1u);
  advance(kRtt);
  synack(syn.seq + 1, a_cookie());
  ASSERT_EQ(conn_->state(), State::established);
  auto out = data_of(take_all());
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].seq.v, (syn.seq + 1).v);
  EXPECT_EQ(out[0].payload, d1);
  conn_->abort();
  conn_ = nullptr;
  take_all();  // the RST
  // The second connection: cookie and data on the SYN.
  const Bytes d2 = pattern(200, 2);
  Seg syn2 = connect_tfo(d2);
  ASSERT_TRUE(syn2.opts.fastopen.has_value());
  EXPECT_EQ(*syn2.opts.fastopen, a_cookie());
  EXPECT_EQ(syn2.payload, d2);
  EXPECT_EQ(stats().tfo_syn_data, 1u);
  advance(kRtt);
  synack(syn2.seq + 1 + 200, std::nullopt);
  ASSERT_EQ(conn_->state(), State::established);
  EXPECT_EQ(stats().tfo_data_acked, 1u);
  EXPECT_TRUE(data_of(take_all()).empty()) << "the data is not sent again";
  EXPECT_EQ(conn_->info().bytes_in_flight, 0u);
  EXPECT_EQ(stats().tfo_fallbacks, 0u);
}

// RFC 7413 §4.2.2: the SYN with data is lost: the retransmitted SYN carries neither data nor the
// option, and the data goes after the handshake.
TEST_F(FastOpenClient, LostSynWithDataFallsBackToPlainSyn) {
  Seg syn = connect_tfo({});
  advance(kRtt);
  synack(syn.seq + 1, a_cookie());
  ASSERT_EQ(conn_->state(), State::established);
  conn_->abort();
  conn_ = nullptr;
  take_all();  // the RST
  const Bytes d = pattern(200, 3);
  Seg syn2 = connect_tfo(d);
  ASSERT_EQ(syn2.len(), 200u);
  advance(kSec - kMs);
  expect_nothing("(before the 1 s initial RTO)");
  advance(kMs);
  Seg r = expect(fl::syn, "the retransmitted SYN");
  EXPECT_EQ(r.seq.v, syn2.seq.v);
  EXPECT_EQ(r.len(), 0u) << "RFC 7413 §4.2.2: no data on the retransmitted SYN";
  EXPECT_FALSE(r.opts.fastopen.has_value());
  advance(kRtt);
  synack(syn2.seq + 1, std::nullopt);
  ASSERT_EQ(conn_->state(), State::established);
  auto out = data_of(take_all());
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].seq.v, (syn2.seq + 1).v);
  EXPECT_EQ(out[0].payload, d);
  EXPECT_EQ(stats().tfo_fallbacks, 1u) << "one SYN with data lost, counted once";
  advance(kRtt);
  peer_ack(out[0].end());
  EXPECT_EQ(conn_->info().bytes_in_flight, 0u);
  // The server is now avoided for data on SYNs for a while (a middlebox may drop them).
  conn_->abort();
  conn_ = nullptr;
  take_all();  // the RST
  Seg syn3 = connect_tfo(pattern(100, 4));
  EXPECT_EQ(syn3.len(), 0u);
}

// The SYN with data was only delayed: the server's SYN-ACK to the retransmitted (plain) SYN
// acknowledges the data: nothing is sent again and sequence numbers stay consistent.
TEST_F(FastOpenClient, DelayedSynDataAckedAfterPlainRetransmission) {
  Seg syn = connect_tfo({});
  advance(kRtt);
  synack(syn.seq + 1, a_cookie());
  conn_->abort();
  conn_ = nullptr;
  take_all();  // the RST
  const Bytes d = pattern(200, 5);
  Seg syn2 = connect_tfo(d);
  ASSERT_EQ(syn2.len(), 200u);
  advance(kSec);
  Seg r = expect(fl::syn, "the retransmitted SYN");
  EXPECT_EQ(r.len(), 0u);
  advance(kRtt);
  synack(syn2.seq + 201, std::nullopt);  // the server took the first SYN's data
  ASSERT_EQ(conn_->state(), State::established);
  EXPECT_TRUE(data_of(take_all()).empty()) << "the acknowledged data is not sent again";
  EXPECT_EQ(conn_->info().bytes_in_flight, 0u);
  // The connection goes on normally.
  app_send(pattern(100, 6));
  auto out = data_of(take_all());
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].seq.v, (syn2.seq + 201).v);
  advance(kRtt);
  peer_ack(out[0].end());
  EXPECT_EQ(conn_->info().bytes_in_flight, 0u);
  EXPECT_EQ(conn_->state(), State::established);
}

// ===========================================================================================
// 10. ECN (RFC 3168)
// ===========================================================================================

class EcnServer : public ModernTest {
 protected:
  void SetUp() override {
    ModernTest::SetUp();
    if (HasFatalFailure()) return;
    SocketOptions so = params_.socket;
    so.ecn = mode_;
    listen_socket_ = so;
    listen();
  }
  EcnMode mode_ = EcnMode::passive;
};

// RFC 3168 §6.1.1: an ECN-setup SYN (ECE and CWR) gets an ECN-setup SYN-ACK (ECE, not CWR).
TEST_F(EcnServer, EcnSetupSynGetsEceOnlySynAck) {
  Seg sa = syn_in(40000, fl::ece | fl::cwr, syn_options(syn_));
  took_syn(sa, syn_);
  EXPECT_TRUE(sa.flags & fl::ece);
  EXPECT_FALSE(sa.flags & fl::cwr);
  EXPECT_EQ(sa.ecn(), 0u) << "RFC 3168 §6.1.1: a SYN-ACK is not ECT";
  advance(kRtt);
  peer_ack();
  ASSERT_EQ(lst_->pending(), 1u);
  conn_ = lst_->accept();
  ASSERT_NE(conn_, nullptr);
  EXPECT_TRUE(conn_->info().ecn);
  EXPECT_EQ(stats().ecn_negotiated, 1u);
  app_send(pattern(500));
  Seg d = expect(fl::ack, "data");
  EXPECT_EQ(d.ecn(), 2u) << "ECT(0)";
}

TEST_F(EcnServer, PlainSynGetsPlainSynAck) {
  Seg sa = syn_in(40000, 0, syn_options(syn_));
  EXPECT_FALSE(sa.flags & fl::ece);
  took_syn(sa, syn_);
  advance(kRtt);
  peer_ack();
  conn_ = lst_->accept();
  ASSERT_NE(conn_, nullptr);
  EXPECT_FALSE(conn_->info().ecn);
  app_send(pattern(500));
  EXPECT_EQ(expect(fl::ack, "data").ecn(), 0u);
}

class EcnServerOff : public EcnServer {
 protected:
  EcnServerOff() { mode_ = EcnMode::off; }
};

TEST_F(EcnServerOff, EcnSetupSynGetsPlainSynAck) {
  Seg sa = syn_in(40000, fl::ece | fl::cwr, syn_options(syn_));
  EXPECT_FALSE(sa.flags & (fl::ece | fl::cwr));
  EXPECT_EQ(stats().ecn_negotiated, 0u);
}

class EcnClient : public ModernTest {
 protected:
  EcnClient() { params_.socket.ecn = EcnMode::on; }
  void SetUp() override {
    ModernTest::SetUp();
    if (HasFatalFailure()) return;
    start_active_open(syn_, &syn_seg_);
    if (HasFatalFailure()) return;
    advance(kRtt);
    send(static_cast<uint8_t>(fl::syn | fl::ack | synack_flags_), p_nxt_, p_rcv_, {}, syn_options(syn_));
    p_nxt_ += 1;
    expect_ack(p_nxt_, "the ACK of our SYN,ACK");
    ASSERT_EQ(conn_->state(), State::established);
    p_tos_ = 2;  // the peer's data is ECT(0)
  }
  Seg syn_seg_;
  uint8_t synack_flags_ = fl::ece;
};

// RFC 3168 §6.1.1: ecn = on asks in the SYN (ECE and CWR); §6.1.4-6.1.6: new data is ECT(0), pure
// ACKs and retransmissions are not.
TEST_F(EcnClient, NegotiatesAndMarksOnlyNewData) {
  EXPECT_TRUE(syn_seg_.flags & fl::ece);
  EXPECT_TRUE(syn_seg_.flags & fl::cwr);
  EXPECT_EQ(syn_seg_.ecn(), 0u) << "RFC 3168 §6.1.1: a SYN is not ECT";
  ASSERT_TRUE(conn_->info().ecn);
  EXPECT_EQ(stats().ecn_negotiated, 1u);
  // A pure ACK of the peer's data.
  peer_data(pattern(100));
  advance(params_.delayed_ack_ns);
  Seg a = expect_ack(p_nxt_, "delayed ACK");
  EXPECT_EQ(a.ecn(), 0u) << "RFC 3168 §6.1.4: pure ACKs are not ECT";
  // New data.
  app_send(pattern(4 * M));
  auto segs = take_all();
  ASSERT_EQ(segs.size(), 4u);
  for (const Seg& s : segs) {
    EXPECT_EQ(s.ecn(), 2u) << "new data: ECT(0)";
    EXPECT_FALSE(s.flags & (fl::ece | fl::cwr));
  }
  // A retransmission (segment 0 lost; three segments SACKed).
  advance(kRtt);
  peer_sack(segs[0].seq, {{segs[1].seq, segs[1].end()}});
  peer_sack(segs[0].seq, {{segs[1].seq, segs[2].end()}});
  peer_sack(segs[0].seq, {{segs[1].seq, segs[3].end()}});
  Seg r = expect(fl::ack, "fast retransmission");
  EXPECT_EQ(r.seq.v, segs[0].seq.v);
  EXPECT_EQ(r.ecn(), 0u) << "RFC 3168 §6.1.5: retransmissions are not ECT";
  advance(kRtt);
  peer_ack(segs[3].end());
  expect_nothing();
  // New data again after the recovery: ECT(0).
  app_send(pattern(500));
  EXPECT_EQ(expect(fl::ack, "data").ecn(), 2u);
}

// RFC 3168 §6.1.2: ECE is answered at most once per window of data (one cwnd reduction however
// many ACKs echo it); the first new data after the reduction carries CWR. A later window reduces again.
TEST_F(EcnClient, EceReducesOncePerWindowAndCwrFollows) {
  app_send(pattern(M));
  Seg w = expect(fl::ack, "warm-up");
  advance(kRtt);
  peer_ack(w.end());
  app_send(pattern(20 * M));
  auto segs = take_all();
  ASSERT_EQ(segs.size(), 10u);
  const SeqNum b = segs[0].seq;
  auto S = [&](uint32_t i) { return b + i * M; };
  const uint32_t cwnd0 = conn_->info().cwnd;
  advance(kRtt);
  std::vector<Seg> fresh;
  for (uint32_t i = 1; i <= 5; ++i) {
    send(fl::ack | fl::ece, p_nxt_, S(i));  // every ACK of this window echoes the CE mark
    for (const Seg& s : take_all()) fresh.push_back(s);
  }
  EXPECT_EQ(stats().ecn_reductions, 1u) << "once per window";
  EXPECT_LT(conn_->info().cwnd, cwnd0);
  EXPECT_LT(conn_->info().ssthresh, kInf);
  ASSERT_FALSE(fresh.empty());
  EXPECT_EQ(fresh[0].seq.v, S(10).v);
  EXPECT_TRUE(fresh[0].flags & fl::cwr) << "RFC 3168 §6.1.2: CWR on the first new data after the reduction";
  EXPECT_EQ(fresh[0].ecn(), 2u);
  // The peer saw CWR and stops echoing. The rest of the window is acknowledged.
  peer_ack(S(10));
  take_all();
  EXPECT_EQ(stats().ecn_reductions, 1u);
  // A CE mark in a later window (SND.UNA past the first reduction's SND.MAX) is answered again.
  advance(kRtt);
  send(fl::ack | fl::ece, p_nxt_, fresh.back().end());
  EXPECT_EQ(stats().ecn_reductions, 2u);
  take_all();
}

class EcnClientPeerRefuses : public EcnClient {
 protected:
  EcnClientPeerRefuses() { synack_flags_ = fl::ece | fl::cwr; }
};

// RFC 3168 §6.1.1: a SYN-ACK with both ECE and CWR is not an ECN-setup SYN-ACK.
TEST_F(EcnClientPeerRefuses, NoEcnAndNoEct) {
  EXPECT_FALSE(conn_->info().ecn);
  app_send(pattern(500));
  EXPECT_EQ(expect(fl::ack, "data").ecn(), 0u);
}

// RFC 3168 §6.1.3: a CE-marked data segment makes the receiver set ECE on its ACKs (the first at
// once) until a segment with CWR arrives.
TEST_F(EcnClient, CeMarkIsEchoedUntilCwr) {
  peer_data(pattern(100, 1));
  advance(params_.delayed_ack_ns);
  Seg a = expect_ack(p_nxt_, "delayed ACK");
  EXPECT_FALSE(a.flags & fl::ece);
  p_tos_ = 3;  // CE
  peer_data(pattern(100, 2));
  Seg e = expect_ack(p_nxt_, "ACK of the CE-marked segment, at once");
  EXPECT_TRUE(e.flags & fl::ece);
  EXPECT_EQ(e.ecn(), 0u);
  EXPECT_EQ(stats().ecn_ce_received, 1u);
  p_tos_ = 2;
  peer_data(pattern(100, 3));
  advance(params_.delayed_ack_ns);
  Seg e2 = expect_ack(p_nxt_, "the next ACK");
  EXPECT_TRUE(e2.flags & fl::ece) << "ECE until CWR";
  // The peer reduced and says so.
  send(fl::ack | fl::psh | fl::cwr, p_nxt_, p_rcv_, pattern(100, 4));
  p_nxt_ += 100;
  advance(params_.delayed_ack_ns);
  Seg n = expect_ack(p_nxt_, "ACK after CWR");
  EXPECT_FALSE(n.flags & fl::ece);
  // Nothing owed any more: the stack's data carries no ECE either.
  app_send(pattern(100));
  EXPECT_FALSE(expect(fl::ack, "data").flags & fl::ece);
  EXPECT_EQ(read_all().size(), 400u);
}

// ===========================================================================================
// 11. User timeout (RFC 5482, Linux TCP_USER_TIMEOUT)
// ===========================================================================================

class UserTimeout : public Established {
 protected:
  UserTimeout() { params_.socket.user_timeout_ns = kSec; }
};

// RFC 5482 §3: data unacknowledged for the user timeout ends the connection (timed_out) at 1 s,
// while the retry count (15) would have allowed minutes of retransmissions.
TEST_F(UserTimeout, UnacknowledgedDataFailsAtTheUserTimeout) {
  app_send(pattern(500));
  expect(fl::ack, "data");
  advance(kSec - kMs);
  take_all();
  EXPECT_EQ(conn_->state(), State::established);
  EXPECT_LT(stats().rto_timeouts + stats().tlp_probes, params_.max_retries);
  advance(kMs);
  EXPECT_EQ(conn_->state(), State::closed);
  ASSERT_TRUE(conn_->error());
  EXPECT_EQ(conn_->error()->code, Errc::timed_out);
  EXPECT_TRUE(events_ & ev::error);
  conn_->close();
  conn_ = nullptr;
}

// RFC 5482 with the persist timer (as Linux): the peer answers every zero-window probe (which keeps
// an RFC 1122 §4.2.2.17 connection open forever), but the user timeout ends it.
TEST_F(UserTimeout, ZeroWindowProbingFailsAtTheUserTimeout) {
  peer_ack(p_rcv_, 0);
  const SeqNum una = p_rcv_;
  const uint64_t t0 = now_;
  app_send(pattern(1000));
  expect_nothing("(zero window)");
  uint64_t first_probe = 0;
  uint64_t failed = 0;
  for (int ms = 1; ms <= 3000 && failed == 0; ++ms) {
    advance(kMs);
    for (const Seg& s : take_all()) {
      if (s.len() == 1 && first_probe == 0) first_probe = now_;
      p_rcv_ = una;
      peer_ack(una, 0);  // answered: still closed
      take_all();
    }
    if (conn_->state() == State::closed) failed = now_;
  }
  ASSERT_NE(first_probe, 0u);
  ASSERT_NE(failed, 0u) << "the connection must fail";
  EXPECT_GE(failed, t0 + kSec) << "not before the user timeout";
  EXPECT_LE(failed, first_probe + kSec) << "at most the user timeout after probing began";
  ASSERT_TRUE(conn_->error());
  EXPECT_EQ(conn_->error()->code, Errc::timed_out);
  EXPECT_LE(stats().persist_probes, 3u);
  conn_->close();
  conn_ = nullptr;
}

// Data that keeps being acknowledged never hits the user timeout (it measures time without
// progress, RFC 5482 §3), however long the transfer.
TEST_F(UserTimeout, ProgressKeepsTheConnectionAlive) {
  std::vector<Seg> prev;
  for (int i = 0; i < 300; ++i) {  // 3 s, always one segment unacknowledged
    app_send(pattern(M, static_cast<uint8_t>(i)));
    auto now_sent = take_all();
    advance(kRtt);
    if (!prev.empty()) peer_ack(prev.back().end());
    if (!now_sent.empty()) prev = now_sent;
  }
  EXPECT_EQ(conn_->state(), State::established);
  EXPECT_FALSE(conn_->error());
  EXPECT_GT(conn_->info().bytes_in_flight, 0u);
  EXPECT_EQ(stats().rto_timeouts, 0u);
}

// ===========================================================================================
// 12. Cork, MSG_MORE, not-sent low-water mark, per-socket MSS
// ===========================================================================================

// TCP_CORK (Linux): corked writes leave as full segments only, even with TCP_NODELAY; uncorking
// sends the partial tail at once (Nagle notwithstanding).
TEST_F(Established, CorkSendsFullSegmentsOnlyAndUncorkPushesTheTail) {
  conn_->set_nodelay(true);
  conn_->set_cork(true);
  Bytes all;
  std::vector<Seg> out;
  for (int i = 0; i < 7; ++i) {
    Bytes w = pattern(500, static_cast<uint8_t>(i));
    all.insert(all.end(), w.begin(), w.end());
    app_send(w);
    for (const Seg& s : take_all()) out.push_back(s);
  }
  ASSERT_EQ(out.size(), 2u) << "3500 bytes corked: two full segments";
  for (const Seg& s : out) EXPECT_EQ(s.len(), M);
  conn_->set_cork(false);
  Seg tail = expect(fl::ack, "the tail at uncork");
  EXPECT_EQ(tail.len(), 3500u - 2 * M);
  EXPECT_EQ(tail.seq.v, out[1].end().v);
  Bytes got = out[0].payload;
  got.insert(got.end(), out[1].payload.begin(), out[1].payload.end());
  got.insert(got.end(), tail.payload.begin(), tail.payload.end());
  EXPECT_EQ(got, all);
  advance(kRtt);
  peer_ack(tail.end());
}

// Linux: a corked partial segment waits at most 200 ms.
TEST_F(Established, CorkedTailLeavesAfter200Ms) {
  conn_->set_nodelay(true);
  conn_->set_cork(true);
  app_send(pattern(500));
  expect_nothing("(corked)");
  advance(200 * kMs - kMs);
  expect_nothing("(199 ms)");
  advance(kMs);
  Seg s = expect(fl::ack, "the tail at the 200 ms ceiling");
  EXPECT_EQ(s.len(), 500u);
  EXPECT_TRUE(conn_->info().cork) << "still corked";
}

// Linux MSG_MORE: a partial last segment waits for the next send without the flag.
TEST_F(Established, SendFlagMoreHoldsThePartialTail) {
  conn_->set_nodelay(true);
  ASSERT_TRUE(conn_->send_copy(pattern(500, 1), send_flag::more));
  expect_nothing("(more follows)");
  ASSERT_TRUE(conn_->send_copy(pattern(500, 2), send_flag::more));
  expect_nothing("(more follows)");
  ASSERT_TRUE(conn_->send_copy(pattern(300, 3)));
  Seg s = expect(fl::ack, "everything at the last send");
  EXPECT_EQ(s.len(), 1300u);
  expect_nothing();
  // Full segments go at once; only the partial tail waits.
  ASSERT_TRUE(conn_->send_copy(pattern(2000, 4), send_flag::more));
  Seg f = expect(fl::ack, "the full segment");
  EXPECT_EQ(f.len(), M);
  expect_nothing("(the partial tail waits)");
  ASSERT_TRUE(conn_->send_copy(pattern(100, 5)));
  Seg t = expect(fl::ack, "the tail");
  EXPECT_EQ(t.len(), 2000u - M + 100);
}

// Linux TCP_NOTSENT_LOWAT: ev::writable (and writable_now()) wait until fewer than the mark's bytes
// are unsent, whatever the free buffer space.
TEST_F(Established, NotsentLowatDelaysWritable) {
  conn_->set_notsent_lowat(4000);
  app_send(pattern(20 * M));
  auto segs = take_all();
  ASSERT_EQ(segs.size(), 10u);
  EXPECT_EQ(conn_->info().notsent, 10 * M);
  EXPECT_FALSE(conn_->writable_now());
  events_ = 0;
  advance(kRtt);
  peer_ack(segs[1].end());  // slow start: 4 more segments leave, 6 remain unsent
  auto more = take_all();
  EXPECT_EQ(more.size(), 4u);
  EXPECT_EQ(conn_->info().notsent, 6 * M);
  EXPECT_FALSE(events_ & ev::writable) << "8688 bytes unsent: above the mark";
  EXPECT_FALSE(conn_->writable_now());
  peer_ack(segs[4].end());  // 6 more leave: nothing unsent
  take_all();
  EXPECT_EQ(conn_->info().notsent, 0u);
  EXPECT_TRUE(events_ & ev::writable);
  EXPECT_TRUE(conn_->writable_now());
}

class MaxSegment : public ModernTest {
 protected:
  MaxSegment() { params_.socket.max_segment = 1000; }
};

// Linux TCP_MAXSEG: the SYN announces it and no segment carries more (RFC 9293 §3.7.1, RFC 6691:
// data plus options within the MSS).
TEST_F(MaxSegment, SynAnnouncesItAndSegmentsNeverExceedIt) {
  Seg syn;
  start_active_open(syn_, &syn);
  ASSERT_TRUE(syn.opts.mss.has_value());
  EXPECT_EQ(*syn.opts.mss, 1000u);
  advance(kRtt);
  send(fl::syn | fl::ack, p_nxt_, p_rcv_, {}, syn_options(syn_));  // the peer offers 1460
  p_nxt_ += 1;
  expect_ack(p_nxt_);
  EXPECT_EQ(conn_->info().mss, 988u);
  const Bytes data = pattern(10000);
  app_send(data);
  Bytes got = receive_acking(data.size(), [](const Seg& s) {
    EXPECT_LE(s.len(), 988u);
    EXPECT_LE(s.len() + s.opts.length(), 1000u);
  });
  EXPECT_EQ(got, data);
}

// ===========================================================================================
// 13. info(): congestion-control state through a SACK recovery
// ===========================================================================================

class InfoRecovery : public Established {
 protected:
  InfoRecovery() { params_.socket.congestion = CcAlgo::newreno; }
};

// ca_state open -> disorder (SACKs, nothing lost yet) -> recovery (RFC 8985 / RFC 6675) -> open;
// lost and sacked during it. Segments 0 and 1 are lost: PRR (RFC 6937) resends one, then the other.
TEST_F(InfoRecovery, CaStateThroughSackRecovery) {
  app_send(pattern(10 * M));
  auto segs = take_all();
  ASSERT_EQ(segs.size(), 10u);
  const SeqNum b = segs[0].seq;
  auto S = [&](uint32_t i) { return b + i * M; };
  EXPECT_EQ(conn_->info().ca_state, CaState::open);
  advance(kRtt);
  peer_sack(S(0), {{S(2), S(3)}});
  EXPECT_EQ(conn_->info().ca_state, CaState::disorder);
  EXPECT_EQ(conn_->info().sacked, M);
  EXPECT_EQ(conn_->info().lost, 0u);
  peer_sack(S(0), {{S(2), S(4)}});
  peer_sack(S(0), {{S(2), S(5)}});
  auto r = take_all();
  ASSERT_EQ(r.size(), 1u);
  EXPECT_EQ(r[0].seq.v, S(0).v);
  TcpInfo i = conn_->info();
  EXPECT_EQ(i.ca_state, CaState::recovery);
  EXPECT_EQ(i.sacked, 3 * M);
  EXPECT_EQ(i.lost, M) << "segment 1: marked lost, not yet resent";
  EXPECT_EQ(i.retransmits, 1u);
  peer_sack(S(0), {{S(2), S(6)}});
  EXPECT_TRUE(take_all().empty());
  peer_sack(S(0), {{S(2), S(7)}});
  r = take_all();
  ASSERT_EQ(r.size(), 1u);
  EXPECT_EQ(r[0].seq.v, S(1).v);
  EXPECT_EQ(conn_->info().lost, 0u);
  EXPECT_EQ(conn_->info().ca_state, CaState::recovery);
  advance(kRtt);
  peer_ack(S(10));
  i = conn_->info();
  EXPECT_EQ(i.ca_state, CaState::open);
  EXPECT_EQ(i.sacked, 0u);
  EXPECT_EQ(i.lost, 0u);
  EXPECT_EQ(i.bytes_in_flight, 0u);
  EXPECT_EQ(stats().rto_timeouts, 0u);
}

}  // namespace
}  // namespace tern::tcp
