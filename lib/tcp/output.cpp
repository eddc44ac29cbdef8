/**
 * @file
 * TCP segment output. Tcp::flush() (from Core::poll(), after input and the
 * application's events) and the timers call output(), which decides what
 * the window, congestion window, Nagle and SWS rules allow (RFC 9293
 * §3.8.6, RFC 1122 §4.2.3.4, RFC 5681, RFC 6675 §5) and builds each
 * segment: a fresh header mbuf in front of indirect mbufs that reference the
 * send queue (no payload copy), checksum offloaded or in software, then
 * Ipv4::output() with DF set (RFC 1191 path MTU discovery).
 */
#include <algorithm>

#include "tern/base/byteorder.hpp"
#include "tern/base/checksum.hpp"
#include "tern/tcp/tcp.hpp"
#include "tern/tcp/tcp_internal.hpp"

namespace tern::tcp {

using wire::SeqNum;
namespace fl = wire::tcp_flag;

namespace {
constexpr uint32_t kHeaders = wire::kIpv4MinHeaderLen + wire::kTcpMinHeaderLen;  // no IP options

// RFC 9293 §3.7.1 / RFC 6691: MSS = path MTU - IPv4 header - TCP header. No
// floor of its own: a floor above what the path takes is what made segments
// IPv4 then dropped (the path MTU is at least 68, RFC 791, so this is >= 28).
uint16_t mss_for(const l3::PathInfo& path) noexcept {
  return static_cast<uint16_t>(path.mtu > kHeaders ? path.mtu - kHeaders : 1);
}
}  // namespace

bool Tcp::shrink_mss(Connection& c, uint16_t mss) noexcept {
  if (mss >= c.mss_) return false;
  c.mss_ = mss;
  c.cc_.set_mss(effective_mss(c));
  return true;
}

uint16_t Tcp::path_mss(wire::Ipv4Addr dst) const noexcept {
  auto path = ip_.path(dst);
  return path ? mss_for(*path) : static_cast<uint16_t>(576 - kHeaders);
}

uint32_t Tcp::flight(const Connection& c) const noexcept {
  return c.snd_max_ > c.snd_una_ ? static_cast<uint32_t>(c.snd_max_ - c.snd_una_) : 0;
}

uint32_t Tcp::recv_window(Connection& c) noexcept {
  uint32_t buf = c.opt_.recv_buffer;
  uint32_t held = c.rcvq_.bytes() + c.ooo_.bytes();
  uint32_t space = buf > held ? buf - held : 0;
  space = std::min(space, 65535u << c.rcv_wscale_);
  uint32_t cur = c.advertised();
  // RFC 9293 §3.8.6.2.2: never move the right edge left (no shrinking).
  if (space <= cur) return cur;
  space = std::min(space, mem_window(c));  // what the buffers' truesize still allows (memory.cpp)
  if (space <= cur) return cur;
  // RFC 1122 §4.2.3.3 receiver SWS avoidance: open only by min(buffer/2, MSS) or more.
  uint32_t step = std::min<uint32_t>(buf / 2, effective_mss(c));
  if (space - cur < step && space < buf) return cur;
  return space;
}

uint16_t Tcp::window_field(Connection& c, bool syn) noexcept {
  uint32_t w = recv_window(c);
  uint32_t field;
  if (syn) {
    field = std::min<uint32_t>(w, 65535);  // RFC 7323 §2.2: a SYN's window is not scaled
    c.rcv_adv_ = c.rcv_nxt_ + field;
  } else {
    field = std::min<uint32_t>(w >> c.rcv_wscale_, 65535);
    SeqNum adv = c.rcv_nxt_ + (field << c.rcv_wscale_);
    if (adv > c.rcv_adv_) c.rcv_adv_ = adv;
  }
  c.rcv_wnd_ = c.advertised();
  return static_cast<uint16_t>(field);
}

void Tcp::fill_options(Connection& c, uint8_t flags, wire::TcpOptions& o) noexcept {
  if (flags & fl::syn) {
    o.mss = path_mss(wire::Ipv4Addr{c.t_.remote_ip});  // RFC 9293 §3.7.1: our MSS, from the route's MTU
    if (c.opt_.max_segment != 0) o.mss = std::min(*o.mss, c.opt_.max_segment);  // TCP_MAXSEG
    if (c.ws_ok_) o.wscale = c.rcv_wscale_;                                     // RFC 7323 §2.2
    o.sack_permitted = c.sack_ok_;                                              // RFC 2018 §2
  }
  if (c.ts_ok_) {
    // RFC 7323 §3.2: TSval from our clock (with a per-connection offset, §7.1); TSecr echoes TS.Recent.
    o.timestamps = wire::TcpTimestamps{ts_now() + c.ts_offset_, (flags & fl::ack) ? c.ts_recent_ : 0};
  }
  tfo_syn_options(c, flags, o);
  if (c.sack_ok_ && !(flags & fl::syn) && (flags & fl::ack)) {
    size_t n = 0;
    if (c.dsack_pending_) {
      // RFC 2883 §4: the duplicate first, then the usual blocks; reported once.
      o.sack[n++] = wire::SackBlock{c.dsack_l_, c.dsack_r_};
      c.dsack_pending_ = false;
      ++stats_.dsacks_sent;
    }
    // RFC 2018 §4: report held out-of-order data, the most recent block first.
    if (!c.ooo_.empty()) n += c.ooo_.sack_blocks(std::span<wire::SackBlock>(o.sack).subspan(n));
    o.sack_count = static_cast<uint8_t>(n);
  }
}

// Write @p th in a fresh header mbuf, chain @p data (may be empty), checksum and hand to IPv4 (DF set:
// RFC 1191 path MTU discovery). Errors: Ipv4::output's, or no_memory (counted) without a header mbuf.
Status Tcp::emit(const FourTuple& t, const wire::TcpHeader& th, Packet data, const l3::PathInfo& path,
                 bool offload, std::optional<uint16_t> ip_id, uint16_t tso_segsz, uint8_t tos) {
  Packet seg = Packet::alloc(pool_);
  uint16_t hlen = static_cast<uint16_t>(th.length());
  uint8_t* h = seg ? seg.append(hlen) : nullptr;
  if (h == nullptr || (data && !seg.chain(std::move(data)))) {
    stats_.drop(TcpDrop::no_memory);
    return make_error(Errc::no_memory, "no mbuf for a TCP header");
  }
  th.emit(std::span<uint8_t>(h, hlen));
  const l2::Interface& iface = *path.iface;
  l3::L4Csum how = l3::l4_csum_tx(iface, wire::ip_proto::tcp);
  if (!offload && how == l3::L4Csum::offload) how = l3::L4Csum::software;
  if (tso_segsz != 0) {
    // A super-segment (issue 11): the port cuts it (TSO, checksums by the NIC) or the software GSO
    // just before TX does (l2/gso.cpp, which checksums each frame): nothing to sum here.
    seg.set_tso_segsz(tso_segsz);
    seg.add_tx_flags(RTE_MBUF_F_TX_TCP_SEG);
    seg.set_tx_lengths(0, 0, static_cast<uint8_t>(hlen));
    if (!iface.caps().tso) how = l3::L4Csum::deferred;
    ++stats_.gso_segs;
  }
  l3::fill_l4_checksum(seg, 16, wire::Ipv4Addr{t.local_ip}, wire::Ipv4Addr{t.remote_ip}, wire::ip_proto::tcp,
                       how, static_cast<uint8_t>(hlen), ip_.csum());
  if (tso_segsz != 0 && how == l3::L4Csum::offload) {
    // DPDK's TSO convention (rte_ipv4_phdr_cksum with RTE_MBUF_F_TX_TCP_SEG): the pseudo-header
    // sum without the length, which differs per cut segment; the NIC adds each one's.
    ChecksumAccumulator acc;
    add_ipv4_pseudo_header(acc, t.local_ip, t.remote_ip, wire::ip_proto::tcp, 0);
    store_be16(seg.data() + 16, acc.sum16());
  }
  l3::OutputParams out;
  out.src = wire::Ipv4Addr{t.local_ip};
  out.dst = wire::Ipv4Addr{t.remote_ip};
  out.proto = wire::ip_proto::tcp;
  out.tos = tos;
  // RFC 1191: DF for path MTU discovery, except on a path whose learned MTU is
  // the locked floor (Ipv4Params::pmtu_min), and never on a segment larger than
  // the path takes (send_segment() prevents that): IPv4 fragments rather than
  // drops TCP's own segments, so a connection cannot stall on its own drops.
  out.dont_fragment =
      !path.pmtu_locked && (tso_segsz != 0 || seg.length() + wire::kIpv4MinHeaderLen <= path.mtu);
  out.id = ip_id;  // used only when DF is set (an atomic datagram, RFC 6864 §4.2); else Ipv4 picks it
  const uint32_t payload = seg.length() - hlen;
  Status st = ip_.output(std::move(seg), out, path, now_);
  if (!st) return st;
  ++stats_.out_passes;
  stats_.out_segs += tso_segsz != 0 ? (payload + tso_segsz - 1) / tso_segsz : 1;
  if (th.flags & fl::rst) ++stats_.out_rsts;
  return {};
}

// How much of @p len bytes (more than one segment's @p room) goes out now: one segment, or a
// super-segment of whole segments (issue 11) when the interface takes them (TSO or the software GSO)
// and the connection is not in loss recovery (RFC 6675 counts each segment it sends). A short last
// segment joins only when @p tail_ok (the caller's Nagle verdict, RFC 1122 §4.2.3.4), else it waits.
// @p hdrs: IPv4 + TCP header bytes. Sets @p segsz (the payload of each cut segment) for a super-segment.
uint32_t Tcp::super_segment(const Connection& c, const l3::PathInfo& path, uint32_t room, uint32_t hdrs,
                            uint32_t len, bool tail_ok, uint16_t* segsz) const noexcept {
  const l2::Interface& iface = *path.iface;
  const uint32_t gso_max = iface.gso_max();
  if (gso_max == 0 || c.in_recovery_ || len <= room) return std::min(room, len);
  const PortCaps& caps = iface.caps();
  uint32_t piece = room;
  uint32_t max_segs = (gso_max - hdrs) / piece;
  if (caps.tso) {
    if (caps.tso_max_frame != 0) {
      const uint32_t fit = caps.tso_max_frame > hdrs + wire::kEthernetHeaderLen
                               ? caps.tso_max_frame - hdrs - wire::kEthernetHeaderLen
                               : 0;
      if (fit == 0) return room;
      piece = std::min(piece, fit);
      max_segs = (gso_max - hdrs) / piece;
    }
    if (caps.tso_max_segs != 0) max_segs = std::min<uint32_t>(max_segs, caps.tso_max_segs);
  }
  if (max_segs < 2) return room;
  uint32_t n = std::min(len, max_segs * piece);
  if (n % piece != 0 && !(n == len && tail_ok)) n -= n % piece;
  if (n <= piece) return std::min(room, len);
  *segsz = static_cast<uint16_t>(piece);
  return n;
}

bool Tcp::send_segment(Connection& c, SeqNum seq, uint32_t len, uint8_t flags, uint32_t* sent, bool tail_ok) {
  if (sent != nullptr) *sent = 0;
  wire::Ipv4Addr dst{c.t_.remote_ip};
  auto path = ip_.path(dst);
  if (!path) return false;
  // The segment fits the path MTU Ipv4::output() checks it against (the same
  // PathInfo): a smaller path MTU learned since (from ICMP about this or
  // another connection) shrinks the MSS here, before anything is too big.
  shrink_mss(c, mss_for(*path));
  wire::TcpHeader th;
  fill_options(c, flags, th.options);
  // RFC 2018 §3: fewer SACK blocks may be sent; keep room for one byte of data.
  while (th.options.sack_count > 0 && th.options.length() >= c.mss_) --th.options.sack_count;
  uint32_t opts = static_cast<uint32_t>(th.options.length());
  uint32_t room = c.mss_ > opts ? c.mss_ - opts : 1;
  uint16_t tso_segsz = 0;
  const uint32_t asked = len;
  if (len > room)
    len = super_segment(c, *path, room, static_cast<uint32_t>(kHeaders + opts), len, tail_ok, &tso_segsz);
  if (len < asked) flags &= static_cast<uint8_t>(~(fl::fin | fl::psh));  // they go with the last byte
  Packet data;
  if (len > 0) {
    // A SYN's data (Fast Open) starts one after the SYN's sequence number.
    const SeqNum first = (flags & fl::syn) ? seq + 1 : seq;
    data = c.sndq_.slice(static_cast<uint32_t>(first - c.sndq_base_), len, pool_);
    if (!data) {
      stats_.drop(TcpDrop::no_memory);
      return false;
    }
  }
  th.src_port = c.t_.local_port;
  th.dst_port = c.t_.remote_port;
  th.seq = seq;
  th.flags = flags;
  th.ack = (flags & fl::ack) ? c.rcv_nxt_ : SeqNum{};
  th.window = window_field(c, (flags & fl::syn) != 0);
  uint8_t tos = 0;
  if (c.ecn_ok_ && !(flags & fl::syn)) {
    // RFC 3168 §6.1.3: ECE on every ACK while a CE mark waits for the peer's CWR.
    if (c.ece_out_ && (flags & fl::ack)) th.flags |= fl::ece;
    // RFC 3168 §6.1.5 / §6.1.4 / §6.1.6: ECT(0) on new data only: never on retransmissions,
    // pure ACKs or window probes (a 1-byte segment at SND.UNA with a zero window).
    const bool probe = c.snd_wnd_ == 0 && len <= 1;
    if (len > 0 && seq >= c.snd_max_ && !probe) {
      tos = kEct0;
      if (c.cwr_out_) {
        th.flags |= fl::cwr;  // RFC 3168 §6.1.2: the first new data after the reduction
        c.cwr_out_ = false;
        ++stats_.ecn_cwr_sent;
      }
    }
  }
  const uint16_t id = c.ip_id_;
  c.ip_id_ = static_cast<uint16_t>(c.ip_id_ + (tso_segsz != 0 ? (len + tso_segsz - 1) / tso_segsz : 1));
  if (!emit(c.t_, th, std::move(data), *path, true, id, tso_segsz, tos)) return false;
  note_sent(c, seq, len, flags);
  if (sent != nullptr) *sent = len;
  return true;
}

void Tcp::note_sent(Connection& c, SeqNum seq, uint32_t len, uint8_t flags) {
  uint32_t span = len + ((flags & fl::syn) ? 1 : 0) + ((flags & fl::fin) ? 1 : 0);
  const bool retrans = span > 0 && seq < c.snd_max_;
  if (span > 0 && !(flags & fl::syn) && p_.recovery == LossRecovery::rack_tlp && c.sack_ok_) {
    // RFC 8985 §6.1: every transmission's time, for RACK (a log from the core's pool while data is
    // in flight; a flight that starts without one goes without RACK).
    if (c.rack_.log() == nullptr && c.snd_una_ == c.snd_max_ && seq == c.snd_una_) rack_log_attach(c);
    c.rack_.on_send(seq, span, now_, retrans);
  }
  if (c.in_recovery_) c.prr_out_ += len;                                        // RFC 6937 §3.1: prr_out
  if (span > 0 && c.snd_una_ == c.snd_max_ && !retrans) c.progress_ns_ = now_;  // user timeout clock
  if (len > 0) c.last_tx_ns_ = now_;
  if (retrans) {
    ++stats_.retrans_segs;
    stats_.retrans_bytes += len;
    ++c.retransmits_;
    c.rtt_timing_ = false;  // Karn's rule (RFC 6298 §3)
    if (c.undo_on_) c.undo_retrans_ += std::max<uint32_t>(len, 1);
  } else if (len > 0 && !c.rtt_timing_) {
    c.rtt_timing_ = true;
    c.rtt_seq_ = seq;
    c.rtt_start_ns_ = now_;
  }
  SeqNum end = seq + span;
  if (end > c.snd_max_) {
    uint32_t fresh = static_cast<uint32_t>(end - c.snd_max_);
    c.bytes_sent_ += std::min(fresh, len);
    stats_.tx_bytes += std::min(fresh, len);
    c.snd_max_ = end;
  }
  if (flags & fl::ack) {
    c.last_ack_sent_ = c.rcv_nxt_;
    c.ack_now_ = false;
    c.delack_segs_ = 0;
    wheel_.cancel(c.dack_timer_);
  }
}

void Tcp::send_syn(Connection& c) {
  uint8_t flags = fl::syn;
  if (c.st_ == State::syn_received) flags |= fl::ack;
  if (c.st_ == State::syn_sent && c.opt_.ecn == EcnMode::on && c.retries_ == 0) {
    // RFC 3168 §6.1.1: an ECN-setup SYN; a retransmitted SYN goes without (§6.1.1.1, Linux's
    // tcp_ecn_fallback: a middlebox may drop it).
    flags |= fl::ece | fl::cwr;
  }
  if (c.st_ == State::syn_received && c.ecn_ok_) flags |= fl::ece;  // ECN-setup SYN-ACK
  if (c.retries_ == 0) c.rtt_start_ns_ = now_;
  const uint32_t len = c.st_ == State::syn_sent ? tfo_syn_data(c) : 0;  // RFC 7413 §4.2.1
  uint32_t n = 0;
  send_segment(c, c.iss_, len, flags, &n);
  if (n > 0) {
    c.tfo_ |= kTfoSynData;
    ++stats_.tfo_syn_data;
  }
  c.snd_nxt_ = c.iss_ + 1 + n;                        // the SYN occupies one sequence number (RFC 9293 §3.4)
  if (c.snd_max_ == c.iss_) c.snd_max_ = c.snd_nxt_;  // (send_segment failed: no route yet)
  arm_rtx(c);
}

void Tcp::send_ack(Connection& c) { send_segment(c, c.snd_nxt_, 0, fl::ack); }

void Tcp::send_rst(Connection& c) {
  // RFC 9293 §3.10.5 ABORT: <SEQ=SND.NXT><CTL=RST> (with ACK, as Linux sends it).
  send_segment(c, c.snd_max_, 0, fl::rst | fl::ack);
}

// A segment outside any TCB (resets, SYN cookie SYN,ACKs, TIME_WAIT ACKs): checksum in software.
bool Tcp::send_raw(const FourTuple& t, SeqNum seq, SeqNum ack, uint8_t flags, uint16_t window,
                   const wire::TcpOptions& opts) {
  auto path = ip_.path(wire::Ipv4Addr{t.remote_ip});
  if (!path) return false;
  wire::TcpHeader th;
  th.src_port = t.local_port;
  th.dst_port = t.remote_port;
  th.seq = seq;
  th.ack = ack;
  th.flags = flags;
  th.window = window;
  th.options = opts;
  return emit(t, th, Packet{}, *path, false).ok();
}

// RFC 9293 §3.10.7.1: the reset that answers a segment without a connection.
void Tcp::send_reply_rst(const Segment& s) {
  if (s.has(fl::ack)) {
    send_raw(s.t, s.ack, SeqNum{}, fl::rst, 0, {});
  } else {
    send_raw(s.t, SeqNum{}, s.seq + s.seg_len(), fl::rst | fl::ack, 0, {});
  }
}

// RFC 4987 §3.6: a SYN,ACK whose ISN encodes the connection; no state is kept.
void Tcp::send_cookie_synack(const Segment& s, const Listener& l) {
  const wire::TcpOptions& in = s.v.options();
  uint16_t peer_mss = std::max<uint16_t>(in.mss.value_or(536), 64);
  SeqNum isn = cookies_.make(s.t, s.seq, peer_mss, now_);
  wire::TcpOptions o;
  o.mss = path_mss(wire::Ipv4Addr{s.t.remote_ip});
  if (in.timestamps && p_.timestamps) {
    SynCookieOptions co;
    co.mss = peer_mss;
    co.sack_permitted = in.sack_permitted && p_.sack;
    if (in.wscale && p_.window_scaling) co.wscale = in.wscale;
    co.timestamps = true;
    uint32_t tsval = SynCookies::encode_ts(ts_now() + isn_.hash(s.t, 2), co);
    o.timestamps = wire::TcpTimestamps{tsval, in.timestamps->tsval};
    o.sack_permitted = co.sack_permitted;
    // The listener's buffer, as input_cookie_ack() will use (RFC 7323 §2.2: the scale we then apply).
    if (co.wscale) o.wscale = our_wscale(l.opt_);
  }
  ++stats_.syncookies_sent;
  send_raw(s.t, isn, s.seq + 1, fl::syn | fl::ack, 65535, o);
}

bool Tcp::may_send(const Connection& c, uint32_t len, uint32_t unsent) const noexcept {
  uint32_t mss = effective_mss(c);
  if (len >= mss) return true;                      // a full segment
  if (c.fin_queued_ && len == unsent) return true;  // closing: push everything
  // TCP_CORK / MSG_MORE: a partial segment waits for more data, the uncork or the 200 ms ceiling.
  if ((c.opt_.cork || c.more_) && !c.cork_flush_) return false;
  if (c.cork_flush_ && len == unsent) return true;
  // A zero-window probe byte (sent beyond SND.NXT, RFC 9293 §3.8.6.1) is not data in flight for Nagle.
  bool idle = c.snd_max_ == c.snd_una_ || c.snd_nxt_ == c.snd_una_;
  if ((c.opt_.nodelay || idle) && len == unsent) return true;        // RFC 896 / RFC 1122 §4.2.3.4 Nagle
  if (c.max_snd_wnd_ > 0 && len >= c.max_snd_wnd_ / 2) return true;  // RFC 1122 §4.2.3.4 (sender SWS)
  return false;
}

void Tcp::output(Connection& c) {
  if (c.st_ == State::syn_sent && c.snd_max_ == c.iss_) {
    send_syn(c);  // a Fast Open connect's deferred SYN, with the data queued since (RFC 7413 §4.2.1)
    return;
  }
  if (!sends_data(c.st_)) {
    // FIN_WAIT_2 and SYN_RECEIVED still acknowledge; the rest have nothing to send.
    if (c.ack_now_ && (c.st_ == State::fin_wait_2 || c.st_ == State::syn_received)) send_ack(c);
    return;
  }
  bool sent = false;
  // New data after a quiet period: RFC 5681 §4.1 restarts from the restart window after more
  // than an RTO (unless idle_restart is off); CUBIC leaves the idle time out of its curve (RFC 9438 §5.8).
  if (c.snd_una_ == c.snd_max_ && c.last_tx_ns_ != 0 && c.snd_nxt_ < c.send_end()) {
    const uint64_t idle = now_ - c.last_tx_ns_;
    const uint64_t rto = c.rtt_.rto_ns();
    c.cc_.on_idle(p_.idle_restart ? idle : std::min(idle, rto), rto, now_);
  }
  if (c.in_recovery_ && c.sack_ok_) sent = rack_on(c) ? output_rack(c) : output_recovery(c);
  const SeqNum max_before = c.snd_max_;
  uint32_t mss = effective_mss(c);
  for (;;) {
    SeqNum data_end = c.send_end();
    uint32_t unsent = c.snd_nxt_ < data_end ? static_cast<uint32_t>(data_end - c.snd_nxt_) : 0;
    uint32_t usable;
    if (c.in_recovery_ && c.sack_ok_) {
      // RFC 6675 §5 (C) rule 2: new data while cwnd - pipe allows, and within the peer's
      // window measured from SND.UNA.
      uint32_t pipe = recovery_pipe(c);
      uint32_t edge = c.snd_una_ + c.snd_wnd_ > c.snd_nxt_
                          ? static_cast<uint32_t>(c.snd_una_ + c.snd_wnd_ - c.snd_nxt_)
                          : 0;
      usable = std::min(c.cc_.cwnd() > pipe ? c.cc_.cwnd() - pipe : 0, edge);
    } else {
      // RFC 3042: on the first two duplicate ACKs, up to 2 x SMSS of new data beyond cwnd
      // (cwnd itself unchanged).
      uint32_t cwnd = c.cc_.cwnd();
      // (RFC 3042 §2: the first two duplicate ACKs only, never in NewReno recovery: RFC 5681 §3.2 step 4.)
      if (!c.in_recovery_ && c.dupacks_ > 0 && p_.limited_transmit && c.snd_nxt_ == c.snd_max_) {
        cwnd += std::min<uint32_t>(c.dupacks_, 2) * mss;
      }
      uint32_t wnd = std::min(c.snd_wnd_, cwnd);
      uint32_t in_flight = c.snd_nxt_ > c.snd_una_ ? static_cast<uint32_t>(c.snd_nxt_ - c.snd_una_) : 0;
      usable = wnd > in_flight ? wnd - in_flight : 0;
      if (cwnd != c.cc_.cwnd()) {
        // Limited transmit sends whole segments only (RFC 3042 §2).
        const uint32_t base = c.cc_.cwnd() > in_flight ? c.cc_.cwnd() - in_flight : 0;
        if (usable > base) usable = base + (usable - base) / mss * mss;
      }
    }
    // More than one segment's worth may go as one super-segment (send_segment, issue 11).
    uint32_t len = std::min({unsent, usable, c.in_recovery_ ? mss : 65535u});
    if (len > 0 && may_send(c, std::min(len, mss), unsent)) {
      uint8_t flags = fl::ack;
      if (len == unsent) flags |= fl::psh;
      if (len == unsent && c.fin_queued_) flags |= fl::fin;
      // RFC 1122 §4.2.3.4 (Nagle): a short last segment behind full ones goes only when nothing
      // will follow it soon (no delay asked, or closing); else it waits for the ACKs as before.
      // TCP_CORK / MSG_MORE hold it too (may_send's rule), also behind full segments of a super-segment.
      const bool corked = (c.opt_.cork || c.more_) && !c.cork_flush_;
      const bool tail_ok = len == unsent && ((c.opt_.nodelay && !corked) || c.fin_queued_);
      uint32_t n = 0;
      if (!send_segment(c, c.snd_nxt_, len, flags, &n, tail_ok) || n == 0) break;
      bool fin_went = n == len && (flags & fl::fin);
      c.snd_nxt_ += n + (fin_went ? 1 : 0);
      sent = true;
      if (!c.in_recovery_ && c.dupacks_ > 0 && c.snd_nxt_ - c.snd_una_ > static_cast<int32_t>(c.cc_.cwnd())) {
        ++stats_.limited_transmits;
        c.lt_bytes_ += std::min(n, static_cast<uint32_t>(c.snd_nxt_ - c.snd_una_) - c.cc_.cwnd());
      }
      continue;
    }
    if (unsent == 0 && c.fin_queued_ && c.snd_nxt_ == data_end) {
      if (send_segment(c, c.snd_nxt_, 0, fl::fin | fl::ack)) {
        c.snd_nxt_ += 1;
        sent = true;
      }
    }
    break;
  }
  if (!sent && c.ack_now_) send_ack(c);
  after_output(c);
  // RFC 6298 §5.1: the retransmission timer runs while data is outstanding; RFC 8985 §7.2: the
  // tail loss probe is (re)started after new data went out.
  if (c.snd_max_ != c.snd_una_) {
    if (c.snd_max_ != max_before && c.rtx_mode_ != rtx_mode::reorder && tlp_ok(c)) {
      // RFC 6298 §5.1: a flight that starts now starts the RTO; the probe goes in front of it.
      if (!c.rtx_timer_.armed()) c.rto_due_ns_ = rto_deadline(c);
      arm_early(c, rtx_mode::probe, pto_ns(c));
    } else if (!c.rtx_timer_.armed()) {
      arm_rtx(c);
    }
  }
  // RFC 9293 §3.8.6.1: data waits on a zero (or too small) window with nothing in flight: probe.
  if (c.snd_nxt_ < c.send_end() && c.snd_max_ == c.snd_una_ && !c.rtx_timer_.armed()) arm_persist(c);
}

// Bookkeeping after an output pass: the cork ceiling, the not-sent low-water event, and the
// busy / window-limited clocks info() reports.
void Tcp::after_output(Connection& c) {
  c.cork_flush_ = false;
  const uint32_t unsent = c.notsent();
  if (unsent == 0) {
    // The common case (everything handed to IPv4): only the busy clock may start.
    if (c.busy_since_ns_ == 0 && c.snd_max_ != c.snd_una_) c.busy_since_ns_ = std::max<uint64_t>(now_, 1);
    if (c.rwnd_since_ns_ != 0) {
      c.rwnd_ns_ += now_ - c.rwnd_since_ns_;
      c.rwnd_since_ns_ = 0;
    }
    if (c.opt_.notsent_lowat != 0 && c.want_writable_ && c.writable_now()) {
      c.want_writable_ = false;
      notify(c, ev::writable);
    }
    return;
  }
  if (unsent < effective_mss(c) && (c.opt_.cork || c.more_) && c.cork_due_ns_ == 0) {
    c.cork_due_ns_ = now_ + kCorkCeilingNs;  // Linux: corked data waits at most 200 ms
    arm_keepalive(c);
  }
  if (c.opt_.notsent_lowat != 0 && c.want_writable_ && c.writable_now()) {
    c.want_writable_ = false;
    notify(c, ev::writable);
  }
  const bool busy = c.snd_max_ != c.snd_una_ || unsent > 0;
  if (busy && c.busy_since_ns_ == 0) c.busy_since_ns_ = std::max<uint64_t>(now_, 1);
  // Held back by the peer's window: data waits and the window, not cwnd, is what is full.
  const uint32_t out = flight(c);
  const bool rwnd_limited = unsent > 0 && out >= c.snd_wnd_ && c.snd_wnd_ < c.cc_.cwnd();
  if (rwnd_limited && c.rwnd_since_ns_ == 0) {
    c.rwnd_since_ns_ = std::max<uint64_t>(now_, 1);
  } else if (!rwnd_limited && c.rwnd_since_ns_ != 0) {
    c.rwnd_ns_ += now_ - c.rwnd_since_ns_;
    c.rwnd_since_ns_ = 0;
  }
}

// RFC 6675 §5 step (C): while cwnd - pipe >= 1 SMSS, send NextSeg().
bool Tcp::output_recovery(Connection& c) {
  uint32_t mss = effective_mss(c);
  bool sent = false;
  for (int guard = 0; guard < 64; ++guard) {
    uint32_t pipe = c.sb_.pipe(c.snd_una_, c.snd_max_, c.high_rxt_, mss);
    if (c.cc_.cwnd() < pipe + mss) break;
    SeqNum data_end = c.send_end();
    bool new_data = c.snd_max_ < data_end && c.snd_nxt_ == c.snd_max_;
    auto seg = c.sb_.next_seg(c.snd_una_, c.high_rxt_, mss, !new_data);
    if (!seg) break;  // rule 2 (new data) is the caller's loop
    uint32_t len = std::min<uint32_t>(seg->len, static_cast<uint32_t>(data_end - seg->seq));
    uint8_t flags = fl::ack;
    if (len == 0) {
      if (!c.fin_queued_) break;
      flags |= fl::fin;
    }
    uint32_t n = 0;
    if (!send_segment(c, seg->seq, len, flags, &n)) break;
    c.high_rxt_ = seg->seq + std::max<uint32_t>(n, 1);
    ++stats_.sack_retransmits;
    sent = true;
  }
  return sent;
}

void Tcp::maybe_window_update(Connection& c) {
  // RFC 1122 §4.2.3.3: tell the peer when the window opens by min(buffer/2, MSS) or more.
  if (c.st_ != State::established && c.st_ != State::fin_wait_1 && c.st_ != State::fin_wait_2) return;
  uint32_t cur = c.advertised();
  uint32_t w = recv_window(c);
  uint32_t step = std::min<uint32_t>(c.opt_.recv_buffer / 2, 2 * effective_mss(c));
  if (w >= cur + step || (cur == 0 && w > 0)) {
    ++stats_.window_updates;
    ack_soon(c);
  }
}

}  // namespace tern::tcp
