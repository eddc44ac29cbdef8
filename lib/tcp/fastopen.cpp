/**
 * @file
 * TCP Fast Open (RFC 7413) for one core. Server: a SYN from Tcp::input_listen()
 * carrying a cookie that checks (SipHash-2-4 of the client and server
 * addresses under a key that rotates, RFC 7413 §4.1.2) opens a connection
 * whose SYN data is queued for the application and which is ready in
 * accept() at once; a cookie request (or a bad cookie) gets a cookie in the
 * SYN-ACK. Client: connect() with ConnectOptions::fastopen defers the SYN to
 * the next flush, which carries the application's first data when a cookie
 * for the server is cached (Tcp::send_syn), or asks for one; the SYN-ACK
 * (Tcp::input_syn_sent → tfo_synack) stores the cookie and says whether the
 * data was taken.
 */
#include <algorithm>
#include <cstring>

#include "tern/tcp/tcp.hpp"
#include "tern/tcp/tcp_internal.hpp"

namespace tern::tcp {

using wire::SeqNum;
namespace fl = wire::tcp_flag;

namespace {
constexpr uint8_t kCookieLen = 8;
}  // namespace

void Tcp::tfo_rotate() {
  // RFC 7413 §4.1.2: the server may change its secret; the previous key stays valid one period.
  if (tfo_key_at_ != 0 && now_ - tfo_key_at_ < p_.fastopen_key_rotate_ns) return;
  tfo_keys_[1] = tfo_key_at_ == 0 ? random_key("TCP Fast Open") : tfo_keys_[0];
  tfo_keys_[0] = random_key("TCP Fast Open");
  tfo_key_at_ = std::max<uint64_t>(now_, 1);
}

// RFC 7413 §4.1.2: the cookie is a MAC of the client's address (and ours) under the server key.
wire::FastOpenCookie Tcp::tfo_cookie(uint32_t remote_ip, uint32_t local_ip, int key) {
  tfo_rotate();
  uint8_t msg[8];
  std::memcpy(msg, &remote_ip, 4);
  std::memcpy(msg + 4, &local_ip, 4);
  const uint64_t mac = siphash24(tfo_keys_[static_cast<size_t>(key)], std::span<const uint8_t>(msg, 8));
  wire::FastOpenCookie c;
  c.len = kCookieLen;
  std::memcpy(c.bytes.data(), &mac, kCookieLen);
  return c;
}

bool Tcp::tfo_cookie_ok(const wire::FastOpenCookie& c, uint32_t remote_ip, uint32_t local_ip) {
  if (c.len != kCookieLen) return false;
  return c == tfo_cookie(remote_ip, local_ip, 0) || c == tfo_cookie(remote_ip, local_ip, 1);
}

// The client's cookie cache: direct-mapped by a keyed hash of the server address, bounded.
Tcp::TfoCacheEntry* Tcp::tfo_cache(uint32_t ip, bool create) {
  if (tfo_cache_.empty()) {
    if (!create || p_.fastopen_cache == 0) return nullptr;
    tfo_cache_.resize(p_.fastopen_cache);
  }
  FourTuple t;
  t.remote_ip = ip;
  TfoCacheEntry& e = tfo_cache_[isn_.hash(t, 6) % tfo_cache_.size()];
  if (e.ip == ip) return &e;
  if (!create) return nullptr;
  e = TfoCacheEntry{};
  e.ip = ip;
  return &e;
}

// Server side of a SYN (RFC 7413 §4.2.1), after the child was made and the options negotiated.
void Tcp::tfo_listen(Listener& l, Connection& c, Segment& s) {
  const auto& f = s.v.options().fastopen;
  if (l.tfo_qlen_ == 0 || !f) return;
  if (f->len == 0 || !tfo_cookie_ok(*f, s.t.remote_ip, s.t.local_ip)) {
    // A request, or a cookie that does not check (old key, other address, forged): the data, if
    // any, is ignored (RFC 7413 §4.2.2 MUST) and the SYN-ACK carries a fresh cookie.
    if (f->len != 0) ++stats_.tfo_bad_cookie;
    c.tfo_ |= kTfoCookieOut;
    return;
  }
  if (l.tfo_pending_ >= l.tfo_qlen_) {
    // RFC 7413 §5.1: a bounded number of pending Fast Open connections; beyond it, a normal
    // handshake (the client sends its data again after it).
    ++stats_.tfo_overflow;
    return;
  }
  ++stats_.tfo_accepted;
  ++l.tfo_pending_;
  c.tfo_ |= kTfoChild;
  if (s.len > 0) {
    s.pkt.trim_front(s.data_off);
    s.pkt.truncate(s.len);
    Packet data = std::move(s.pkt);
    // The SYN's data is taken only whole and within the buffers (else it is resent after the
    // handshake, as for a refused cookie).
    if (data.length() <= c.opt_.recv_buffer && rcv_room(c, data.truesize(), s.seq + 1)) {
      queue_in_order(c, std::move(data), false);
    } else {
      stats_.drop(TcpDrop::no_rcv_memory);
    }
  }
}

// The Fast Open option of a SYN or SYN-ACK we send (RFC 7413 §4.1.1).
void Tcp::tfo_syn_options(Connection& c, uint8_t flags, wire::TcpOptions& o) {
  if (!(flags & fl::syn) || c.tfo_ == 0) return;
  if (flags & fl::ack) {
    if (c.tfo_ & kTfoCookieOut) {
      o.fastopen = tfo_cookie(c.t_.remote_ip, c.t_.local_ip, 0);
      ++stats_.tfo_cookies_sent;
    }
    return;
  }
  if (!(c.tfo_ & kTfoClient) || c.retries_ != 0) return;  // a retransmitted SYN goes plain (§4.2.2)
  const TfoCacheEntry* e = tfo_cache(c.t_.remote_ip, false);
  if (e != nullptr && e->cookie.len != 0) {
    o.fastopen = e->cookie;
  } else {
    o.fastopen = wire::FastOpenCookie{};  // a cookie request
    ++stats_.tfo_cookie_requests;
  }
}

// How much of the send queue the first SYN carries (RFC 7413 §4.2.1): with a cookie, up to the
// server's cached MSS (536 when unknown) less the option space, and not while blackholed.
uint32_t Tcp::tfo_syn_data(Connection& c) {
  if (!(c.tfo_ & kTfoClient) || c.retries_ != 0 || c.sndq_.empty()) return 0;
  const TfoCacheEntry* e = tfo_cache(c.t_.remote_ip, false);
  if (e == nullptr || e->cookie.len == 0 || now_ < e->blocked_until_ns) return 0;
  const uint32_t mss = std::min<uint32_t>(e->mss != 0 ? e->mss : 536, c.mss_);
  const uint32_t room = mss > wire::kTcpMaxOptionsLen ? mss - wire::kTcpMaxOptionsLen : 0;
  return std::min(room, c.sndq_.bytes());
}

// A SYN-ACK to our Fast Open SYN (RFC 7413 §4.2.2): keep the cookie and the server's MSS; data the
// SYN carried and the server did not acknowledge goes again after the handshake.
void Tcp::tfo_synack(Connection& c, const Segment& s) {
  if (!(c.tfo_ & kTfoClient)) return;
  const wire::TcpOptions& o = s.v.options();
  if (o.fastopen && o.fastopen->len != 0) {
    if (TfoCacheEntry* e = tfo_cache(c.t_.remote_ip, true)) {
      e->cookie = *o.fastopen;
      e->mss = o.mss.value_or(536);
    }
  }
  if (!(c.tfo_ & kTfoSynData)) return;
  if (s.ack == c.snd_max_) {
    ++stats_.tfo_data_acked;
    return;
  }
  if (c.retries_ == 0) ++stats_.tfo_fallbacks;  // (a lost SYN with data was counted at its timeout)
  c.snd_nxt_ = s.ack;                           // resend what the SYN carried
}

// A Fast Open child reached ESTABLISHED or went away: it no longer counts against the listener.
void Tcp::tfo_child_done(Connection& c) {
  if (!(c.tfo_ & kTfoChild)) return;
  c.tfo_ = static_cast<uint8_t>(c.tfo_ & ~kTfoChild);
  if (Listener* l = listener_for(c.t_.local_port); l != nullptr && l->tfo_pending_ > 0) --l->tfo_pending_;
}

}  // namespace tern::tcp
