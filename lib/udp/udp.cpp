/**
 * @file
 * UDP input (from Ipv4::deliver) and output (to Ipv4::output).
 */
#include "tern/udp/udp.hpp"

#include <algorithm>

#include "tern/base/byteorder.hpp"
#include "tern/wire/ipv4.hpp"
#include "tern/wire/udp.hpp"

namespace tern::udp {

std::string_view to_string(UdpDrop d) noexcept {
  switch (d) {
    case UdpDrop::truncated:
      return "truncated";
    case UdpDrop::bad_length:
      return "bad_length";
    case UdpDrop::bad_checksum:
      return "bad_checksum";
    case UdpDrop::no_socket:
      return "no_socket";
    case UdpDrop::queue_full:
      return "queue_full";
    case UdpDrop::icmp_no_socket:
      return "icmp_no_socket";
    case UdpDrop::count_:
      break;
  }
  return "unknown";
}

// --- Socket ------------------------------------------------------------------

Socket::Socket(Udp& udp, uint16_t port, uint32_t capacity)
    : udp_(udp), port_(port), ring_(std::max(capacity, 1u)) {}

bool Socket::enqueue(Datagram&& d) noexcept {
  if (qlen_ == ring_.size()) {
    ++rx_dropped_;
    return false;
  }
  ring_[(head_ + qlen_) % ring_.size()] = std::move(d);
  ++qlen_;
  return true;
}

bool Socket::recv(Datagram& out) noexcept {
  if (qlen_ == 0) return false;
  out = std::move(ring_[head_]);
  head_ = static_cast<uint32_t>((head_ + 1) % ring_.size());
  --qlen_;
  return true;
}

Result<size_t> Socket::recv_copy(std::span<uint8_t> out, Endpoint* from) noexcept {
  Datagram d;
  if (!recv(d)) return make_error(Errc::would_block, "no datagram queued");
  size_t len = d.payload.length();
  d.payload.copy_out(0, out.first(std::min(out.size(), len)));
  if (from != nullptr) *from = d.from;
  return len;
}

Status Socket::send(const Endpoint& to, Packet payload, wire::Ipv4Addr src) noexcept {
  return udp_.output(port_, to, std::move(payload), src);
}

Status Socket::send_copy(const Endpoint& to, std::span<const uint8_t> data) noexcept {
  Packet p = Packet::copy_from(udp_.ip_.pool(), data);
  if (!p) return make_error(Errc::no_memory, "mbuf pool exhausted");
  return send(to, std::move(p));
}

// --- Udp ---------------------------------------------------------------------

Udp::Udp(const UdpParams& params, l3::Ipv4& ip) : p_(params), ip_(ip) {
  ready_.reserve(1024);
  dispatching_.reserve(1024);
  ip_.set_handler(wire::ip_proto::udp, this);
}

Udp::~Udp() { ip_.set_handler(wire::ip_proto::udp, nullptr); }

Result<Socket*> Udp::bind(uint16_t port) {
  if (port == 0) {
    for (uint32_t tries = 0; tries < 16384; ++tries) {
      uint16_t cand = next_ephemeral_;
      next_ephemeral_ = next_ephemeral_ == 65535 ? 49152 : static_cast<uint16_t>(next_ephemeral_ + 1);
      if (by_port_.get(cand) == nullptr) {
        port = cand;
        break;
      }
    }
    if (port == 0) return make_error(Errc::no_memory, "no free ephemeral UDP port");
  }
  if (by_port_.get(port) != nullptr) return make_error(Errc::exists, "UDP port already bound");
  Socket* raw = nullptr;
  if (!free_.empty()) {  // reuse a closed socket's object (and its ring): the generation moves on
    raw = free_.back();
    free_.pop_back();
    raw->port_ = port;
    raw->head_ = raw->qlen_ = 0;
    raw->rx_dropped_ = 0;
    raw->pending_event_ = false;
    raw->error_.reset();
    raw->user = nullptr;
  } else {
    all_.push_back(std::unique_ptr<Socket>(new Socket(*this, port, p_.rx_queue_len)));
    raw = all_.back().get();
  }
  raw->open_ = true;
  ++open_;
  by_port_.set(port, raw);
  return raw;
}

Status Socket::set_hook(EventHook* hook) noexcept {
  if (hook != nullptr && hook_ != nullptr) return make_error(Errc::exists, "socket already watched");
  hook_ = hook;
  return {};
}

void Udp::close(Socket* s) {
  if (s == nullptr || !s->open_) return;
  by_port_.set(s->port(), nullptr);
  ready_.erase(std::remove(ready_.begin(), ready_.end(), s), ready_.end());
  std::replace(dispatching_.begin(), dispatching_.end(), s, static_cast<Socket*>(nullptr));
  // Free the queued datagrams; keep the object (and its ring) for the next bind(). A callback of
  // this socket that is running now may still read its (empty) fields safely.
  while (s->qlen_ > 0) {
    s->ring_[s->head_] = Datagram{};
    s->head_ = static_cast<uint32_t>((s->head_ + 1) % s->ring_.size());
    --s->qlen_;
  }
  s->open_ = false;
  // A callback closing its own socket is running now: destroy it after dispatch_events().
  if (in_dispatch_) {
    dead_callbacks_.push_back(std::move(s->cb_));
  }
  s->cb_ = nullptr;
  ++s->gen_;
  if (EventHook* h = std::exchange(s->hook_, nullptr)) h->closed(*h);
  --open_;
  free_.push_back(s);
}

void Udp::dispatch_events() {
  // Callbacks may close sockets (close() nulls them here) or make sockets
  // ready again (they go to ready_ for the next turn): work on a snapshot.
  std::swap(ready_, dispatching_);
  in_dispatch_ = true;
  for (size_t i = 0; i < dispatching_.size(); ++i) {
    Socket* s = dispatching_[i];
    if (s == nullptr) continue;
    s->pending_event_ = false;
    if (s->hook_ != nullptr) s->hook_->events(*s->hook_, ev::readable);
    if (dispatching_[i] == nullptr) continue;  // the hook closed it
    if (s->cb_) s->cb_(*s);
  }
  dispatching_.clear();
  in_dispatch_ = false;
  dead_callbacks_.clear();
}

l3::L4Verdict Udp::input(Packet& dgram, const l3::Ipv4Meta& meta, uint64_t now) {
  now_ = now;
  uint8_t scratch[wire::kUdpHeaderLen];
  const uint8_t* h = dgram.read(0, wire::kUdpHeaderLen, scratch);
  if (h == nullptr) {
    stats_.drop(UdpDrop::truncated);
    return l3::L4Verdict::consumed;
  }
  const uint16_t sport = load_be16(h);
  const uint16_t dport = load_be16(h + 2);
  const uint16_t len = load_be16(h + 4);
  const uint16_t csum = load_be16(h + 6);
  if (len < wire::kUdpHeaderLen || len > dgram.length()) {  // RFC 768 "Length"
    stats_.drop(UdpDrop::bad_length);
    return l3::L4Verdict::consumed;
  }
  dgram.truncate(len);
  // RFC 768: an all-zero checksum means the sender computed none.
  if (csum != 0 && !meta.l4_csum_good && !l3::l4_checksum_ok(dgram, meta, ip_.csum())) {
    stats_.drop(UdpDrop::bad_checksum);
    return l3::L4Verdict::consumed;
  }
  Socket* s = by_port_.get(dport);
  if (s == nullptr) {
    stats_.drop(UdpDrop::no_socket);
    // RFC 1122 §4.1.3.1: SHOULD send port unreachable, but not for broadcasts.
    return meta.broadcast ? l3::L4Verdict::consumed : l3::L4Verdict::port_unreachable;
  }
  ++stats_.rx_datagrams;
  stats_.rx_bytes += len - wire::kUdpHeaderLen;
  dgram.trim_front(wire::kUdpHeaderLen);
  Datagram d{std::move(dgram), Endpoint{meta.src, sport}, Endpoint{meta.dst, dport}, meta.broadcast};
  if (!s->enqueue(std::move(d))) {
    stats_.drop(UdpDrop::queue_full);
    return l3::L4Verdict::consumed;
  }
  if (!s->pending_event_) {
    s->pending_event_ = true;
    ready_.push_back(s);
  }
  return l3::L4Verdict::consumed;
}

// UDP has no sequence numbers: all it can check is that the quoted datagram
// left from a bound port (Icmp checked the source address is ours, and that a
// frag-needed quotes a DF datagram, which tern's UDP never sends). So an ICMP
// error is only reported (take_error()); it changes no state and never the
// path MTU (only TCP, which can check it, lowers that: RFC 5927 §4.1, §7.2).
void Udp::icmp_error(const l3::IcmpError& err, uint64_t) {
  uint16_t sport = load_be16(err.quoted_l4.data());
  uint16_t dport = load_be16(err.quoted_l4.data() + 2);
  Socket* s = by_port_.get(sport);
  if (s == nullptr) {
    stats_.drop(UdpDrop::icmp_no_socket);
    return;
  }
  ++stats_.icmp_errors;
  s->error_ = SocketError{err.type, err.code, Endpoint{err.dst, dport}};
  if (!s->pending_event_) {
    s->pending_event_ = true;
    ready_.push_back(s);
  }
}

Status Udp::output(uint16_t src_port, const Endpoint& to, Packet payload, wire::Ipv4Addr src) noexcept {
  if (to.port == 0) {
    ++stats_.tx_errors;
    return make_error(Errc::invalid_argument, "destination port 0");
  }
  const uint32_t len = payload.length() + wire::kUdpHeaderLen;
  if (len > 65535 - wire::kIpv4MinHeaderLen) {
    ++stats_.tx_errors;
    return make_error(Errc::bad_length, "UDP payload above 65507 bytes");
  }
  auto path = ip_.path(to.addr);
  if (!path) {
    ++stats_.tx_errors;
    return path.error();
  }
  if (src.is_unspecified()) {
    src = path->src;
  } else if (!ip_.is_local(src)) {
    ++stats_.tx_errors;
    return make_error(Errc::invalid_argument, "source address is not one of ours");
  }
  payload.clear_offloads();
  uint8_t* h = payload.push_header(wire::kUdpHeaderLen, ip_.pool());
  if (h == nullptr) {
    ++stats_.tx_errors;
    return make_error(Errc::no_memory, "no mbuf for the UDP header");
  }
  store_be16(h, src_port);
  store_be16(h + 2, to.port);
  store_be16(h + 4, static_cast<uint16_t>(len));
  // Offloaded even when the datagram will be fragmented: Ipv4::fragment() completes it then.
  l3::fill_l4_checksum(payload, 6, src, to.addr, wire::ip_proto::udp,
                       l3::l4_csum_tx(*path->iface, wire::ip_proto::udp),
                       static_cast<uint8_t>(wire::kUdpHeaderLen), ip_.csum());
  l3::OutputParams out;
  out.src = src;
  out.dst = to.addr;
  out.proto = wire::ip_proto::udp;
  Status st = ip_.output(std::move(payload), out, *path, now_);
  if (!st) {
    ++stats_.tx_errors;
    return st;
  }
  ++stats_.tx_datagrams;
  stats_.tx_bytes += len - wire::kUdpHeaderLen;
  return {};
}

}  // namespace tern::udp
