/**
 * @file
 * RACK loss detection (RFC 8985 §6) over the per-connection transmission log.
 * Fed by Tcp::note_sent() (each transmission) and Tcp's ACK processing
 * (input.cpp); read by the recovery output (output.cpp).
 */
#include "tern/tcp/rack.hpp"

#include <algorithm>
#include <cstring>

namespace tern::tcp {

using wire::SeqNum;

namespace {

constexpr uint32_t to_us(uint64_t ns) noexcept { return static_cast<uint32_t>(ns / 1000); }

// Nanoseconds since a record's transmit time (the microsecond clock wraps after 71 minutes; every
// record is younger than the connection's retransmission limit, far below that).
constexpr uint64_t elapsed_ns(uint32_t ts_us, uint64_t now_ns) noexcept {
  return uint64_t{static_cast<uint32_t>(to_us(now_ns) - ts_us)} * 1000;
}

// RFC 8985 §6.2 RACK_sent_after(t1, seq1, t2, seq2): sent later, or in the same burst and higher.
// tern orders transmissions by a per-connection count instead of their time: two sent in the
// same microsecond keep their order (the RFC's clock tie-break by sequence would misorder a
// retransmission sent right after new data).
constexpr bool sent_after(uint32_t o1, SeqNum e1, uint32_t o2, SeqNum e2) noexcept {
  const int32_t d = static_cast<int32_t>(o1 - o2);
  return d > 0 || (d == 0 && e1 > e2);
}

// Walks the scoreboard's ranges alongside the log's records (both in sequence order).
class SackCursor {
 public:
  explicit SackCursor(const SackScoreboard& sb) noexcept : r_(sb.ranges()) {}
  // Some of [s, e) is SACKed. Calls must come with non-decreasing s.
  bool overlaps(SeqNum s, SeqNum e) noexcept {
    skip(s);
    return k_ < r_.size() && r_[k_].left < e;
  }
  // One past the highest SACKed byte of [s, e), or s when none.
  SeqNum last_sacked(SeqNum s, SeqNum e) noexcept {
    skip(s);
    SeqNum d = s;
    for (size_t k = k_; k < r_.size() && r_[k].left < e; ++k) d = wire::seq_min(r_[k].right, e);
    return d;
  }
  // The first unSACKed byte of [s, e), or e when all is SACKed.
  SeqNum first_hole(SeqNum s, SeqNum e) noexcept {
    skip(s);
    for (size_t k = k_; k < r_.size() && r_[k].left <= s && s < e; ++k) s = r_[k].right;
    return wire::seq_min(s, e);
  }
  // Unsacked bytes of [s, e).
  uint32_t unsacked(SeqNum s, SeqNum e) noexcept {
    skip(s);
    uint32_t n = static_cast<uint32_t>(e - s);
    for (size_t k = k_; k < r_.size() && r_[k].left < e; ++k) {
      n -= static_cast<uint32_t>(wire::seq_min(r_[k].right, e) - wire::seq_max(r_[k].left, s));
    }
    return n;
  }

 private:
  void skip(SeqNum s) noexcept {
    while (k_ < r_.size() && r_[k_].right <= s) ++k_;
  }
  std::span<const SackScoreboard::Range> r_;
  size_t k_ = 0;
};

}  // namespace

TxLog* Rack::take_log() noexcept {
  TxLog* l = log_;
  log_ = nullptr;
  return l;
}

void Rack::attach(TxLog* log, SeqNum una) noexcept {
  log_ = log;
  log_->n = 0;
  log_->base = una;
}

bool Rack::split(uint32_t i, SeqNum at) noexcept {
  TxLog& l = *log_;
  if (l.n == TxLog::kCap) return false;
  std::memmove(&l.rec[i + 1], &l.rec[i], (l.n - i) * sizeof(TxLog::Rec));
  ++l.n;
  // rec[i] is now the lower part [start, at), rec[i + 1] the upper [at, end); both keep the time.
  TxLog::Rec& lo = l.rec[i];
  TxLog::Rec& hi = l.rec[i + 1];
  lo.end = at;
  hi.holes = 0;  // the holes counted lie below dend: in the upper part only if dend is above the cut
  if (lo.flags & TxLog::kDelivered) {
    if (lo.dend > at) {
      lo.dend = at;
      lo.holes = 0;  // how many of them fall below the cut is not known: count afresh
    } else {
      hi.flags = static_cast<uint8_t>(hi.flags & ~TxLog::kDelivered);
    }
  }
  return true;
}

void Rack::on_send(SeqNum seq, uint32_t span, uint64_t now_ns, bool retrans) noexcept {
  if (log_ == nullptr || span == 0) return;
  TxLog& l = *log_;
  const uint32_t ts = to_us(now_ns);
  const uint32_t order = ++order_;
  SeqNum end = seq + span;
  SeqNum last = l.n == 0 ? l.base : l.rec[l.n - 1].end;
  if (end <= l.base) return;  // all acknowledged already
  if (seq < l.base) seq = l.base;
  if (seq < last) {
    // A retransmission (RFC 8985 §6.1: the segment's xmit_ts moves, retransmitted = TRUE, lost = FALSE).
    const SeqNum rend = wire::seq_min(end, last);
    uint32_t i = 0;
    while (l.rec[i].end <= seq) ++i;
    if (l.start(i) < seq) {
      if (split(i, seq)) {
        ++i;
      } else {
        ++log_full_;  // the whole record takes the new time: its loss is detected later, not earlier
      }
    }
    for (; i < l.n && l.start(i) < rend; ++i) {
      if (l.rec[i].end > rend && !split(i, rend)) ++log_full_;
      l.rec[i].ts_us = ts;
      l.rec[i].order = order;
      l.rec[i].flags = TxLog::kRetrans;
    }
    if (end <= last) return;
    seq = last;  // the rest is new data
  }
  if (l.n == 0) l.base = seq;
  if (l.n == TxLog::kCap) {
    ++log_full_;
    TxLog::Rec& r = l.rec[l.n - 1];
    r.end = end;
    r.ts_us = ts;
    r.order = order;
    r.flags = static_cast<uint8_t>(r.flags & ~TxLog::kLost);
    return;
  }
  l.rec[l.n++] = TxLog::Rec{end, end, ts, order, 0, static_cast<uint8_t>(retrans ? TxLog::kRetrans : 0)};
}

void Rack::on_ack(SeqNum una, SeqNum snd_nxt, const SackScoreboard& sb, bool dsack,
                  uint64_t now_ns) noexcept {
  // RFC 8985 §6.2 step 4 (first part): D-SACK rounds grow the reordering window.
  if (dsack_round_on_ && una >= dsack_round_) dsack_round_on_ = false;
  if (dsack && !dsack_round_on_) {
    dsack_round_on_ = true;
    dsack_round_ = snd_nxt;
    if (reo_wnd_mult_ < 255) ++reo_wnd_mult_;
    reo_wnd_persist_ = 16;
  }
  if (log_ == nullptr) return;
  TxLog& l = *log_;
  if (l.n == 1 && una >= l.rec[0].end && !(l.rec[0].flags & (TxLog::kRetrans | TxLog::kDelivered))) {
    // One transmission, acknowledged whole at once (request/response): RFC 8985 §6.2 steps 1-3 reduce
    // to taking its RTT; nothing was delivered before it, so nothing arrived out of order.
    const TxLog::Rec& r = l.rec[0];
    const uint64_t rtt = elapsed_ns(r.ts_us, now_ns);
    if (min_rtt_ns_ == 0 || rtt < min_rtt_ns_) min_rtt_ns_ = std::max<uint64_t>(rtt, 1);
    rtt_ns_ = rtt;
    if (!have_xmit_ || sent_after(r.order, r.end, xmit_order_, end_seq_)) {
      xmit_order_ = r.order;
      end_seq_ = r.end;
      have_xmit_ = true;
    }
    if (!have_fack_ || r.end > fack_) {
      fack_ = r.end;
      have_fack_ = true;
    }
    l.n = 0;
    l.base = una;
    return;
  }
  SackCursor cur(sb);
  bool have_best = false;
  uint32_t best_order = 0;
  uint32_t best_ts = 0;
  SeqNum best_end;
  for (uint32_t i = 0; i < l.n; ++i) {
    TxLog::Rec& r = l.rec[i];
    const SeqNum s = l.start(i);
    // How far this record is delivered now: cumulatively, then by SACK (a super-segment may be
    // delivered piece by piece; each advance is a newly delivered segment of RFC 8985).
    const SeqNum lo = wire::seq_max(s, una);
    SeqNum d = r.end <= una ? r.end : cur.last_sacked(lo, r.end);
    if (s < una && d < una) d = wire::seq_min(una, r.end);
    if (d <= s) continue;
    if ((r.flags & TxLog::kDelivered) && r.holes > 0) {
      // Bytes below what this record already delivered arrived now: late, so reordered (RFC 8985
      // §6.2 step 3 within one burst), unless they were resent.
      const uint32_t h = lo >= r.dend ? 0 : cur.unsacked(lo, r.dend);
      if (h < r.holes && !(r.flags & TxLog::kRetrans)) reordering_seen_ = true;
      r.holes = h;
    }
    if ((r.flags & TxLog::kDelivered) && d <= r.dend) continue;
    r.flags |= TxLog::kDelivered;
    r.dend = d;
    r.holes = lo >= d ? 0 : cur.unsacked(lo, d);
    const uint64_t rtt = elapsed_ns(r.ts_us, now_ns);
    // RFC 8985 §6.2 step 1: RACK.min_RTT from unambiguous samples (never retransmitted).
    if (!(r.flags & TxLog::kRetrans) && (min_rtt_ns_ == 0 || rtt < min_rtt_ns_)) {
      min_rtt_ns_ = std::max<uint64_t>(rtt, 1);
    }
    // RFC 8985 §6.2 step 3: delivered below the highest delivered end, never retransmitted: reordering.
    if (!have_fack_ || d > fack_) {
      fack_ = d;
      have_fack_ = true;
    } else if (d < fack_ && !(r.flags & TxLog::kRetrans)) {
      reordering_seen_ = true;
    }
    // RFC 8985 §6.2 step 2: a retransmission delivered sooner than min_RTT is the original's ACK.
    // (The TSecr test of the RFC is not made: records keep no TSval.)
    if ((r.flags & TxLog::kRetrans) && rtt < min_rtt_ns_) continue;
    if (!have_best || sent_after(r.order, d, best_order, best_end)) {
      have_best = true;
      best_order = r.order;
      best_ts = r.ts_us;
      best_end = d;
    }
  }
  if (have_best) {
    rtt_ns_ = elapsed_ns(best_ts, now_ns);
    if (!have_xmit_ || sent_after(best_order, best_end, xmit_order_, end_seq_)) {
      xmit_order_ = best_order;
      end_seq_ = best_end;
      have_xmit_ = true;
    }
  }
  // Forget what is cumulatively acknowledged.
  uint32_t k = 0;
  while (k < l.n && l.rec[k].end <= una) ++k;
  if (k > 0) {
    std::memmove(&l.rec[0], &l.rec[k], (l.n - k) * sizeof(TxLog::Rec));
    l.n -= k;
  }
  if (una > l.base) l.base = una;
}

uint64_t Rack::reo_wnd(const SackScoreboard& sb, uint64_t srtt_ns, bool in_recovery,
                       uint32_t mss) const noexcept {
  // RFC 8985 §6.2 step 4: no reordering seen: none in recovery, none once DupThresh segments are SACKed.
  if (!reordering_seen_) {
    if (in_recovery) return 0;
    if (sb.sacked_bytes() >= 3 * std::max<uint32_t>(mss, 1)) return 0;
  }
  const uint64_t w = uint64_t{reo_wnd_mult_} * min_rtt_ns_ / 4;
  return srtt_ns != 0 ? std::min(w, srtt_ns) : w;
}

void Rack::on_recovery_exit() noexcept {
  // RFC 8985 §6.2 step 4: after 16 recoveries without D-SACK the window multiplier resets.
  if (reo_wnd_persist_ > 0) --reo_wnd_persist_;
  if (reo_wnd_persist_ == 0) reo_wnd_mult_ = 1;
}

uint64_t Rack::detect_loss(const SackScoreboard& sb, uint64_t srtt_ns, bool in_recovery, uint32_t mss,
                           uint64_t now_ns, bool* newly_lost) noexcept {
  *newly_lost = false;
  if (log_ == nullptr || !have_xmit_) return 0;
  TxLog& l = *log_;
  // Rounded up to the log's microseconds, so the timer never fires before the loss is due.
  const uint64_t thresh = (rtt_ns_ + reo_wnd(sb, srtt_ns, in_recovery, mss) + 999) / 1000 * 1000;
  uint64_t timeout = 0;
  SackCursor cur(sb);
  for (uint32_t i = 0; i < l.n; ++i) {
    TxLog::Rec& r = l.rec[i];
    const SeqNum s = l.start(i);
    if (r.flags & TxLog::kLost) continue;  // lost, not yet retransmitted
    const SeqNum hole = cur.first_hole(s, r.end);
    if (hole >= r.end) continue;  // all SACKed: delivered
    // Sent before RACK's segment (RFC 8985 RACK_sent_after): an older transmission, or one of the
    // same burst whose unSACKed bytes start below RACK.end_seq; the part above stays unjudged.
    if (r.order != xmit_order_) {
      if (!sent_after(xmit_order_, end_seq_, r.order, r.end)) continue;
    } else {
      if (hole >= end_seq_) continue;
      if (r.end > end_seq_ && !split(i, end_seq_)) {
        ++log_full_;
        continue;
      }
    }
    const uint64_t e = elapsed_ns(r.ts_us, now_ns);
    if (e >= thresh) {
      // RFC 8985 §6.2 step 5: xmit_ts + RACK.rtt + RACK.reo_wnd has passed.
      r.flags = static_cast<uint8_t>(r.flags | TxLog::kLost);
      ++marked_lost_;
      *newly_lost = true;
    } else {
      timeout = std::max(timeout, thresh - e);
    }
  }
  return timeout;
}

std::optional<SackScoreboard::Seg> Rack::next_lost(const SackScoreboard& sb, SeqNum from,
                                                   uint32_t mss) const noexcept {
  if (log_ == nullptr || mss == 0) return std::nullopt;
  const TxLog& l = *log_;
  const auto ranges = sb.ranges();
  size_t k = 0;
  for (uint32_t i = 0; i < l.n; ++i) {
    const TxLog::Rec& r = l.rec[i];
    if (!(r.flags & TxLog::kLost) || r.end <= from) continue;
    SeqNum s = wire::seq_max(l.start(i), from);
    // Skip SACKed ranges at s; the first unSACKed byte starts the segment. A range that runs on
    // past this record stays current for the next one.
    while (k < ranges.size() && ranges[k].right <= s) ++k;
    while (k < ranges.size() && ranges[k].left <= s && s < r.end) {
      s = ranges[k].right;
      if (s >= r.end) break;
      ++k;
    }
    if (s >= r.end) continue;
    SeqNum e = r.end;
    if (k < ranges.size() && ranges[k].left < e) e = ranges[k].left;
    return SackScoreboard::Seg{s, std::min<uint32_t>(mss, static_cast<uint32_t>(e - s))};
  }
  return std::nullopt;
}

uint32_t Rack::lost_bytes(const SackScoreboard& sb) const noexcept {
  if (log_ == nullptr) return 0;
  const TxLog& l = *log_;
  SackCursor cur(sb);
  uint32_t n = 0;
  for (uint32_t i = 0; i < l.n; ++i) {
    if (l.rec[i].flags & TxLog::kLost) n += cur.unsacked(l.start(i), l.rec[i].end);
  }
  return n;
}

}  // namespace tern::tcp
