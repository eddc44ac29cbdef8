/**
 * @file
 * Loss detection and recovery for one core's connections (issue 12). TCP
 * input (input.cpp check_ack → process_ack/process_dupack) hands each ACK
 * here: its SACK blocks (D-SACK split off, RFC 2883 §4), RACK's time-based
 * loss marking (RFC 8985 §6), the tail loss probe's verdict (RFC 8985 §7.4),
 * spurious-retransmission detection (D-SACK counting; Eifel, RFC 3522) and
 * undo (RFC 4015), and the PRR window during recovery (RFC 6937). What to
 * resend is read by output.cpp (output_recovery → output_rack); the probe
 * and reordering timers share the retransmission timer (timers.cpp).
 */
#include <algorithm>

#include "tern/tcp/tcp.hpp"
#include "tern/tcp/tcp_internal.hpp"

namespace tern::tcp {

using wire::SeqNum;
namespace fl = wire::tcp_flag;

std::string_view to_string(LossRecovery r) noexcept {
  return r == LossRecovery::rack_tlp ? "rack-tlp" : "rfc6675";
}

std::optional<LossRecovery> loss_recovery_from_string(std::string_view s) noexcept {
  if (s == "rack-tlp" || s == "rack") return LossRecovery::rack_tlp;
  if (s == "rfc6675" || s == "sack") return LossRecovery::rfc6675;
  return std::nullopt;
}

// ---- the RACK logs: per core, recycled, bounded by the connections that send ----

void Tcp::rack_log_attach(Connection& c) {
  if (c.rack_.log() != nullptr) return;
  if (rack_free_ == nullptr) {
    if (rack_logs_ >= p_.max_connections) {
      ++stats_.rack_log_full;  // never more logs than TCBs: this flight goes without RACK
      return;
    }
    constexpr uint32_t kChunk = 16;
    auto chunk = std::make_unique<TxLog[]>(kChunk);
    for (uint32_t i = 0; i < kChunk; ++i) {
      chunk[i].next_free = rack_free_;
      rack_free_ = &chunk[i];
    }
    rack_chunks_.push_back(std::move(chunk));
    rack_logs_ += kChunk;
  }
  TxLog* l = rack_free_;
  rack_free_ = l->next_free;
  c.rack_.attach(l, c.snd_una_);
}

void Tcp::rack_log_release(Connection& c) {
  TxLog* l = c.rack_.take_log();
  if (l == nullptr) return;
  stats_.rack_log_full += c.rack_.take_log_full();
  l->next_free = rack_free_;
  rack_free_ = l;
}

// ---- ACK input ----

// RFC 2883 §4: the first block is a D-SACK when it lies below the cumulative ACK or inside the
// second block. The scoreboard takes the others (RFC 6675 §5).
Tcp::AckSack Tcp::sack_input(Connection& c, const Segment& s) {
  AckSack a;
  if (!c.sack_ok_) return a;
  auto blocks = s.v.options().sack_blocks();
  if (blocks.empty()) {
    // RFC 6675 §5 / RFC 2018 §3: octets below the cumulative ACK are delivered, no longer SACKed
    // (a plain ACK, e.g. the one filling the last hole, must not leave them on the scoreboard).
    if (!c.sb_.empty()) c.sb_.update(c.snd_una_, c.snd_max_, blocks);
    return a;
  }
  const wire::SackBlock& b0 = blocks[0];
  const bool below = b0.right <= s.ack;
  const bool inside = blocks.size() > 1 && blocks[1].left <= b0.left && b0.right <= blocks[1].right;
  // A D-SACK names data we sent: within the last window below SND.MAX, never empty or huge.
  const bool sane = b0.left < b0.right && b0.right - b0.left <= 65535 && b0.right <= c.snd_max_ &&
                    b0.left >= c.snd_una_ - std::max<uint32_t>(c.max_snd_wnd_, 65535);
  if ((below || inside) && sane) {
    blocks = blocks.subspan(1);
    // The same report again (a duplicated ACK, or the pieces of one GSO/TSO-cut segment, which all
    // carry its options) is one report: counting it twice would undo on evidence never given.
    if (!(c.last_dsack_.left == b0.left && c.last_dsack_.right == b0.right)) {
      a.dsack = true;
      a.dsack_block = b0;
      c.last_dsack_ = b0;
      ++stats_.dsacks_received;
    }
  }
  if (!blocks.empty() || !c.sb_.empty()) a.newly_sacked = c.sb_.update(c.snd_una_, c.snd_max_, blocks);
  return a;
}

// RFC 8985 §6.2: update RACK from the ACK, mark losses, enter recovery on the first. Returns when
// the reordering timer should fire (0: not needed).
uint64_t Tcp::rack_ack(Connection& c, const AckSack& a) {
  c.rack_.on_ack(c.snd_una_, c.snd_nxt_, c.sb_, a.dsack, now_);
  bool lost = false;
  const uint64_t before = c.rack_.marked_lost();
  const uint64_t t =
      c.rack_.detect_loss(c.sb_, c.rtt_.srtt_ns(), c.in_recovery_, effective_mss(c), now_, &lost);
  stats_.rack_marked_lost += c.rack_.marked_lost() - before;
  if (lost) {
    if (!c.in_recovery_) enter_recovery(c);
    schedule(c);
  }
  return t;
}

// RFC 6675 §5 / RFC 8985 §7.4 step: a SACK connection enters recovery. PRR (RFC 6937 §3) sizes
// what it sends from here on; the first ACK's prr_ack() allows at least the first retransmission.
void Tcp::enter_recovery(Connection& c) {
  c.in_recovery_ = true;
  c.recover_ = c.snd_max_;
  // RFC 5681 §3.2 step 2: data sent by limited transmit MUST NOT count in FlightSize for ssthresh.
  c.cc_.on_loss(flight(c) - std::min(c.lt_bytes_, flight(c)), now_);
  c.lt_bytes_ = 0;
  c.rtt_timing_ = false;
  c.high_rxt_ = c.snd_una_;
  c.prr_delivered_ = 0;
  c.prr_out_ = 0;
  c.recover_fs_ = flight(c);  // RFC 6937 §3: RecoverFS = snd.nxt - snd.una
  // A go-back-N resend in progress (after an RTO or a smaller path MTU) stops here: RACK marked what
  // it had not reached yet lost and resends exactly that, so nothing goes twice.
  if (rack_on(c) && c.snd_nxt_ < c.snd_max_) c.snd_nxt_ = c.snd_max_;
  c.tlp_on_ = false;
  begin_episode(c, false);
  ++stats_.sack_recoveries;
}

void Tcp::exit_recovery(Connection& c) {
  c.in_recovery_ = false;
  c.dupacks_ = 0;
  if (c.sack_ok_) {
    // RFC 6937 §3.1: at the end of recovery cwnd = ssthresh (PRR kept pipe near it: no burst, no
    // collapse to FlightSize + SMSS).
    c.cc_.set_cwnd(c.cc_.ssthresh());
    c.rack_.on_recovery_exit();
  } else {
    c.cc_.on_recovery_exit(flight(c), now_);
  }
}

// The bytes in flight during SACK recovery: RFC 6675 §4 SetPipe(), or with RACK flight less SACKed
// less marked lost (RFC 8985 §6.2: lost segments are not in flight until resent).
uint32_t Tcp::recovery_pipe(const Connection& c) const noexcept {
  if (rack_on(c)) {
    const uint32_t out = flight(c);
    const uint32_t gone = c.sb_.sacked_bytes() + c.rack_.lost_bytes(c.sb_);
    return out > gone ? out - gone : 0;
  }
  return c.sb_.pipe(c.snd_una_, c.snd_max_, c.high_rxt_, effective_mss(c));
}

// RFC 6937 §3.1, on each ACK in recovery: proportional rate reduction while pipe is above
// ssthresh, then the slow-start reduction bound (PRR-SSRB) up to it. cwnd = pipe + sndcnt, so
// output's "cwnd - pipe" test sends exactly sndcnt.
void Tcp::prr_ack(Connection& c, uint32_t delivered) {
  c.prr_delivered_ += delivered;
  const uint32_t mss = effective_mss(c);
  const uint32_t pipe = recovery_pipe(c);
  const uint64_t ssthresh = c.cc_.ssthresh();
  int64_t sndcnt;
  if (pipe > ssthresh) {
    const uint64_t fs = std::max<uint32_t>(c.recover_fs_, 1);
    sndcnt = static_cast<int64_t>((uint64_t{c.prr_delivered_} * ssthresh + fs - 1) / fs) - c.prr_out_;
  } else {
    const int64_t limit = std::max<int64_t>(int64_t{c.prr_delivered_} - c.prr_out_, int64_t{delivered}) + mss;
    sndcnt = std::min<int64_t>(static_cast<int64_t>(ssthresh) - pipe, limit);
  }
  sndcnt = std::max<int64_t>(sndcnt, 0);
  // The first retransmission goes on entering recovery whatever the arithmetic says (RFC 6937
  // §3.1 fast retransmit; Linux forces it the same way).
  if (c.prr_out_ == 0 && sndcnt < mss) sndcnt = mss;
  c.cc_.set_cwnd(static_cast<uint32_t>(std::min<uint64_t>(uint64_t{pipe} + sndcnt, UINT32_MAX)));
  schedule(c);
}

// RFC 8985 §7.4.2 TLP_process_ack().
void Tcp::tlp_ack(Connection& c, const Segment& s, const AckSack& a) {
  if (!c.tlp_on_ || s.ack < c.tlp_end_) return;
  if (!c.tlp_retrans_) {
    c.tlp_on_ = false;  // a probe of new data was delivered
    return;
  }
  if (a.dsack && a.dsack_block.right == c.tlp_end_) {
    c.tlp_on_ = false;  // the probe's retransmission was redundant: nothing was lost
    return;
  }
  const bool dup_no_sack =
      s.ack == c.tlp_end_ && s.len == 0 && s.v.options().sack_blocks().empty() && !c.sack_ok_;
  if (s.ack > c.tlp_end_ || dup_no_sack) {
    // The probe repaired a loss: respond as to one (cwnd and ssthresh reduced once).
    c.tlp_on_ = false;
    ++stats_.tlp_recoveries;
    if (!c.in_recovery_) c.cc_.set_cwnd(c.cc_.on_loss(flight(c), now_));
  }
}

// A recovery episode (fast recovery or an RTO) starts: its retransmitted bytes are counted until
// D-SACKs prove them all needless (undo_check).
void Tcp::begin_episode(Connection& c, bool rto) {
  c.undo_on_ = p_.undo;
  c.undo_rto_ = rto;
  c.undo_retrans_ = c.undo_dsacked_ = 0;
}

// Spurious retransmissions (issue 12): when D-SACKs cover every byte the episode retransmitted,
// none was needed; undo the congestion response (RFC 4015 response; Linux's tcp_try_undo_dsack).
// Returns true when it undid.
bool Tcp::undo_check(Connection& c, const Segment& s, const AckSack& a, uint32_t acked) {
  (void)s;
  if (!a.dsack || !c.undo_on_) return false;
  c.undo_dsacked_ += a.dsack_block.right - a.dsack_block.left;
  if (c.undo_retrans_ > 0 && c.undo_dsacked_ >= c.undo_retrans_) {
    ++stats_.spurious_undos;
    undo_now(c, acked);
    return true;
  }
  return false;
}

void Tcp::undo_now(Connection& c, uint32_t acked) {
  c.undo_on_ = false;
  c.eifel_on_ = false;
  c.cc_.undo(c.undo_rto_, flight(c), acked, now_);
  c.in_loss_ = false;  // a timeout found spurious ends the loss state (CaState::loss) too
  if (c.in_recovery_) {
    c.in_recovery_ = false;
    c.dupacks_ = 0;
    c.rack_.on_recovery_exit();
  }
}

// RFC 3522 §3 (Eifel detection): the first ACK after an RTO echoes a timestamp older than the
// retransmission's: the original arrived, the timeout was spurious. RFC 4015 §4 response: undo,
// and go on with new data (SND.NXT = SND.MAX) instead of resending the window. Returns true when it
// undid.
bool Tcp::eifel_check(Connection& c, const Segment& s, uint32_t acked) {
  if (!c.eifel_on_) return false;
  c.eifel_on_ = false;
  const auto& ts = s.v.options().timestamps;
  if (!c.ts_ok_ || !ts || ts->tsecr == 0) return false;
  if (static_cast<int32_t>(ts->tsecr - c.eifel_tsval_) >= 0) return false;
  ++stats_.spurious_rtos;
  undo_now(c, acked);
  c.snd_nxt_ = c.snd_max_;
  return true;
}

// RFC 2883 §4: remember a duplicate to report in the next ACK's first SACK block.
void Tcp::note_dsack(Connection& c, SeqNum left, SeqNum right) {
  if (!c.sack_ok_ || !p_.dsack || !(left < right)) return;
  c.dsack_l_ = left;
  c.dsack_r_ = right;
  c.dsack_pending_ = true;
  ack_soon(c);
}

// ---- output ----

// RFC 8985 §6 recovery output: resend what RACK marked lost while PRR's cwnd - pipe allows;
// new data is the caller's loop (RFC 6675 §5 (C) rule 2).
bool Tcp::output_rack(Connection& c) {
  const uint32_t mss = effective_mss(c);
  bool sent = false;
  for (int guard = 0; guard < 64; ++guard) {
    if (c.cc_.cwnd() < recovery_pipe(c) + mss) break;
    auto seg = c.rack_.next_lost(c.sb_, c.snd_una_, mss);
    if (!seg) break;
    const SeqNum data_end = c.send_end();
    uint32_t len =
        seg->seq < data_end ? std::min<uint32_t>(seg->len, static_cast<uint32_t>(data_end - seg->seq)) : 0;
    uint8_t flags = fl::ack;
    if (len == 0) {
      if (!c.fin_queued_) break;
      flags |= fl::fin;
    }
    uint32_t n = 0;
    if (!send_segment(c, seg->seq, len, flags, &n)) break;
    ++stats_.sack_retransmits;
    sent = true;
  }
  return sent;
}

// ---- timers: the probe and reordering timers share rtx_timer_ (timers.cpp) ----

// RFC 8985 §7.2: a probe is scheduled only outside recovery, with nothing SACKed, no probe out
// and the RTO not backed off; only for SACK connections (as Linux: D-SACK tells a needless probe).
bool Tcp::tlp_ok(const Connection& c) const noexcept {
  return p_.recovery == LossRecovery::rack_tlp && c.sack_ok_ && !c.in_recovery_ && c.sb_.empty() &&
         !c.tlp_on_ && c.retries_ == 0 && sends_data(c.st_) && c.snd_max_ != c.snd_una_;
}

// RFC 8985 §7.2 TLP_calc_PTO(): 2 x SRTT, plus the peer's worst-case delayed ACK when one segment
// is out (200 ms, Linux's TCP_DELACK_MAX); 1 s without an RTT sample.
uint64_t Tcp::pto_ns(const Connection& c) const noexcept {
  const uint64_t srtt = c.rtt_.srtt_ns();
  if (srtt == 0) return 1'000'000'000;
  uint64_t pto = 2 * srtt;
  if (flight(c) <= effective_mss(c)) pto += 200'000'000;
  return pto;
}

void Tcp::tlp_timeout(Connection& c) {
  if (!sends_data(c.st_) || c.snd_max_ == c.snd_una_) return;
  if (!tlp_ok(c)) {
    arm_rtx(c);
    return;
  }
  const uint32_t mss = effective_mss(c);
  const SeqNum data_end = c.send_end();
  uint32_t n = 0;
  bool sent = false;
  // RFC 8985 §7.3: new data if there is some and the peer's window takes it ...
  if (c.snd_nxt_ == c.snd_max_ && c.snd_nxt_ < data_end) {
    const uint32_t unsent = static_cast<uint32_t>(data_end - c.snd_nxt_);
    const uint32_t len = std::min(unsent, mss);
    if (c.snd_una_ + c.snd_wnd_ >= c.snd_nxt_ + len) {
      uint8_t flags = fl::ack;
      if (len == unsent) flags |= fl::psh | (c.fin_queued_ ? fl::fin : 0);
      if (send_segment(c, c.snd_nxt_, len, flags, &n) && n > 0) {
        c.snd_nxt_ += n + ((flags & fl::fin) && n == len ? 1 : 0);
        c.tlp_retrans_ = false;
        ++stats_.tlp_new_data;
        sent = true;
      }
    }
  }
  if (!sent) {
    // ... else the last segment again (with the FIN if it carried one).
    const bool fin_sent = c.fin_queued_ && c.snd_max_ == data_end + 1;
    const SeqNum last = fin_sent ? data_end : c.snd_max_;
    const uint32_t len = std::min<uint32_t>(mss, static_cast<uint32_t>(last - c.snd_una_));
    const uint8_t flags = static_cast<uint8_t>(fl::ack | (fin_sent ? fl::fin : 0));
    if (!send_segment(c, last - len, len, flags, &n)) {
      arm_rtx(c);
      return;
    }
    c.tlp_retrans_ = true;
  }
  c.tlp_on_ = true;
  c.tlp_end_ = c.snd_max_;
  ++stats_.tlp_probes;
  arm_rtx(c);  // RFC 8985 §7.3: after the probe, the RTO
}

// RFC 8985 §6.2: the reordering window passed for a segment: mark it lost and recover.
void Tcp::reo_timeout(Connection& c) {
  ++stats_.rack_reo_timeouts;
  if (!sends_data(c.st_) || c.snd_max_ == c.snd_una_ || !rack_on(c)) {
    if (c.snd_max_ != c.snd_una_) arm_rtx(c);
    return;
  }
  bool lost = false;
  const uint64_t before = c.rack_.marked_lost();
  const uint64_t t =
      c.rack_.detect_loss(c.sb_, c.rtt_.srtt_ns(), c.in_recovery_, effective_mss(c), now_, &lost);
  stats_.rack_marked_lost += c.rack_.marked_lost() - before;
  if (lost) {
    if (!c.in_recovery_) {
      enter_recovery(c);
      prr_ack(c, 0);
    }
    schedule(c);
  }
  if (t != 0) {
    arm_early(c, rtx_mode::reorder, t);
    return;
  }
  c.rtx_mode_ = rtx_mode::rto;
  wheel_.arm(c.rtx_timer_, std::max(c.rto_due_ns_, now_));
}

}  // namespace tern::tcp
