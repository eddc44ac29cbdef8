/**
 * @file
 * TCP segment arrival (RFC 9293 §3.10.7). Segments come from Ipv4::deliver()
 * through Tcp::input(); each is checked once (parse()), matched to its
 * connection, TIME_WAIT entry or listener, and processed in the RFC's step
 * order: sequence check (with PAWS, RFC 7323 §5), RST (RFC 5961 §3), SYN
 * (RFC 5961 §4), ACK (RFC 5961 §5, RFC 5681, RFC 6582, RFC 6675), text, FIN.
 * In-order payload goes to the receive queue, the rest to the out-of-order
 * queue; what must be sent in answer is scheduled for Tcp::flush().
 */
#include <algorithm>

#include "tern/tcp/tcp.hpp"
#include "tern/tcp/tcp_internal.hpp"

namespace tern::tcp {

using wire::SeqNum;
namespace fl = wire::tcp_flag;

l3::L4Verdict Tcp::input(Packet& pkt, const l3::Ipv4Meta& meta, uint64_t now) {
  now_ = now;
  ++stats_.in_segs;
  Segment s;
  s.pkt = std::move(pkt);
  s.meta = &meta;
  if (!parse(s.pkt, meta, s)) return l3::L4Verdict::consumed;
  if (Connection* c = find(s.t)) {
    if (c->st_ == State::syn_sent) {
      input_syn_sent(*c, s);
    } else {
      input_synchronized(*c, s);
    }
    return l3::L4Verdict::consumed;
  }
  if (TimeWait* w = tw_find(s.t)) {
    if (tw_input(*w, s)) return l3::L4Verdict::consumed;
  }
  if (Listener* l = listener_for(s.t.local_port)) {
    input_listen(*l, s);
    return l3::L4Verdict::consumed;
  }
  input_closed(s);
  return l3::L4Verdict::consumed;
}

bool Tcp::parse(Packet& pkt, const l3::Ipv4Meta& meta, Segment& s) {
  if (pkt.length() < wire::kTcpMinHeaderLen) {
    stats_.drop(TcpDrop::truncated);
    return false;
  }
  uint8_t scratch[wire::kTcpMinHeaderLen];
  const uint8_t* h = pkt.read(0, wire::kTcpMinHeaderLen, scratch);
  uint16_t hlen = static_cast<uint16_t>((h[12] >> 4) * 4);
  if (hlen < wire::kTcpMinHeaderLen || hlen > pkt.length()) {
    stats_.drop(TcpDrop::bad_header);
    return false;
  }
  if (pkt.head_length() < hlen && pkt.pull_up(hlen) == nullptr) {
    stats_.drop(TcpDrop::bad_header);
    return false;
  }
  auto v = wire::TcpView::parse(std::span<const uint8_t>(pkt.data(), hlen));
  if (!v) {
    stats_.drop(TcpDrop::bad_header);
    return false;
  }
  // RFC 9293 §3.1: the checksum covers the pseudo-header, header and data.
  if (!meta.l4_csum_good && !l3::l4_checksum_ok(pkt, meta, ip_.csum())) {
    stats_.drop(TcpDrop::bad_checksum);
    return false;
  }
  // RFC 9293 §3.9.1 / RFC 1122 §4.2.3.10: TCP is unicast; a segment to a broadcast address is dropped.
  if (meta.broadcast || meta.dst.is_multicast()) {
    stats_.drop(TcpDrop::broadcast);
    return false;
  }
  s.v = *v;
  s.hlen = hlen;
  s.data_off = hlen;
  s.len = pkt.length() - hlen;
  s.seq = s.v.seq();
  s.ack = s.v.ack();
  s.flags = s.v.flags();
  s.wnd = s.v.window();
  const rte_mbuf* m = pkt.mbuf();
  if ((m->ol_flags & RTE_MBUF_F_RX_LRO) != 0 && m->tso_segsz != 0 && s.len > m->tso_segsz) {
    s.lro_segsz = static_cast<uint16_t>(m->tso_segsz);
    const uint32_t segs = (s.len + s.lro_segsz - 1) / s.lro_segsz;
    stats_.lro_segs += segs;
    ++stats_.lro_chains;
    stats_.in_segs += segs - 1;  // in_segs counts segments as sent; TCP input ran once for the chain
  }
  s.t.local_ip = meta.dst.v;
  s.t.remote_ip = meta.src.v;
  s.t.local_port = s.v.dst_port();
  s.t.remote_port = s.v.src_port();
  return true;
}

// RFC 9293 §3.10.7.1: no connection. A reset answers anything but a reset.
void Tcp::input_closed(Segment& s) {
  stats_.drop(TcpDrop::no_connection);
  if (s.has(fl::rst)) return;
  send_reply_rst(s);
}

// A TCB for a passive open on @p l: owned by the listener until accept().
Connection* Tcp::new_child(Listener& l, const Segment& s) {
  Connection* c = alloc_conn();
  if (c == nullptr) return nullptr;
  init_tcb(*c, l.opt_, now_);
  c->t_ = s.t;
  c->parent_ = &l;
  c->app_owned_ = false;
  c->accepted_ = false;
  c->ts_offset_ = isn_.hash(s.t, 2);
  c->ip_id_ = static_cast<uint16_t>(isn_.hash(s.t, 4));
  return c;
}

// RFC 9293 §3.10.7.2: LISTEN.
void Tcp::input_listen(Listener& l, Segment& s) {
  // SYN with FIN or RST is never a real opening segment (scanners, firewall
  // evasion); RFC 9293 would open a connection on it and process the FIN
  // later. Dropped before any other step, as Linux does in LISTEN: no SYN,ACK,
  // no cookie, no reset (tern deviates from §3.10.7.2 "second" for SYN,ACK,FIN).
  if (s.has(fl::syn) && (s.flags & (fl::fin | fl::rst)) != 0) {
    stats_.drop(TcpDrop::bad_flags);
    return;
  }
  if (s.has(fl::rst)) {  // first: an incoming RST is ignored
    stats_.drop(TcpDrop::no_connection);
    return;
  }
  if (s.has(fl::ack)) {  // second: an ACK can only complete a SYN cookie handshake
    if (!s.has(fl::syn) && p_.syncookies) {
      input_cookie_ack(l, s);
      return;
    }
    stats_.drop(TcpDrop::no_connection);
    send_reply_rst(s);
    return;
  }
  if (!s.has(fl::syn)) {  // fourth, other: drop
    stats_.drop(TcpDrop::no_connection);
    return;
  }
  // third: SYN. RFC 4987 §3.6: beyond the backlog, answer with a cookie and keep no state.
  if (l.syn_len_ + l.accept_len_ >= l.backlog_) {
    if (p_.syncookies && l.accept_len_ < l.backlog_) {
      send_cookie_synack(s, l);
    } else {
      stats_.drop(TcpDrop::listen_overflow);
    }
    return;
  }
  Connection* c = new_child(l, s);
  if (c == nullptr) {
    if (p_.syncookies) {
      send_cookie_synack(s, l);
    } else {
      stats_.drop(TcpDrop::no_memory);
    }
    return;
  }
  c->irs_ = s.seq;
  c->rcv_nxt_ = c->rcv_adv_ = c->last_ack_sent_ = s.seq + 1;
  c->iss_ = isn_.isn(s.t, now_);  // RFC 6528
  c->snd_una_ = c->snd_nxt_ = c->snd_max_ = c->iss_;
  c->sndq_base_ = c->iss_ + 1;
  offer_options(*c);
  negotiate(*c, s.v.options());
  c->snd_wnd_ = s.wnd;  // RFC 7323 §2.2: the window of a SYN is never scaled
  c->max_snd_wnd_ = c->snd_wnd_;
  c->snd_wl1_ = s.seq;
  c->snd_wl2_ = c->iss_;
  // RFC 3168 §6.1.1: an ECN-setup SYN (ECE and CWR) from the peer, and we take part.
  if (s.has(fl::ece) && s.has(fl::cwr) && c->opt_.ecn != EcnMode::off) {
    c->ecn_ok_ = true;
    ++stats_.ecn_negotiated;
  }
  set_state(*c, State::syn_received);
  insert(c);
  ++l.syn_len_;
  ++stats_.passive_opens;
  tfo_listen(l, *c, s);
  // RFC 7413 §4.2.1: a Fast Open connection is ready for accept() now, its data readable.
  if (c->tfo_ & kTfoChild) accept_ready(l, *c);
  send_syn(*c);
}

// RFC 4987 §3.6: the ACK completing a SYN cookie handshake rebuilds the connection.
void Tcp::input_cookie_ack(Listener& l, Segment& s) {
  if (s.has(fl::rst) || s.has(fl::syn)) return;
  auto mss = cookies_.check(s.t, s.seq - 1, s.ack - 1, now_);
  if (!mss) {
    ++stats_.syncookies_failed;
    stats_.drop(TcpDrop::no_connection);
    send_reply_rst(s);
    return;
  }
  if (l.accept_len_ >= l.backlog_) {
    stats_.drop(TcpDrop::listen_overflow);
    return;
  }
  Connection* c = new_child(l, s);
  if (c == nullptr) {
    stats_.drop(TcpDrop::no_memory);
    return;
  }
  c->from_cookie_ = true;
  c->iss_ = s.ack - 1;
  c->snd_una_ = c->snd_nxt_ = c->snd_max_ = s.ack;
  c->sndq_base_ = s.ack;
  c->irs_ = s.seq - 1;
  c->rcv_nxt_ = s.seq;
  c->last_ack_sent_ = s.seq;
  // RFC 9293 §3.8.6.2.2: the cookie SYN,ACK offered 65535 bytes (unscaled); data in this ACK is in window.
  c->rcv_adv_ = s.seq + 65535;
  c->peer_mss_ = *mss;
  const auto& ts = s.v.options().timestamps;
  std::optional<SynCookieOptions> o = ts ? SynCookies::decode_ts(ts->tsecr) : std::nullopt;
  if (o && p_.timestamps) {
    c->ts_ok_ = true;
    c->ts_recent_ = ts->tsval;
    c->ts_recent_ns_ = now_;
    c->sack_ok_ = o->sack_permitted && p_.sack;
    c->ws_ok_ = o->wscale.has_value() && p_.window_scaling;
    c->snd_wscale_ = c->ws_ok_ ? *o->wscale : 0;
    c->rcv_wscale_ = c->ws_ok_ ? our_wscale(c->opt_) : 0;
  }
  c->mss_ = std::min(c->peer_mss_, path_mss(wire::Ipv4Addr{s.t.remote_ip}));
  c->cc_.init(c->opt_.congestion, effective_mss(*c), p_.initial_window, now_, p_.cc);
  c->snd_wnd_ = uint32_t{s.wnd} << c->snd_wscale_;
  c->max_snd_wnd_ = c->snd_wnd_;
  c->snd_wl1_ = s.seq;
  c->snd_wl2_ = s.ack;
  set_state(*c, State::established);
  insert(c);
  ++stats_.syncookies_validated;
  ++stats_.passive_opens;
  accept_ready(l, *c);
  if (s.len > 0 || s.has(fl::fin)) input_synchronized(*c, s);
}

// RFC 9293 §3.10.7.3: SYN-SENT.
void Tcp::input_syn_sent(Connection& c, Segment& s) {
  if (s.has(fl::ack) && (s.ack <= c.iss_ || s.ack > c.snd_max_)) {  // first: unacceptable ACK
    stats_.drop(TcpDrop::bad_ack);
    if (!s.has(fl::rst)) send_reply_rst(s);
    return;
  }
  if (s.has(fl::rst)) {  // second: RFC 5961 §3.2 — acceptable only when it acknowledges our SYN
    if (!s.has(fl::ack)) {
      stats_.drop(TcpDrop::rst_ignored);
      return;
    }
    ++stats_.in_rsts;
    fail(c, Errc::connection_refused, "connection refused: the peer answered with a reset");
    return;
  }
  if (!s.has(fl::syn)) {  // fifth: neither SYN nor RST
    stats_.drop(TcpDrop::no_connection);
    return;
  }
  // fourth: SYN.
  c.last_rx_ns_ = now_;
  c.irs_ = s.seq;
  c.rcv_nxt_ = c.rcv_adv_ = c.last_ack_sent_ = s.seq + 1;
  negotiate(c, s.v.options());
  c.snd_wnd_ = s.wnd;  // RFC 7323 §2.2: not scaled in a SYN
  c.max_snd_wnd_ = c.snd_wnd_;
  c.snd_wl1_ = s.seq;
  if (s.has(fl::ack)) {
    c.snd_wl2_ = s.ack;
    // RFC 3168 §6.1.1: an ECN-setup SYN-ACK (ECE without CWR) answers our ECN-setup SYN.
    if (c.opt_.ecn == EcnMode::on && s.has(fl::ece) && !s.has(fl::cwr)) {
      c.ecn_ok_ = true;
      ++stats_.ecn_negotiated;
    }
    c.ecn_high_ = s.ack;
    tfo_synack(c, s);
    consume_acked(c, s.ack);  // the SYN's data (Fast Open) is acknowledged with it
    if (c.retries_ == 0)
      c.rtt_.sample(std::max<uint64_t>(now_ - c.rtt_start_ns_, 1));  // Karn: SYN not resent
    c.snd_una_ = s.ack;
    // RFC 7413 §4.2.2: a plain retransmitted SYN rewound SND.NXT, but the SYN-ACK may acknowledge
    // the first SYN's data: never send below SND.UNA (RFC 9293 §3.3.1).
    if (c.snd_nxt_ < c.snd_una_) c.snd_nxt_ = c.snd_una_;
    c.retries_ = 0;
    wheel_.cancel(c.rtx_timer_);
    established(c);
    notify(c, ev::connected | ev::writable);
    ack_soon(c);
    return;
  }
  // Simultaneous open (RFC 9293 Figure 7): SYN-RECEIVED, answer with SYN,ACK.
  c.snd_wl2_ = c.iss_;
  set_state(c, State::syn_received);
  send_syn(c);
}

void Tcp::established(Connection& c) {
  set_state(c, c.fin_queued_ ? State::fin_wait_1 : State::established);
  c.quickacks_ =
      static_cast<uint8_t>(std::min<uint32_t>(p_.quick_acks, 255));  // the peer starts in slow start
  arm_keepalive(c);
}

void Tcp::input_synchronized(Connection& c, Segment& s) {
  // A retransmitted SYN in SYN-RECEIVED: our SYN,ACK was lost; send it again.
  if (c.st_ == State::syn_received && s.has(fl::syn) && !s.has(fl::ack) && s.seq == c.irs_) {
    send_syn(c);
    return;
  }
  if (c.st_ == State::syn_received && s.has(fl::syn) && s.has(fl::ack) && s.seq == c.irs_) {
    // RFC 9293 §3.5 Figure 7 (simultaneous open), line 6: the peer's SYN,ACK repeats the SYN we
    // already hold; its ACK completes the open. Drop the duplicate SYN and go on as for an ACK.
    s.flags &= static_cast<uint8_t>(~fl::syn);
    s.seq += 1;
  }
  if (!check_seq(c, s)) return;
  // Only an acceptable segment proves the peer alive (a forged one must not hold off keepalive).
  c.last_rx_ns_ = now_;
  c.ka_probes_ = 0;
  take_timestamp(c, s);
  if (!check_rst(c, s)) return;
  if (!check_syn(c, s)) return;
  if (c.ecn_ok_) ecn_input(c, s);
  if (!check_ack(c, s)) return;
  // Sixth, urgent data (RFC 9293 §3.8.5, RFC 6093): delivered inline like any data.
  if (!process_text(c, s)) return;
  if (c.ack_now_ || !c.sndq_.empty()) schedule(c);
}

// First step: sequence number check (RFC 9293 §3.10.7.4), with PAWS (RFC 7323 §5.3).
bool Tcp::check_seq(Connection& c, Segment& s) {
  const auto& ts = s.v.options().timestamps;
  if (c.ts_ok_ && ts && !s.has(fl::rst)) {
    // RFC 7323 §5.3 R1; §5.5: TS.Recent is invalid after 24 days idle.
    bool stale = now_ - c.ts_recent_ns_ > 24ull * 86400 * 1'000'000'000;
    if (static_cast<int32_t>(ts->tsval - c.ts_recent_) < 0 && !stale) {
      stats_.drop(TcpDrop::paws);
      ack_soon(c);
      return false;
    }
  }
  uint32_t wnd = c.advertised();
  uint32_t slen = s.seg_len();
  bool ok;
  if (slen == 0) {
    ok = wnd == 0 ? s.seq == c.rcv_nxt_ : wire::seq_between(c.rcv_nxt_, s.seq, c.rcv_nxt_ + wnd);
  } else if (wnd == 0) {
    ok = false;
  } else {
    ok = wire::seq_between(c.rcv_nxt_, s.seq, c.rcv_nxt_ + wnd) ||
         wire::seq_between(c.rcv_nxt_, s.seq + slen - 1, c.rcv_nxt_ + wnd);
  }
  if (!ok && wnd == 0 && s.seq == c.rcv_nxt_) {
    // RFC 9293 §3.10.7.4: with a zero window, still take valid ACKs, URGs and RSTs; drop the data.
    if (slen > 0 && !s.has(fl::rst)) {
      // RFC 9293 §3.8.6.1 / §3.10.7.4: the dropped text (a zero-window probe) is not acceptable:
      // answer with an ACK so the prober learns the window.
      ack_soon(c);
    }
    s.len = 0;
    s.flags &= static_cast<uint8_t>(~(fl::fin | fl::syn));
    ok = true;
  }
  if (!ok) {
    stats_.drop(TcpDrop::out_of_window);
    if (slen > 0) ++stats_.dup_segs;
    // RFC 2883 §4.1.1: an old duplicate is reported in the ACK's first SACK block.
    if (s.len > 0 && s.seq + s.len <= c.rcv_nxt_) note_dsack(c, s.seq, s.seq + s.len);
    if (!s.has(fl::rst)) {
      ack_soon(c);
    }
    return false;
  }
  trim_to_window(c, s, wnd);
  return true;
}

// Keep only the part of the segment inside the receive window (RFC 9293 §3.10.7.4, "trimmed").
void Tcp::trim_to_window(Connection& c, Segment& s, uint32_t wnd) {
  if (s.seq < c.rcv_nxt_) {
    uint32_t cut = static_cast<uint32_t>(c.rcv_nxt_ - s.seq);
    if (s.has(fl::syn)) {
      s.flags &= static_cast<uint8_t>(~fl::syn);
      --cut;
      s.seq += 1;
    }
    if (cut >= s.len) {
      if (cut > s.len) s.flags &= static_cast<uint8_t>(~fl::fin);
      cut = s.len;
    }
    // RFC 2883 §4.1.1: the duplicate front of a segment is reported too (with the new data's ACK).
    if (cut > 0) note_dsack(c, s.seq, s.seq + cut);
    s.data_off += cut;
    s.len -= cut;
    s.seq += cut;
    ++stats_.dup_segs;
  }
  SeqNum right = c.rcv_nxt_ + wnd;
  if (s.seq + s.len > right) {
    s.len = static_cast<uint32_t>(right - s.seq);
    s.flags &= static_cast<uint8_t>(~fl::fin);
  }
}

// RFC 7323 §4.3: remember the peer's timestamp for echoing.
void Tcp::take_timestamp(Connection& c, const Segment& s) {
  const auto& ts = s.v.options().timestamps;
  if (!c.ts_ok_ || !ts) return;
  if (static_cast<int32_t>(ts->tsval - c.ts_recent_) >= 0 && s.seq <= c.last_ack_sent_) {
    c.ts_recent_ = ts->tsval;
    c.ts_recent_ns_ = now_;
  }
}

// Second step: RST (RFC 5961 §3.2: only an exact match resets; in-window gets a challenge ACK).
bool Tcp::check_rst(Connection& c, Segment& s) {
  if (!s.has(fl::rst)) return true;
  if (s.seq != c.rcv_nxt_) {
    stats_.drop(TcpDrop::rst_ignored);
    challenge_ack(c);
    return false;
  }
  ++stats_.in_rsts;
  if (c.st_ == State::syn_received && c.parent_ != nullptr && !c.accepted_) {
    // RFC 9293 §3.10.7.4: a passive open goes back to LISTEN (the half-open is dropped).
    ++stats_.attempt_fails;
    release(&c);
    return false;
  }
  if (c.st_ == State::syn_received) {
    fail(c, Errc::connection_refused, "connection refused: reset during the handshake");
  } else {
    fail(c, Errc::connection_reset, "connection reset by peer");
  }
  return false;
}

// Fourth step: SYN in a synchronized state (RFC 5961 §4.2: challenge ACK, never reset).
bool Tcp::check_syn(Connection& c, Segment& s) {
  if (!s.has(fl::syn)) return true;
  stats_.drop(TcpDrop::syn_in_window);
  challenge_ack(c);
  return false;
}

// RFC 5961 §7: challenge ACKs are rate limited. First per connection (one per
// challenge_ack_interval_ns, Linux's tcp_invalid_ratelimit), so that spoofed
// segments aimed at one connection spend at most that of the core's budget;
// then by the core's budget, whose window length and size are drawn at random
// (RandomBudget), so that a host counting the challenge ACKs on its own
// connections cannot tell whether another connection took one (CVE-2016-5696;
// docs/robustness.md has the procedure and the test).
void Tcp::challenge_ack(Connection& c) {
  if (now_ < c.challenge_next_ns_) {
    ++stats_.challenge_acks_conn_limited;
    return;
  }
  c.challenge_next_ns_ = now_ + p_.challenge_ack_interval_ns;
  if (!challenge_budget_.take(now_)) {
    ++stats_.challenge_acks_limited;
    return;
  }
  ++stats_.challenge_acks;
  send_ack(c);
}

// Fifth step: ACK.
bool Tcp::check_ack(Connection& c, Segment& s) {
  if (!s.has(fl::ack)) {
    stats_.drop(TcpDrop::bad_ack);
    return false;
  }
  if (c.st_ == State::syn_received) {
    if (!(c.snd_una_ < s.ack && s.ack <= c.snd_max_)) {
      // RFC 9293 §3.10.7.4: an unacceptable ACK in SYN-RECEIVED gets <SEQ=SEG.ACK><CTL=RST>.
      stats_.drop(TcpDrop::bad_ack);
      send_reply_rst(s);
      return false;
    }
    c.snd_una_ = c.iss_ + 1;
    c.snd_wnd_ = uint32_t{s.wnd} << c.snd_wscale_;
    c.max_snd_wnd_ = std::max(c.max_snd_wnd_, c.snd_wnd_);
    c.snd_wl1_ = s.seq;
    c.snd_wl2_ = s.ack;
    if (c.retries_ == 0) c.rtt_.sample(std::max<uint64_t>(now_ - c.rtt_start_ns_, 1));
    c.retries_ = 0;
    wheel_.cancel(c.rtx_timer_);
    established(c);
    const bool queued = (c.tfo_ & kTfoChild) != 0;  // a Fast Open child is in accept() already
    tfo_child_done(c);
    if (c.parent_ != nullptr && !c.accepted_) {
      if (!queued) accept_ready(*c.parent_, c);
    } else {
      notify(c, ev::connected | ev::writable);
    }
    // RFC 9293 §3.10.4: a CLOSE queued in SYN-RECEIVED sends its FIN now; data queued meanwhile
    // (an accepted Fast Open connection may answer early) goes too.
    if (c.fin_queued_ || !c.sndq_.empty()) schedule(c);
    if (s.ack == c.snd_una_) {
      // Only our SYN was acknowledged: nothing more for the ACK step.
      return after_ack(c);
    }
  }
  // RFC 5961 §5.2: acceptable is SND.UNA - MAX.SND.WND <= SEG.ACK <= SND.NXT.
  if (s.ack > c.snd_max_) {
    stats_.drop(TcpDrop::bad_ack);
    challenge_ack(c);
    return false;
  }
  if (s.ack < c.snd_una_ - std::max<uint32_t>(c.max_snd_wnd_, 1)) {
    stats_.drop(TcpDrop::bad_ack);
    challenge_ack(c);
    return false;
  }
  if (s.ack > c.snd_una_) {
    process_ack(c, s, static_cast<uint32_t>(s.ack - c.snd_una_));
  } else if (s.ack == c.snd_una_) {
    process_dupack(c, s);
  }
  // RFC 9293 §3.10.7.4 fifth: the window is updated only if SND.UNA =< SEG.ACK =< SND.NXT (an
  // older ACK's window is relative to an edge that has moved).
  if (s.ack >= c.snd_una_) update_window(c, s);
  return after_ack(c);
}

// The state changes that an ACK of our FIN causes (RFC 9293 §3.10.7.4 step 5).
bool Tcp::after_ack(Connection& c) {
  bool fin_acked = c.fin_acked();
  switch (c.st_) {
    case State::fin_wait_1:
      if (fin_acked) {
        set_state(c, State::fin_wait_2);
        arm_keepalive(c);  // an orphan in FIN-WAIT-2 is given fin_wait_2_ns
      }
      return true;
    case State::closing:
      if (fin_acked) {
        enter_time_wait(c);
        return false;
      }
      return true;
    case State::last_ack:
      if (fin_acked) {
        release(&c);
        return false;
      }
      return true;
    default:
      return true;
  }
}

// New data acknowledged (RFC 9293 §3.10.7.4 step 5; RFC 6298 §5; RFC 5681; RFC 6582 §3.2; the SACK,
// RACK, PRR, TLP and undo steps are in recovery.cpp).
void Tcp::process_ack(Connection& c, Segment& s, uint32_t acked) {
  uint32_t flight_before = flight(c);
  const uint32_t sacked_before = c.sb_.sacked_bytes();
  consume_acked(c, s.ack);
  c.snd_una_ = s.ack;
  if (c.snd_nxt_ < c.snd_una_) c.snd_nxt_ = c.snd_una_;
  if (c.high_rxt_ < c.snd_una_) c.high_rxt_ = c.snd_una_;
  c.progress_ns_ = now_;
  if (c.in_loss_ && s.ack >= c.recover_) c.in_loss_ = false;
  note_delivery(c);
  bool rto_undone = eifel_check(c, s, acked);
  const uint64_t rtt = rtt_sample(c, s);
  c.cc_.on_ack_sample(s.ack, c.snd_nxt_, rtt);  // RFC 9406 §4.2: HyStart++ rounds and RTT samples
  c.retries_ = 0;
  const AckSack a = sack_input(c, s);
  // RFC 6937 §3: DeliveredData = change_in(snd.una) + change_in(SACKd); SACKd shrinks when the
  // cumulative ACK covers SACKed data.
  const int64_t delivered_signed = int64_t{acked} + c.sb_.sacked_bytes() - sacked_before;
  const uint32_t delivered = static_cast<uint32_t>(std::max<int64_t>(delivered_signed, 0));
  if (undo_check(c, s, a, acked) && c.undo_rto_) rto_undone = true;
  tlp_ack(c, s, a);
  uint64_t reo_ns = 0;
  if (rack_on(c)) {
    if (c.snd_una_ == c.snd_max_ && c.sb_.empty() && !c.in_recovery_) {
      c.rack_.on_ack(c.snd_una_, c.snd_nxt_, c.sb_, a.dsack, now_);  // all delivered: nothing can be lost
    } else {
      reo_ns = rack_ack(c, a);
    }
  }
  if (c.in_recovery_) {
    if (s.ack >= c.recover_) {
      // RFC 6582 §3.2 step 3 / RFC 6675 §5: a full ACK ends recovery.
      exit_recovery(c);
      // RFC 8985 §6.2: data sent after recovery began that RACK found lost is a new episode.
      if (rack_on(c) && c.rack_.lost_bytes(c.sb_) > 0) {
        enter_recovery(c);
        prr_ack(c, delivered);
      }
    } else if (!c.sack_ok_) {
      // RFC 6582 §3.2 step 4: partial ACK — retransmit the next hole, deflate by the amount acked.
      uint32_t mss = effective_mss(c);
      uint32_t cw = c.cc_.cwnd();
      c.cc_.set_cwnd(cw > acked ? cw - acked + (acked >= mss ? mss : 0) : mss);
      retransmit_head(c);
    } else {
      prr_ack(c, delivered);  // RFC 6937 §3.1: DeliveredData
    }
  } else {
    c.dupacks_ = 0;
    c.lt_bytes_ = 0;
    // RFC 4015 §4 step (DONE): an undone timeout set cwnd = FlightSize + min(bytes_acked, IW) for
    // this ACK; it grows no further.
    if (!rto_undone) c.cc_.on_ack(acked, flight_before, c.rtt_.srtt_ns(), now_);  // skips app-limited
  }
  restart_loss_timer(c, reo_ns);
  if (c.snd_una_ == c.snd_max_ && !c.in_recovery_) {
    rack_log_release(c);  // nothing in flight: back to the pool
    if (c.busy_since_ns_ != 0 && c.notsent() == 0) {
      c.busy_ns_ += now_ - c.busy_since_ns_;
      c.busy_since_ns_ = 0;
    }
  }
  if (c.want_writable_ && c.writable_now()) {
    c.want_writable_ = false;
    notify(c, ev::writable);
  }
  schedule(c);
}

// Drop from the send queue the data @p ack covers (a FIN beyond it is not data).
void Tcp::consume_acked(Connection& c, SeqNum ack) {
  if (!(ack > c.sndq_base_)) return;
  const uint32_t n = static_cast<uint32_t>(wire::seq_min(ack, c.send_end()) - c.sndq_base_);
  c.bytes_acked_ += n;  // before consume(): an external buffer's free callback may look
  c.sndq_base_ += n;
  c.sndq_.consume(n);
  if (c.sent_cb_ && n > 0) notify(c, ev::sent);  // the completion event (lwIP's tcp_sent)
}

// RFC 5681 §2 duplicate ACK; §3.2 fast retransmit; RFC 3042 limited transmit; RFC 6675 §5 SACK
// recovery, or RACK (RFC 8985) with PRR (RFC 6937).
void Tcp::process_dupack(Connection& c, Segment& s) {
  const AckSack a = sack_input(c, s);
  const bool new_sack = a.newly_sacked > 0;
  undo_check(c, s, a, 0);
  tlp_ack(c, s, a);
  bool dup = s.len == 0 && !s.has(fl::syn) && !s.has(fl::fin) && c.snd_max_ != c.snd_una_ &&
             (uint32_t{s.wnd} << c.snd_wscale_) == c.snd_wnd_;
  const bool counted = dup || new_sack;
  if (counted && c.dupacks_ < 255) ++c.dupacks_;
  uint32_t mss = effective_mss(c);
  if (rack_on(c)) {
    if (!counted && !a.dsack) return;  // (a D-SACK alone still widens RACK's window)
    const uint64_t reo_ns = rack_ack(c, a);
    if (reo_ns != 0) arm_early(c, rtx_mode::reorder, reo_ns);
    if (c.in_recovery_) {
      prr_ack(c, a.newly_sacked);
    } else if (c.dupacks_ <= 2 && p_.limited_transmit) {
      schedule(c);  // RFC 3042: output may send new data beyond cwnd (Tcp::output)
    }
    return;
  }
  if (!counted) return;
  if (c.in_recovery_) {
    if (!c.sack_ok_) {
      c.cc_.set_cwnd(c.cc_.cwnd() + mss);  // RFC 5681 §3.2 step 4: inflate
      schedule(c);
    } else {
      prr_ack(c, a.newly_sacked);
    }
    return;
  }
  const bool lost = c.dupacks_ >= 3 || (c.sack_ok_ && c.sb_.is_lost(c.snd_una_, mss));
  if (!lost) {
    if (c.dupacks_ <= 2 && p_.limited_transmit) schedule(c);  // RFC 3042
    return;
  }
  // RFC 6582 §3.2 step 2: no new recovery for losses of data sent before the last one began.
  if (c.recover_ != SeqNum{} && c.snd_una_ < c.recover_ && c.recover_ != c.snd_una_) return;
  if (c.sack_ok_) {
    enter_recovery(c);
    prr_ack(c, a.newly_sacked);
    return;
  }
  c.in_recovery_ = true;
  c.recover_ = c.snd_max_;
  // RFC 5681 §3.2 step 2: data sent by limited transmit MUST NOT count in FlightSize for ssthresh.
  uint32_t ssthresh = c.cc_.on_loss(flight(c) - std::min(c.lt_bytes_, flight(c)), now_);
  c.lt_bytes_ = 0;
  c.rtt_timing_ = false;
  begin_episode(c, false);
  ++stats_.fast_retransmits;
  retransmit_head(c);
  c.cc_.set_cwnd(ssthresh + 3 * mss);  // RFC 5681 §3.2 step 3
}

// info().delivery_rate: bytes acknowledged per second over about one round trip.
void Tcp::note_delivery(Connection& c) {
  const uint64_t srtt = std::max<uint64_t>(c.rtt_.srtt_ns(), 1'000'000);
  if (c.rate_start_ns_ == 0) {
    c.rate_start_ns_ = now_;
    c.rate_start_bytes_ = c.bytes_acked_;
    return;
  }
  const uint64_t dt = now_ - c.rate_start_ns_;
  if (dt < srtt) return;
  c.delivery_rate_ = (c.bytes_acked_ - c.rate_start_bytes_) * 1'000'000'000 / dt;
  c.rate_start_ns_ = now_;
  c.rate_start_bytes_ = c.bytes_acked_;
}

// RFC 3168 §6.1.3 as the receiver: a CWR ends the echo, a CE mark (re)starts it; §6.1.2 as the
// sender: an ECE is answered once per window of data.
void Tcp::ecn_input(Connection& c, const Segment& s) {
  if (s.has(fl::cwr)) c.ece_out_ = false;
  if (s.meta != nullptr && (s.meta->tos & 3) == kEcnCe && s.len > 0) {
    c.ece_out_ = true;
    ++stats_.ecn_ce_received;
    c.ack_now_ = true;  // tell the sender at once (Linux quick-ACKs a CE mark too)
  }
  if (s.has(fl::ece) && s.has(fl::ack) && !s.has(fl::syn)) ecn_echo(c);
}

void Tcp::ecn_echo(Connection& c) {
  c.cwr_out_ = true;  // the receiver echoes until it sees CWR, whether or not we reduce again
  // RFC 3168 §6.1.2: at most once per window; none while loss recovery already reduced it.
  if (c.in_recovery_ || c.snd_una_ < c.ecn_high_) return;
  c.cc_.on_ecn(flight(c), now_);
  c.ecn_high_ = c.snd_max_;
  ++stats_.ecn_reductions;
}

// Resend the first unacknowledged segment. Returns the sequence space it covered.
uint32_t Tcp::retransmit_head(Connection& c) {
  SeqNum data_end = c.send_end();
  uint32_t len = c.snd_una_ < data_end
                     ? std::min<uint32_t>(effective_mss(c), static_cast<uint32_t>(data_end - c.snd_una_))
                     : 0;
  uint8_t flags = fl::ack;
  if (c.fin_queued_ && c.snd_una_ + len == data_end) flags |= fl::fin;
  if (len == 0 && !(flags & fl::fin)) return 0;
  uint32_t sent = 0;
  if (!send_segment(c, c.snd_una_, len, flags, &sent)) return 0;
  uint32_t span = sent + ((flags & fl::fin) && sent == len ? 1 : 0);
  if (c.high_rxt_ < c.snd_una_ + span) c.high_rxt_ = c.snd_una_ + span;
  return span;
}

// SND.WL1/WL2 window update (RFC 9293 §3.10.7.4 step 5).
void Tcp::update_window(Connection& c, Segment& s) {
  if (!(c.snd_wl1_ < s.seq || (c.snd_wl1_ == s.seq && c.snd_wl2_ <= s.ack))) return;
  uint32_t w = uint32_t{s.wnd} << c.snd_wscale_;
  bool grew = w > c.snd_wnd_;
  c.snd_wnd_ = w;
  c.snd_wl1_ = s.seq;
  c.snd_wl2_ = s.ack;
  c.max_snd_wnd_ = std::max(c.max_snd_wnd_, w);
  if (c.persist_) {
    c.retries_ = 0;  // the peer answers our probes
    if (w > 0) {
      c.persist_ = false;
      c.persist_backoff_ = 0;
      wheel_.cancel(c.rtx_timer_);
      if (c.snd_max_ != c.snd_una_) arm_rtx(c);
    }
  }
  if (grew) schedule(c);
}

uint64_t Tcp::rtt_sample(Connection& c, const Segment& s) {
  uint64_t sample = 0;
  if (c.rtt_timing_ && s.ack > c.rtt_seq_) {
    // Karn's rule (RFC 6298 §3): rtt_timing_ is cleared whenever the timed data is resent.
    sample = std::max<uint64_t>(now_ - c.rtt_start_ns_, 1);
    c.rtt_timing_ = false;
  } else if (const auto& ts = s.v.options().timestamps; c.ts_ok_ && ts && ts->tsecr != 0) {
    // RFC 7323 §4.1 RTTM: valid for retransmitted data too (1 ms clock).
    uint32_t ms = ts_now() + c.ts_offset_ - ts->tsecr;
    if (ms < 600'000) sample = std::max<uint64_t>(uint64_t{ms} * 1'000'000, 1);
  }
  if (sample != 0) {
    c.rtt_.sample(sample);
    c.rtt_.reset_backoff();
  }
  return sample;
}

// Seventh and eighth steps: segment text and FIN. Returns false when the TCB is gone.
bool Tcp::process_text(Connection& c, Segment& s) {
  bool fin = s.has(fl::fin);
  if (s.len == 0 && !fin) return true;
  switch (c.st_) {
    case State::established:
    case State::fin_wait_1:
    case State::fin_wait_2:
      break;
    default:
      // RFC 9293 §3.10.7.4 step 7: CLOSE-WAIT, CLOSING, LAST-ACK, TIME-WAIT ignore text;
      // a repeated FIN is acknowledged again.
      if (fin) {
        ack_soon(c);
      }
      return true;
  }
  if (!c.app_owned_ && c.accepted_ && s.len > 0) {
    // Data for a connection the application closed: nobody will read it (Linux behaviour).
    stats_.drop(TcpDrop::after_close);
    send_rst(c);
    release(&c);
    return false;
  }
  Packet data;
  if (s.len > 0) {
    s.pkt.trim_front(s.data_off);
    s.pkt.truncate(s.len);
    data = std::move(s.pkt);
  }
  // A GRO/LRO chain is taken as its segments would have been: as many whole ones as fit.
  while (data && s.lro_segsz != 0 && data.segments() > 1 && !rcv_room(c, data.truesize(), s.seq)) {
    const uint32_t last = rte_pktmbuf_lastseg(data.mbuf())->data_len;
    data.trim_back(last);
    s.len -= last;
    stats_.drop(TcpDrop::no_rcv_memory);
  }
  if (data && !rcv_room(c, data.truesize(), s.seq)) {
    // Over the connection's or the core's buffer memory even after compacting and pruning
    // (memory.cpp): refuse the data; the ACK repeats RCV.NXT and the shrunken window.
    stats_.drop(TcpDrop::no_rcv_memory);
    ack_soon(c);
    return true;
  }
  if (s.seq != c.rcv_nxt_) {
    // Out of order: hold it and send a duplicate ACK with SACK now (RFC 5681 §4.2, RFC 2018 §4).
    OooResult r = c.ooo_.insert(s.seq, std::move(data), fin, ooo_pool_, p_.ooo_per_connection);
    if (r == OooResult::queued) ++stats_.ooo_segs;
    if (r == OooResult::dropped) stats_.drop(TcpDrop::ooo_full);
    if (r == OooResult::duplicate) {
      ++stats_.dup_segs;
      note_dsack(c, s.seq, s.seq + s.len);  // RFC 2883 §4.1.2: a duplicate of held out-of-order data
    }
    ooo_track(c);
    ack_soon(c);
    return true;
  }
  bool had_ooo = !c.ooo_.empty();
  // The peer's segment size: of the segments as sent, not of a GRO/LRO merge of them.
  const uint32_t piece = s.lro_segsz != 0 ? s.lro_segsz : s.len;
  if (piece > c.rcv_mss_) c.rcv_mss_ = static_cast<uint16_t>(std::min<uint32_t>(piece, 65535));
  uint32_t full = std::max<uint32_t>(c.rcv_mss_, 1);
  bool alive = queue_in_order(c, std::move(data), fin);
  while (alive && !c.ooo_.empty()) {
    Packet p;
    bool f = false;
    if (!c.ooo_.pop_ready(c.rcv_nxt_, p, f, ooo_pool_)) break;
    alive = queue_in_order(c, std::move(p), f);
  }
  if (!alive) return false;
  if (c.ooo_.empty()) ooo_untrack(c);
  maybe_compact(c);
  if (had_ooo) {
    c.ack_now_ = true;  // RFC 5681 §4.2: ACK at once when a gap fills
  } else if (s.len > 0) {
    // RFC 5681 §4.2 / RFC 1122 §4.2.3.2: ACK at least every second full-sized segment, else delay.
    // A merged chain counts as the full-sized segments it holds: two or more are ACKed at once.
    if (s.len >= full) c.delack_segs_ += s.lro_segsz != 0 ? s.len / full : 1;
    // Quick ACK: a peer in slow start (the connection's first segments, or after it was silent
    // longer than an RTO) gets every segment ACKed at once (Linux's quickack mode).
    if (p_.quick_acks != 0 && c.last_data_rx_ns_ != 0 && now_ - c.last_data_rx_ns_ > c.rtt_.rto_ns()) {
      c.quickacks_ = static_cast<uint8_t>(std::min<uint32_t>(p_.quick_acks, 255));
    }
    c.last_data_rx_ns_ = now_;
    if (c.quickacks_ > 0) {
      --c.quickacks_;
      c.ack_now_ = true;
    } else if (c.delack_segs_ >= 2) {
      c.ack_now_ = true;
    } else if (!c.dack_timer_.armed()) {
      wheel_.arm(c.dack_timer_, now_ + p_.delayed_ack_ns);
    }
  }
  schedule(c);
  return true;
}

// In-order data (and maybe FIN) at RCV.NXT. Returns false when the TCB is gone.
bool Tcp::queue_in_order(Connection& c, Packet data, bool fin) {
  uint32_t len = data ? data.length() : 0;
  if (len > 0) {
    c.rcvq_.append(std::move(data));
    c.rcv_nxt_ += len;
    c.bytes_received_ += len;
    stats_.rx_bytes += len;
    notify(c, ev::readable);
  }
  if (fin) return process_fin(c);
  return true;
}

// Eighth step: FIN (RFC 9293 §3.10.7.4).
bool Tcp::process_fin(Connection& c) {
  if (c.fin_rcvd_) return true;
  c.fin_rcvd_ = true;
  c.rcv_nxt_ += 1;
  c.ack_now_ = true;
  notify(c, ev::readable | ev::peer_closed);
  switch (c.st_) {
    case State::syn_received:
    case State::established:
      set_state(c, State::close_wait);
      break;
    case State::fin_wait_1:
      if (c.fin_acked()) {
        send_ack(c);
        enter_time_wait(c);
        return false;
      }
      set_state(c, State::closing);  // simultaneous close
      break;
    case State::fin_wait_2:
      send_ack(c);
      enter_time_wait(c);
      return false;
    default:
      break;
  }
  schedule(c);
  return true;
}

// Options from a SYN or SYN,ACK (RFC 9293 §3.7.1, RFC 7323 §1.3 and §3.2, RFC 2018 §2).
void Tcp::negotiate(Connection& c, const wire::TcpOptions& o) {
  // RFC 9293 §3.7.1: 536 without the option. A smaller value is raised to
  // Linux's TCP_MIN_MSS, 88, and so is 0 (Linux ignores an MSS of 0 and uses
  // 536; one floor keeps the rule monotonic). A tiny MSS makes us cut data
  // into tiny segments, a CPU and memory amplifier (CVE-2019-11479); any IPv4
  // host takes 128-byte datagrams (RFC 791: 576), so 88 + 40 always arrives.
  constexpr uint16_t kMinPeerMss = 88;
  c.peer_mss_ = std::max<uint16_t>(o.mss.value_or(536), kMinPeerMss);
  c.ws_ok_ = c.ws_ok_ && o.wscale.has_value();
  c.snd_wscale_ = c.ws_ok_ ? std::min<uint8_t>(*o.wscale, wire::kTcpMaxWindowShift) : 0;
  if (!c.ws_ok_) c.rcv_wscale_ = 0;
  c.sack_ok_ = c.sack_ok_ && o.sack_permitted;
  c.ts_ok_ = c.ts_ok_ && o.timestamps.has_value();
  if (c.ts_ok_) {
    c.ts_recent_ = o.timestamps->tsval;
    c.ts_recent_ns_ = now_;
  }
  c.mss_ = std::min(c.peer_mss_, path_mss(wire::Ipv4Addr{c.t_.remote_ip}));
  if (c.opt_.max_segment != 0) c.mss_ = std::min(c.mss_, c.opt_.max_segment);  // TCP_MAXSEG
  c.cc_.init(c.opt_.congestion, effective_mss(c), p_.initial_window, now_, p_.cc);
}

void Tcp::offer_options(Connection& c) {
  c.ws_ok_ = p_.window_scaling;
  c.sack_ok_ = p_.sack;
  c.ts_ok_ = p_.timestamps;
  c.rcv_wscale_ = c.ws_ok_ ? our_wscale(c.opt_) : 0;
}

uint8_t Tcp::our_wscale(const SocketOptions& o) const noexcept {
  // Room for the configured buffer and for growing it to 4 MiB later (RFC 7323 §2.3).
  uint32_t want = std::max<uint32_t>(o.recv_buffer, 4u << 20);
  uint8_t s = 0;
  while (s < wire::kTcpMaxWindowShift && (want >> s) > 65535) ++s;
  return s;
}

}  // namespace tern::tcp
