// ICMP errors into TCP (RFC 1122 §4.2.3.9, RFC 1191, RFC 5461, RFC 5927),
// with the scripted peer of tcp_peer.hpp: the stack (198.18.0.1) talks to the
// test (198.18.0.2); ICMP errors come from a router at 198.18.0.254 and quote
// datagrams the stack really sent (or forged ones, as an off-path attacker
// would). A fake clock drives every timer.
#include <gtest/gtest.h>

#include <cstdint>
#include <vector>

#include "tcp_peer.hpp"
#include "tern/base/byteorder.hpp"
#include "tern/base/checksum.hpp"
#include "tern/l3/stats.hpp"
#include "tern/tcp/tcp.hpp"
#include "tern/wire/icmp.hpp"
#include "tern/wire/ipv4.hpp"
#include "test_support.hpp"

namespace tern::tcp {
namespace {

namespace it = wire::icmp_type;
namespace ic = wire::icmp_code;

const Ipv4Addr kRouter = Ipv4Addr::from_octets(198, 18, 0, 254);
constexpr size_t kQuoteLen = wire::kIpv4MinHeaderLen + 8;  // RFC 792: the header and 64 bits of data

/** A forged datagram header for quoting: @p src -> @p dst, TCP ports and sequence number. */
Bytes forged(Ipv4Addr src, Ipv4Addr dst, uint16_t sport, uint16_t dport, SeqNum seq, bool df = true) {
  wire::Ipv4Header ip;
  ip.total_length = 1500;
  ip.df = df;
  ip.protocol = wire::ip_proto::tcp;
  ip.src = src;
  ip.dst = dst;
  Bytes b(kQuoteLen);
  ip.emit(std::span<uint8_t>(b).first(wire::kIpv4MinHeaderLen));
  store_be16(b.data() + 20, sport);
  store_be16(b.data() + 22, dport);
  store_be32(b.data() + 24, seq.v);
  return b;
}

/** @p datagram's quotable start with its TCP sequence number replaced by @p seq. */
Bytes with_seq(const Bytes& datagram, SeqNum seq) {
  Bytes b(datagram.begin(), datagram.begin() + kQuoteLen);
  store_be32(b.data() + 24, seq.v);
  return b;
}

/** The peer harness plus a router that sends ICMP errors. */
class TcpIcmpBase : public TcpPeerTest {
 protected:
  /** An ICMP error from @p from quoting @p datagram (its first 28 bytes are enough: RFC 792). */
  void icmp(uint8_t type, uint8_t code, const Bytes& datagram, uint16_t mtu = 0, Ipv4Addr from = kRouter) {
    Bytes m(wire::kIcmpHeaderLen);
    m[0] = type;
    m[1] = code;
    store_be32(m.data() + 4, mtu);  // RFC 1191 §4: next-hop MTU in the low 16 bits
    m.insert(m.end(), datagram.begin(), datagram.begin() + static_cast<ptrdiff_t>(kQuoteLen));
    store_be16(m.data() + 2, internet_checksum(m));
    send_ip(from, wire::ip_proto::icmp, m);
  }
  void frag_needed(const Bytes& datagram, uint16_t mtu) {
    icmp(it::dest_unreachable, ic::frag_needed, datagram, mtu);
  }

  uint16_t path_mtu() { return core_->ipv4().path(kIpPeer)->mtu; }
  const l3::L3Stats& l3() { return core_->ipv4().stats(); }
  /** The peer never got what the stack sent since @p s (a router dropped it). */
  void lost_from(const Seg& s) { p_rcv_ = s.seq; }
  /** A check for receive_acking(): every segment fits @p mtu, with DF as @p df. */
  static std::function<void(const Seg&)> fits(uint16_t mtu, bool df) {
    return [mtu, df](const Seg& s) {
      EXPECT_LE(s.ip_len(), mtu) << "segment seq " << s.seq.v;
      EXPECT_EQ(s.df(), df) << "segment seq " << s.seq.v;
    };
  }
};

/** ESTABLISHED (active open, timestamps and SACK on). */
class TcpIcmpTest : public TcpIcmpBase {
 protected:
  void SetUp() override {
    TcpIcmpBase::SetUp();
    open_active();
  }
};

// The attack: one fragmentation-needed with next-hop MTU 68. Before, TCP's MSS
// floor (64) made segments IPv4 dropped as too big with DF, retransmissions too.
TEST_F(TcpIcmpTest, FragNeededWithMtu68KeepsTheTransferGoingInSegmentsThatFit) {
  const Bytes data = pattern(4000);
  app_send(data);
  auto segs = take_all();
  ASSERT_FALSE(segs.empty());
  lost_from(segs[0]);
  frag_needed(segs[0].ip, 68);
  EXPECT_EQ(path_mtu(), ipv4_params_.pmtu_min) << "RFC 5927 §7.2: never below the floor";
  EXPECT_EQ(path_mtu(), 552u);
  // Below the floor: the floor is locked and DF cleared (a real tiny-MTU hop can fragment).
  EXPECT_EQ(receive_acking(data.size(), fits(552, false)), data);
  EXPECT_EQ(l3().dropped(l3::L3Drop::too_big_df), 0u);
  EXPECT_EQ(conn_->state(), State::established);
}

TEST_F(TcpIcmpTest, MtuBelowTheFloorIsClampedToTheFloorAndNeverLower) {
  const Bytes data = pattern(6000);
  app_send(data);
  auto segs = take_all();
  ASSERT_GE(segs.size(), 2u);
  lost_from(segs[0]);
  frag_needed(segs[0].ip, 300);
  EXPECT_EQ(path_mtu(), 552u);
  EXPECT_EQ(l3().pmtu_clamped, 1u);
  EXPECT_EQ(l3().pmtu_updates, 1u);
  // Again, lower still, quoting a sequence number still in flight: the floor holds.
  frag_needed(segs[1].ip, 100);
  EXPECT_EQ(path_mtu(), 552u);
  EXPECT_EQ(l3().pmtu_updates, 1u);
  EXPECT_EQ(l3().dropped(l3::L3Drop::pmtu_not_lower), 1u);
  EXPECT_EQ(conn_->info().mss, 552u - 40 - 12) << "MSS follows the path: 552 - headers - timestamps";
  EXPECT_EQ(receive_acking(data.size(), fits(552, false)), data);
}

class TcpIcmpFloor68 : public TcpIcmpTest {
 protected:
  TcpIcmpFloor68() { ipv4_params_.pmtu_min = 68; }
};

// With the floor at the IPv4 minimum TCP still never sends what IPv4 would drop:
// 40 bytes of headers, 12 of timestamps, 16 of data.
TEST_F(TcpIcmpFloor68, SegmentsShrinkToAnMtuOf68AndTheTransferGoesOn) {
  const Bytes data = pattern(600);
  app_send(data);
  auto segs = take_all();
  ASSERT_FALSE(segs.empty());
  lost_from(segs[0]);
  frag_needed(segs[0].ip, 68);
  EXPECT_EQ(path_mtu(), 68u);
  EXPECT_EQ(l3().pmtu_clamped, 0u);
  EXPECT_EQ(receive_acking(data.size(), fits(68, true)), data);  // not clamped: DF stays
  EXPECT_EQ(l3().dropped(l3::L3Drop::too_big_df), 0u);
}

// SACK blocks would make even a pure ACK too big for 68 bytes: they are cut to what fits.
TEST_F(TcpIcmpFloor68, SackBlocksAreCutToFitATinyPath) {
  app_send(pattern(1000));
  auto segs = take_all();
  ASSERT_FALSE(segs.empty());
  frag_needed(segs[0].ip, 68);
  ASSERT_EQ(path_mtu(), 68u);
  // Three out-of-order pieces from the peer: three holes, three SACK blocks to report.
  std::vector<Seg> out;
  for (uint32_t off : {100u, 300u, 500u}) {
    send(fl::ack, p_nxt_ + off, segs[0].seq, pattern(10));
    for (const Seg& s : take_all()) out.push_back(s);
  }
  ASSERT_FALSE(out.empty());
  bool sacked = false;
  for (const Seg& s : out) {
    EXPECT_LE(s.ip_len(), 68u);
    sacked = sacked || s.opts.sack_count > 0;
  }
  EXPECT_TRUE(sacked) << "at least one block still goes";
  EXPECT_EQ(l3().dropped(l3::L3Drop::too_big_df), 0u);
}

// Another connection (or an earlier one) learned a smaller path MTU: this one's
// next segment is cut to it at once, not dropped by IPv4 first.
TEST_F(TcpIcmpTest, PathMtuLearnedElsewhereClampsTheNextSegment) {
  ASSERT_TRUE(core_->ipv4().update_pmtu(kIpPeer, 1000, now_));
  const Bytes data = pattern(3000);
  app_send(data);
  EXPECT_EQ(receive_acking(data.size(), fits(1000, true)), data);
  EXPECT_EQ(l3().dropped(l3::L3Drop::too_big_df), 0u);
  EXPECT_EQ(conn_->info().mss, 1000u - 40 - 12);
}

TEST_F(TcpIcmpTest, IcmpQuotingASequenceNumberNotInFlightIsIgnoredAndCounted) {
  app_send(pattern(3000));
  auto segs = take_all();
  ASSERT_FALSE(segs.empty());
  const SeqNum una = segs[0].seq, nxt = segs.back().end();
  frag_needed(with_seq(segs[0].ip, una - 1), 600);        // already acknowledged
  frag_needed(with_seq(segs[0].ip, nxt), 600);            // SND.NXT: not sent yet
  frag_needed(with_seq(segs[0].ip, nxt + 100'000), 600);  // far away
  icmp(it::dest_unreachable, ic::port_unreachable, with_seq(segs[0].ip, una - 1000));
  EXPECT_EQ(stats().dropped(TcpDrop::icmp_not_in_flight), 4u);
  EXPECT_EQ(path_mtu(), 1500u);
  EXPECT_EQ(l3().pmtu_updates, 0u);
  EXPECT_EQ(conn_->state(), State::established);
  EXPECT_FALSE(conn_->soft_error());
  peer_ack();
}

TEST_F(TcpIcmpTest, IcmpWithoutAMatchingConnectionLeavesThePathMtuAndIsCounted) {
  // An off-path attacker who knows both addresses but not a live port pair.
  frag_needed(forged(kIpStack, kIpPeer, 5555, 6666, SeqNum{1234}), 576);
  EXPECT_EQ(path_mtu(), 1500u);
  EXPECT_EQ(stats().dropped(TcpDrop::icmp_no_connection), 1u);
  // Nor about a datagram we did not send.
  frag_needed(forged(kRouter, kIpPeer, stack_port_, peer_port_, p_rcv_), 576);
  EXPECT_EQ(path_mtu(), 1500u);
  EXPECT_EQ(l3().dropped(l3::L3Drop::icmp_not_ours), 1u);
  EXPECT_EQ(l3().pmtu_updates, 0u);
  EXPECT_EQ(conn_->state(), State::established);
}

// RFC 5461 §4 (and Linux): in a synchronized state a hard error is soft; a
// spoofed port unreachable is no blind reset.
TEST_F(TcpIcmpTest, PortUnreachableInEstablishedIsASoftError) {
  app_send(pattern(1000));  // one segment (no Nagle-held tail)
  auto segs = take_all();
  ASSERT_FALSE(segs.empty());
  events_ = 0;
  icmp(it::dest_unreachable, ic::port_unreachable, segs[0].ip);
  EXPECT_EQ(conn_->state(), State::established);
  EXPECT_FALSE(conn_->error());
  ASSERT_TRUE(conn_->soft_error());
  EXPECT_EQ(conn_->soft_error()->code, Errc::connection_refused);
  EXPECT_TRUE(events_ & ev::soft_error);
  EXPECT_FALSE(events_ & ev::error);
  EXPECT_EQ(stats().icmp_soft_errors, 1u);
  // Later data flows both ways.
  peer_ack();
  const Bytes more = pattern(1000, 3);
  app_send(more);
  EXPECT_EQ(receive_acking(more.size()), more);
  const Bytes in = pattern(50, 9);
  peer_data(in);
  EXPECT_EQ(read_all(), in);
  EXPECT_EQ(conn_->state(), State::established);
}

TEST_F(TcpIcmpTest, TimeExceededInEstablishedIsASoftError) {
  app_send(pattern(500));
  auto segs = take_all();
  ASSERT_FALSE(segs.empty());
  icmp(it::time_exceeded, ic::ttl_exceeded, segs[0].ip);
  EXPECT_EQ(conn_->state(), State::established);
  ASSERT_TRUE(conn_->soft_error());
  EXPECT_EQ(conn_->soft_error()->code, Errc::host_unreachable);
  peer_ack();
}

class TcpIcmpFewRetries : public TcpIcmpTest {
 protected:
  TcpIcmpFewRetries() { params_.max_retries = 3; }
  /** Let retransmission timeouts run until the connection gives up (bounded). */
  void until_closed() {
    for (int i = 0; i < 40 && conn_->state() != State::closed; ++i) {
      advance(10 * kSec);
      drain();
    }
  }
};

TEST_F(TcpIcmpFewRetries, SoftErrorIsTheReasonOnlyWhenRetransmissionsGiveUp) {
  app_send(pattern(1000));
  auto segs = take_all();
  ASSERT_FALSE(segs.empty());
  icmp(it::dest_unreachable, ic::port_unreachable, segs[0].ip);
  EXPECT_EQ(conn_->state(), State::established);
  advance(conn_->info().rto_ns);
  Seg r = expect(fl::ack, "a retransmission after the soft error");
  EXPECT_EQ(r.seq.v, segs[0].seq.v);
  EXPECT_EQ(conn_->state(), State::established);
  EXPECT_FALSE(events_ & ev::error);
  until_closed();
  ASSERT_EQ(conn_->state(), State::closed);
  ASSERT_TRUE(conn_->error());
  EXPECT_EQ(conn_->error()->code, Errc::connection_refused) << "the soft error, not timed_out";
  EXPECT_TRUE(events_ & ev::error);
  EXPECT_EQ(stats().rto_timeouts, params_.max_retries);
  conn_->close();
  conn_ = nullptr;
}

TEST_F(TcpIcmpFewRetries, SoftErrorIsStaleOnceDataIsAcknowledged) {
  app_send(pattern(1000));
  auto segs = take_all();
  ASSERT_FALSE(segs.empty());
  icmp(it::dest_unreachable, ic::host_unreachable, segs[0].ip);
  ASSERT_TRUE(conn_->soft_error());
  peer_ack();  // progress after the error: the path works
  app_send(pattern(1000, 5));
  ASSERT_FALSE(take_all().empty());
  until_closed();  // then the peer goes silent
  ASSERT_EQ(conn_->state(), State::closed);
  ASSERT_TRUE(conn_->error());
  EXPECT_EQ(conn_->error()->code, Errc::timed_out);
  conn_->close();
  conn_ = nullptr;
}

class TcpIcmpSynSent : public TcpIcmpBase {
 protected:
  void SetUp() override {
    TcpIcmpBase::SetUp();
    start_active_open(PeerSyn{}, &syn_);
  }
  Seg syn_;
};

// RFC 1122 §4.2.3.9: before synchronization a hard error still ends the attempt,
// but only when it quotes the SYN itself (SND.UNA = ISS, SND.NXT = ISS + 1).
TEST_F(TcpIcmpSynSent, HardErrorAbortsOnlyWhenItQuotesTheSyn) {
  icmp(it::dest_unreachable, ic::port_unreachable, with_seq(syn_.ip, syn_.seq + 1));
  EXPECT_EQ(stats().dropped(TcpDrop::icmp_not_in_flight), 1u);
  EXPECT_EQ(conn_->state(), State::syn_sent);
  icmp(it::dest_unreachable, ic::port_unreachable, syn_.ip);
  EXPECT_EQ(conn_->state(), State::closed);
  ASSERT_TRUE(conn_->error());
  EXPECT_EQ(conn_->error()->code, Errc::connection_refused);
  EXPECT_TRUE(events_ & ev::error);
  EXPECT_EQ(stats().icmp_hard_errors, 1u);
  conn_->close();
  conn_ = nullptr;
}

}  // namespace
}  // namespace tern::tcp
