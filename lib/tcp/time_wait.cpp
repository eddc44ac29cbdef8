/**
 * @file
 * TIME-WAIT (RFC 9293 §3.10.7.4, §3.4.2). A connection that reaches
 * TIME-WAIT gives up its TCB for a small entry in a bounded per-core table
 * (the oldest is recycled when full); the entry answers a retransmitted FIN,
 * ignores resets (RFC 1337), lets a clearly newer SYN start a new connection
 * (RFC 6191, RFC 9293 §3.10.7.4 TIME-WAIT), and expires after 2 x MSL.
 */
#include <algorithm>
#include <utility>

#include "tern/tcp/tcp.hpp"
#include "tern/tcp/tcp_internal.hpp"

namespace tern::tcp {

using wire::SeqNum;
namespace fl = wire::tcp_flag;

void Tcp::on_tw_timer(Timer& t, uint64_t now) {
  auto* tcp = static_cast<Tcp*>(t.ctx);
  tcp->now_ = std::max(tcp->now_, now);
  tcp->tw_expire(now);
}

Tcp::TimeWait* Tcp::tw_find(const FourTuple& t) const noexcept {
  if (tw_count_ == 0) return nullptr;
  for (TimeWait* w = tw_buckets_[hash(t) & bucket_mask_]; w != nullptr; w = w->hnext) {
    if (w->t == t) return w;
  }
  return nullptr;
}

// The expiry FIFO: entries ordered by expiry, oldest first (every entry lives 2 x MSL).
void Tcp::tw_unlink_fifo(TimeWait* w) {
  if (w->older != nullptr) w->older->newer = w->newer;
  if (w->newer != nullptr) w->newer->older = w->older;
  if (tw_oldest_ == w) tw_oldest_ = w->newer;
  if (tw_newest_ == w) tw_newest_ = w->older;
  w->older = w->newer = nullptr;
}

void Tcp::tw_link_newest(TimeWait* w) {
  w->older = tw_newest_;
  w->newer = nullptr;
  if (tw_newest_ != nullptr) tw_newest_->newer = w;
  tw_newest_ = w;
  if (tw_oldest_ == nullptr) tw_oldest_ = w;
}

void Tcp::tw_remove(TimeWait* w) {
  TimeWait** pp = &tw_buckets_[hash(w->t) & bucket_mask_];
  while (*pp != nullptr && *pp != w) pp = &(*pp)->hnext;
  if (*pp == w) *pp = w->hnext;
  tw_unlink_fifo(w);
  if (w->pinned && p_.pin_flow != nullptr) p_.pin_flow(p_.pin_ctx, w->t, false);
  w->pinned = false;
  w->hnext = tw_free_;
  tw_free_ = w;
  --tw_count_;
}

void Tcp::enter_time_wait(Connection& c) {
  TimeWait* w = tw_free_;
  if (w != nullptr) {
    tw_free_ = w->hnext;
  } else if (tw_all_.size() < p_.max_time_wait) {
    tw_all_.push_back(std::make_unique<TimeWait>());
    w = tw_all_.back().get();
  } else {
    ++stats_.time_wait_recycled;  // the table is full: the oldest entry goes early
    tw_remove(tw_oldest_);
    w = tw_free_;
    tw_free_ = w->hnext;
  }
  *w = TimeWait{};
  w->t = c.t_;
  w->snd_nxt = c.snd_max_;
  w->rcv_nxt = c.rcv_nxt_;
  w->ts_ok = c.ts_ok_;
  w->ts_recent = c.ts_recent_;
  w->ts_recent_ns = c.ts_recent_ns_;
  w->ts_offset = c.ts_offset_;
  w->pinned = std::exchange(c.pinned_, false);  // the 4-tuple stays pinned while TIME_WAIT holds it
  w->window = static_cast<uint16_t>(std::min<uint32_t>(c.advertised() >> c.rcv_wscale_, 65535));
  w->expiry_ns = now_ + 2 * p_.msl_ns;  // RFC 9293 §3.4.2: 2 x MSL
  TimeWait*& b = tw_buckets_[hash(w->t) & bucket_mask_];
  w->hnext = b;
  b = w;
  tw_link_newest(w);
  ++tw_count_;
  ++stats_.time_wait_entered;
  if (!tw_timer_.armed()) wheel_.arm(tw_timer_, tw_oldest_->expiry_ns);
  // The TCB is no longer needed.
  unlink(&c);
  quiesce(c);
  set_state(c, State::time_wait);
  if (!c.app_owned_) destroy(&c);
}

void Tcp::tw_expire(uint64_t now) {
  while (tw_oldest_ != nullptr && tw_oldest_->expiry_ns <= now) tw_remove(tw_oldest_);
  if (tw_oldest_ != nullptr) wheel_.arm(tw_timer_, tw_oldest_->expiry_ns);
}

// Returns true when the segment was handled here; false lets a new SYN go on to the listener.
bool Tcp::tw_input(TimeWait& w, Segment& s) {
  if (s.has(fl::rst)) return true;  // RFC 1337: TIME-WAIT ignores resets
  const auto& ts = s.v.options().timestamps;
  if (s.has(fl::syn) && !s.has(fl::ack)) {
    // RFC 6191 §2: a newer timestamp, or (without timestamps) a sequence number above RCV.NXT.
    bool newer = (w.ts_ok && ts) ? static_cast<int32_t>(ts->tsval - w.ts_recent) > 0 : s.seq > w.rcv_nxt;
    if (newer) {
      ++stats_.time_wait_reused;
      tw_remove(&w);
      return false;
    }
  }
  wire::TcpOptions o;
  if (w.ts_ok) o.timestamps = wire::TcpTimestamps{ts_now() + w.ts_offset, w.ts_recent};
  if (s.has(fl::fin) && s.seq + s.seg_len() == w.rcv_nxt) {
    // RFC 9293 §3.10.7.4 step 8: a retransmitted FIN is acknowledged and restarts the 2 MSL timeout.
    send_raw(w.t, w.snd_nxt, w.rcv_nxt, fl::ack, w.window, o);
    w.expiry_ns = now_ + 2 * p_.msl_ns;
    tw_unlink_fifo(&w);
    tw_link_newest(&w);
    return true;
  }
  if (s.seg_len() > 0)
    send_raw(w.t, w.snd_nxt, w.rcv_nxt, fl::ack, w.window, o);  // RFC 9293: not acceptable: ACK
  return true;
}

}  // namespace tern::tcp
