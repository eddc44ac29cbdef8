/**
 * @file
 * TCP timers, run from the core's timer wheel: retransmission (RFC 6298),
 * persist / zero-window probing (RFC 9293 §3.8.6.1, RFC 1122 §4.2.2.17),
 * delayed ACK (RFC 1122 §4.2.3.2), keepalive (RFC 1122 §4.2.3.6), and the
 * orphaned FIN-WAIT-2 and linger deadlines. Each connection has three
 * intrusive timers; arming never allocates.
 */
#include <algorithm>

#include "tern/tcp/tcp.hpp"
#include "tern/tcp/tcp_internal.hpp"

namespace tern::tcp {

using wire::SeqNum;
namespace fl = wire::tcp_flag;

void Tcp::on_rtx_timer(Timer& t, uint64_t now) {
  auto* c = static_cast<Connection*>(t.ctx);
  Tcp& tcp = c->tcp_;
  tcp.now_ = std::max(tcp.now_, now);
  if (c->persist_) {
    tcp.persist_timeout(*c);
    return;
  }
  const uint8_t mode = c->rtx_mode_;
  c->rtx_mode_ = rtx_mode::rto;
  if (mode == rtx_mode::probe) {
    tcp.tlp_timeout(*c);
  } else if (mode == rtx_mode::reorder && tcp.now_ < c->rto_due_ns_) {
    tcp.reo_timeout(*c);
  } else {
    tcp.rtx_timeout(*c);
  }
}

void Tcp::on_dack_timer(Timer& t, uint64_t now) {
  auto* c = static_cast<Connection*>(t.ctx);
  c->tcp_.now_ = std::max(c->tcp_.now_, now);
  c->tcp_.dack_timeout(*c);
}

void Tcp::on_ka_timer(Timer& t, uint64_t now) {
  auto* c = static_cast<Connection*>(t.ctx);
  c->tcp_.now_ = std::max(c->tcp_.now_, now);
  c->tcp_.keepalive_timeout(*c);
}

// RFC 5482 (TCP_USER_TIMEOUT): when unacknowledged data has waited its user timeout; UINT64_MAX
// when none applies.
uint64_t Tcp::user_deadline(const Connection& c) const noexcept {
  // A connect() with a timeout (ConnectOptions::timeout_ns) gives up at its deadline as well.
  const uint64_t connect =
      c.st_ == State::syn_sent && c.connect_due_ns_ != 0 ? c.connect_due_ns_ : UINT64_MAX;
  if (c.opt_.user_timeout_ns == 0) return connect;
  return std::min(connect, c.progress_ns_ + c.opt_.user_timeout_ns);
}

// When an RTO started now fires: one RTO away, but never after the user timeout.
uint64_t Tcp::rto_deadline(const Connection& c) const noexcept {
  return std::min(now_ + c.rtt_.rto_ns(), std::max(user_deadline(c), now_ + 1));
}

void Tcp::arm_rtx(Connection& c) {
  c.persist_ = false;
  c.rtx_mode_ = rtx_mode::rto;
  // The RTO fires no later than the user timeout, which then ends the connection (as Linux's
  // tcp_clamp_rto_to_user_timeout).
  c.rto_due_ns_ = rto_deadline(c);
  wheel_.arm(c.rtx_timer_, c.rto_due_ns_);  // RFC 6298 §5.1
}

// The probe or reordering timer in the retransmission timer's place: due after @p delay_ns but
// never after the RTO would have fired (RFC 8985 §7.2: PTO is capped at the RTO; the RTO keeps
// its deadline, rto_due_ns_).
void Tcp::arm_early(Connection& c, uint8_t mode, uint64_t delay_ns) {
  c.persist_ = false;
  if (c.rto_due_ns_ <= now_) c.rto_due_ns_ = now_ + c.rtt_.rto_ns();
  uint64_t due = now_ + delay_ns;
  if (due >= c.rto_due_ns_) {
    due = c.rto_due_ns_;
    if (mode == rtx_mode::reorder) mode = rtx_mode::rto;  // the RTO comes first: it is the RTO
  }
  c.rtx_mode_ = mode;
  wheel_.arm(c.rtx_timer_, due);
}

// After an ACK of new data: RFC 6298 §5.2/§5.3 stop or restart the RTO, then put the reordering
// timer (@p reo_ns, RFC 8985 §6.2) or the tail loss probe (RFC 8985 §7.2) in front of it.
void Tcp::restart_loss_timer(Connection& c, uint64_t reo_ns) {
  if (c.snd_una_ == c.snd_max_) {
    if (!c.persist_) wheel_.cancel(c.rtx_timer_);
    return;
  }
  // One timer operation: the RTO's new deadline is recorded, the earliest of the three is armed.
  c.persist_ = false;
  c.rto_due_ns_ = rto_deadline(c);
  if (reo_ns != 0) {
    arm_early(c, rtx_mode::reorder, reo_ns);
  } else if (tlp_ok(c)) {
    arm_early(c, rtx_mode::probe, pto_ns(c));
  } else {
    c.rtx_mode_ = rtx_mode::rto;
    wheel_.arm(c.rtx_timer_, c.rto_due_ns_);
  }
}

void Tcp::arm_persist(Connection& c) {
  c.persist_ = true;
  uint64_t base = std::max<uint64_t>(c.rtt_.base_rto_ns(), p_.rtt.min_rto_ns);
  // RFC 1122 §4.2.2.17: exponential backoff between probes, also while the peer answers them
  // (retries_ counts only unanswered probes, for giving up).
  uint64_t iv = base << std::min<uint32_t>(c.persist_backoff_, 16);
  iv = std::min<uint64_t>(iv, 60'000'000'000);  // probe at least once a minute
  wheel_.arm(c.rtx_timer_, std::min(now_ + iv, std::max(user_deadline(c), now_ + 1)));
}

// RFC 6298 §5.4-5.6: resend the earliest unacknowledged segment, back off, restart the timer.
void Tcp::rtx_timeout(Connection& c) {
  if (c.st_ == State::syn_sent && c.connect_due_ns_ != 0 && now_ >= c.connect_due_ns_) {
    give_up(c, "connect timed out (ConnectOptions::timeout_ns)");
    return;
  }
  if (c.st_ != State::closed && c.st_ != State::listen && c.st_ != State::time_wait &&
      (c.snd_max_ != c.snd_una_ || c.st_ == State::syn_sent || c.st_ == State::syn_received) &&
      now_ >= user_deadline(c)) {
    give_up(c, "user timeout: sent data stayed unacknowledged");  // RFC 5482, TCP_USER_TIMEOUT
    return;
  }
  switch (c.st_) {
    case State::syn_sent:
      if (++c.retries_ > p_.syn_retries) {
        give_up(c, "connect timed out: no answer to SYN");
        return;
      }
      ++stats_.rto_timeouts;
      c.rtt_.backoff();
      if ((c.tfo_ & kTfoSynData) && c.retries_ == 1) {
        // RFC 7413 §4.2.2: the SYN with data went unanswered: resend it plain (tfo_syn_options and
        // tfo_syn_data give nothing after a retry) and stop sending data on SYNs to this server
        // for a while (a middlebox may drop them).
        ++stats_.tfo_fallbacks;
        if (TfoCacheEntry* e = tfo_cache(c.t_.remote_ip, false)) {
          e->blocked_until_ns = now_ + p_.fastopen_blackhole_ns;
        }
      }
      send_syn(c);
      return;
    case State::syn_received:
      if (++c.retries_ > p_.synack_retries) {
        if (c.parent_ != nullptr && !c.accepted_) {
          ++stats_.attempt_fails;
          release(&c);  // a half-open from a listener: drop it quietly
        } else {
          give_up(c, "connect timed out: handshake not completed");
        }
        return;
      }
      ++stats_.rto_timeouts;
      c.rtt_.backoff();
      send_syn(c);
      return;
    case State::closed:
    case State::listen:
    case State::time_wait:
      return;
    default:
      break;
  }
  if (c.snd_max_ == c.snd_una_) return;
  if (++c.retries_ > p_.max_retries) {
    give_up(c, "connection timed out: retransmissions unanswered");
    return;
  }
  ++stats_.rto_timeouts;
  if (c.retries_ == 1) {
    // A new episode (not a backoff of the last): spurious-timeout detection starts over. Eifel
    // (RFC 3522) remembers this retransmission's TSval; D-SACKs count against its bytes.
    begin_episode(c, true);
    c.eifel_on_ = p_.undo && c.ts_ok_;
    c.eifel_tsval_ = ts_now() + c.ts_offset_;
  } else {
    c.eifel_on_ = false;  // RFC 3522 §3: only the first timeout of a series can be judged
  }
  if (c.in_recovery_) c.rack_.on_recovery_exit();
  c.cc_.on_rto(flight(c), now_);  // RFC 5681 §3.1: ssthresh from flight, cwnd = loss window
  c.in_loss_ = true;
  c.in_recovery_ = false;
  c.tlp_on_ = false;
  c.dupacks_ = 0;
  c.lt_bytes_ = 0;
  c.sb_.reset();            // RFC 2018 §8: SACK information is advisory; start over
  c.recover_ = c.snd_max_;  // RFC 6582 §3.2 step 1 (after a timeout)
  c.high_rxt_ = c.snd_una_;
  c.rtt_.backoff();  // RFC 6298 §5.5
  c.rtt_timing_ = false;
  c.snd_nxt_ = c.snd_una_;  // go back: resend from the first unacknowledged byte
  uint32_t span = retransmit_head(c);
  c.snd_nxt_ = c.snd_una_ + span;
  arm_rtx(c);  // RFC 6298 §5.6
}

// RFC 9293 §3.8.6.1: probe a zero window with one byte; RFC 1122 §4.2.3.4: the SWS override timer.
void Tcp::persist_timeout(Connection& c) {
  c.persist_ = false;
  SeqNum data_end = c.send_end();
  if (!sends_data(c.st_) || c.snd_nxt_ >= data_end) return;
  if (now_ >= user_deadline(c)) {
    give_up(c, "user timeout: the peer's window stayed closed");  // RFC 5482, as Linux
    return;
  }
  if (++c.retries_ > p_.max_retries) {
    give_up(c, "connection timed out: zero-window probes unanswered");
    return;
  }
  ++stats_.persist_probes;
  if (c.persist_backoff_ < 16) ++c.persist_backoff_;
  if (c.snd_wnd_ == 0) {
    send_segment(c, c.snd_nxt_, 1, fl::ack);  // the byte is sent again until the window opens
    arm_persist(c);
    return;
  }
  uint32_t len = std::min({static_cast<uint32_t>(data_end - c.snd_nxt_), c.snd_wnd_, effective_mss(c)});
  uint32_t n = 0;
  if (send_segment(c, c.snd_nxt_, len, fl::ack | fl::psh, &n)) c.snd_nxt_ += n;
  if (c.snd_max_ != c.snd_una_) {
    arm_rtx(c);
  } else {
    arm_persist(c);
  }
}

void Tcp::dack_timeout(Connection& c) {
  if (c.st_ == State::closed || c.st_ == State::syn_sent || c.st_ == State::time_wait) return;
  if (c.rcv_nxt_ == c.last_ack_sent_) return;
  ++stats_.delayed_acks;
  send_ack(c);
}

// RFC 1122 §4.2.3.6: after idle_ns of silence, probe every interval_ns, give up after count.
// When the next probe (or the verdict) is due; UINT64_MAX when keepalive does not apply.
uint64_t Tcp::keepalive_due(const Connection& c) const noexcept {
  const KeepaliveOptions& k = c.opt_.keepalive;
  if (!k.enabled || (c.st_ != State::established && c.st_ != State::close_wait)) return UINT64_MAX;
  return c.last_rx_ns_ + k.idle_ns + uint64_t{c.ka_probes_} * k.interval_ns;
}

void Tcp::arm_keepalive(Connection& c) {
  uint64_t d = keepalive_due(c);
  if (c.st_ == State::fin_wait_2 && !c.app_owned_) d = std::min(d, c.last_rx_ns_ + p_.fin_wait_2_ns);
  if (c.close_deadline_ns_ != 0) d = std::min(d, c.close_deadline_ns_);
  if (c.cork_due_ns_ != 0) d = std::min(d, c.cork_due_ns_);
  if (d == UINT64_MAX) {
    wheel_.cancel(c.ka_timer_);
  } else {
    wheel_.arm(c.ka_timer_, std::max(d, now_));
  }
}

void Tcp::keepalive_timeout(Connection& c) {
  if (c.close_deadline_ns_ != 0 && now_ >= c.close_deadline_ns_ && !c.app_owned_) {
    // SO_LINGER with a timeout: the graceful close did not finish in time.
    send_rst(c);
    release(&c);
    return;
  }
  if (c.st_ == State::fin_wait_2 && !c.app_owned_ && now_ >= c.last_rx_ns_ + p_.fin_wait_2_ns) {
    release(&c);
    return;
  }
  if (c.cork_due_ns_ != 0 && now_ >= c.cork_due_ns_) {
    // The 200 ms cork ceiling: push the held partial segment.
    c.cork_due_ns_ = 0;
    c.cork_flush_ = true;
    schedule(c);
  }
  if (now_ >= keepalive_due(c)) {
    // RFC 5482 / TCP_USER_TIMEOUT also bounds unanswered keepalive probes (as Linux).
    const bool user_expired =
        c.opt_.user_timeout_ns != 0 && c.ka_probes_ > 0 && now_ - c.last_rx_ns_ >= c.opt_.user_timeout_ns;
    if (c.ka_probes_ >= c.opt_.keepalive.count || user_expired) {
      ++stats_.keepalive_drops;
      give_up(c, "keepalive: the peer stopped answering");
      return;
    }
    // RFC 1122 §4.2.3.6: a segment with SEG.SEQ = SND.NXT-1 and no data draws an ACK.
    send_segment(c, c.snd_una_ - 1, 0, fl::ack);
    ++c.ka_probes_;
    ++stats_.keepalive_probes;
  }
  arm_keepalive(c);
}

}  // namespace tern::tcp
