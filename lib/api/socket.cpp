/**
 * @file
 * Socket handles (tern/api/socket.hpp): a generation check, then the engine's call. Data arrives
 * here from the application and goes to tcp::Connection / udp::Socket unchanged (no copy beyond
 * what the copying overloads say).
 */
#include "tern/api/socket.hpp"

#include "tern/tcp/tcp.hpp"
#include "tern/udp/udp.hpp"

namespace tern {

namespace {

Error stale() { return make_error(Errc::bad_handle, "the socket was closed (stale handle)"); }

Error udp_error(const udp::SocketError& e) {
  // RFC 1122 §4.1.3.3: ICMP errors reach the application; map them as Linux maps them to errno.
  if (e.icmp_type == 3 && e.icmp_code == 3)
    return make_error(Errc::connection_refused, "ICMP port unreachable");
  if (e.icmp_type == 3) return make_error(Errc::host_unreachable, "ICMP destination unreachable");
  return make_error(Errc::host_unreachable, "ICMP error");
}

}  // namespace

// ---- TcpConnection ----

TcpConnection::TcpConnection(tcp::Connection* c) noexcept : c_(c), gen_(c != nullptr ? c->generation() : 0) {}

bool TcpConnection::valid() const noexcept {
  return c_ != nullptr && c_->generation() == gen_ && c_->owned();
}

Result<size_t> TcpConnection::send(Packet& data, uint32_t flags) const noexcept {
  tcp::Connection* c = live();
  if (c == nullptr) return stale();
  return c->send(data, flags);
}

Result<size_t> TcpConnection::send(std::span<const uint8_t> data, uint32_t flags) const noexcept {
  tcp::Connection* c = live();
  if (c == nullptr) return stale();
  if (data.empty()) return size_t{0};
  auto r = c->send_copy(data, flags);
  if (r && *r == 0) return make_error(Errc::would_block, "send buffer full");
  return r;
}

Result<size_t> TcpConnection::recv(Packet& out, uint32_t max) const noexcept {
  tcp::Connection* c = live();
  if (c == nullptr) return stale();
  if (c->recv(out, max)) return size_t{out.length()};
  if (c->at_eof()) return size_t{0};
  if (auto e = c->error()) return *e;
  return make_error(Errc::would_block, "nothing received yet");
}

Result<size_t> TcpConnection::recv(std::span<uint8_t> out) const noexcept {
  tcp::Connection* c = live();
  if (c == nullptr) return stale();
  auto r = c->recv_copy(out);
  if (!r && r.error().code == Errc::not_connected) {
    if (auto e = c->error()) return *e;
  }
  return r;
}

uint32_t TcpConnection::readable() const noexcept {
  tcp::Connection* c = live();
  return c != nullptr ? c->readable() : 0;
}

uint32_t TcpConnection::send_space() const noexcept {
  tcp::Connection* c = live();
  return c != nullptr ? c->send_space() : 0;
}

Status TcpConnection::shutdown() const noexcept {
  tcp::Connection* c = live();
  if (c == nullptr) return stale();
  return c->shutdown();
}

Status TcpConnection::close() const noexcept {
  tcp::Connection* c = live();
  if (c == nullptr) return stale();
  c->close();
  return {};
}

Status TcpConnection::abort() const noexcept {
  tcp::Connection* c = live();
  if (c == nullptr) return stale();
  c->abort();
  return {};
}

Result<Endpoint> TcpConnection::local() const noexcept {
  tcp::Connection* c = live();
  if (c == nullptr) return stale();
  return c->local();
}

Result<Endpoint> TcpConnection::remote() const noexcept {
  tcp::Connection* c = live();
  if (c == nullptr) return stale();
  return c->remote();
}

tcp::State TcpConnection::state() const noexcept {
  tcp::Connection* c = live();
  return c != nullptr ? c->state() : tcp::State::closed;
}

std::optional<Error> TcpConnection::error() const noexcept {
  tcp::Connection* c = live();
  if (c == nullptr) return stale();
  return c->error();
}

std::optional<Error> TcpConnection::soft_error() const noexcept {
  tcp::Connection* c = live();
  if (c == nullptr) return std::nullopt;
  return c->soft_error();
}

bool TcpConnection::peer_closed() const noexcept {
  tcp::Connection* c = live();
  return c != nullptr && c->fin_received();
}

Result<tcp::TcpInfo> TcpConnection::info() const noexcept {
  tcp::Connection* c = live();
  if (c == nullptr) return stale();
  return c->info();
}

Result<tcp::SocketOptions> TcpConnection::options() const noexcept {
  tcp::Connection* c = live();
  if (c == nullptr) return stale();
  return c->options();
}

#define TERN_SET(call)              \
  tcp::Connection* c = live();      \
  if (c == nullptr) return stale(); \
  call;                             \
  return {}

Status TcpConnection::set_nodelay(bool on) const noexcept { TERN_SET(c->set_nodelay(on)); }
Status TcpConnection::set_keepalive(const tcp::KeepaliveOptions& k) const noexcept {
  TERN_SET(c->set_keepalive(k));
}
Status TcpConnection::set_send_lowat(uint32_t bytes) const noexcept { TERN_SET(c->set_send_lowat(bytes)); }
Status TcpConnection::set_linger(std::optional<uint64_t> ns) const noexcept { TERN_SET(c->set_linger(ns)); }
Status TcpConnection::set_user_timeout(uint64_t ns) const noexcept { TERN_SET(c->set_user_timeout(ns)); }
Status TcpConnection::set_notsent_lowat(uint32_t bytes) const noexcept {
  TERN_SET(c->set_notsent_lowat(bytes));
}
Status TcpConnection::set_cork(bool on) const noexcept { TERN_SET(c->set_cork(on)); }
Status TcpConnection::set_congestion(tcp::CcAlgo a) const noexcept { TERN_SET(c->set_congestion(a)); }
#undef TERN_SET

Status TcpConnection::set_send_buffer(uint32_t bytes) const noexcept {
  tcp::Connection* c = live();
  if (c == nullptr) return stale();
  return c->set_send_buffer(bytes);
}

Status TcpConnection::set_recv_buffer(uint32_t bytes) const noexcept {
  tcp::Connection* c = live();
  if (c == nullptr) return stale();
  return c->set_recv_buffer(bytes);
}

Status TcpConnection::set_max_segment(uint16_t mss) const noexcept {
  tcp::Connection* c = live();
  if (c == nullptr) return stale();
  return c->set_max_segment(mss);
}

void* TcpConnection::user() const noexcept {
  tcp::Connection* c = live();
  return c != nullptr ? c->user : nullptr;
}

void TcpConnection::set_user(void* p) const noexcept {
  if (tcp::Connection* c = live()) c->user = p;
}

// ---- TcpListener ----

TcpListener::TcpListener(tcp::Listener* l) noexcept : l_(l), gen_(l != nullptr ? l->generation() : 0) {}

bool TcpListener::valid() const noexcept { return l_ != nullptr && l_->generation() == gen_; }

Result<TcpConnection> TcpListener::accept() const noexcept {
  if (!valid()) return stale();
  tcp::Connection* c = l_->accept();
  if (c == nullptr) return make_error(Errc::would_block, "no connection waiting");
  return TcpConnection(c);
}

uint32_t TcpListener::pending() const noexcept { return valid() ? l_->pending() : 0; }
uint16_t TcpListener::port() const noexcept { return valid() ? l_->port() : 0; }

Status TcpListener::close() const noexcept {
  if (!valid()) return stale();
  l_->close();
  return {};
}

void* TcpListener::user() const noexcept { return valid() ? l_->user : nullptr; }
void TcpListener::set_user(void* p) const noexcept {
  if (valid()) l_->user = p;
}

// ---- UdpSocket ----

UdpSocket::UdpSocket(udp::Socket* s) noexcept : s_(s), gen_(s != nullptr ? s->generation() : 0) {}

bool UdpSocket::valid() const noexcept { return s_ != nullptr && s_->generation() == gen_; }

Result<size_t> UdpSocket::recv(Packet& out, Endpoint* from, Endpoint* to) const noexcept {
  if (!valid()) return stale();
  udp::Datagram d;
  if (!s_->recv(d)) return make_error(Errc::would_block, "no datagram queued");
  if (from != nullptr) *from = d.from;
  if (to != nullptr) *to = d.to;
  out = std::move(d.payload);
  return size_t{out ? out.length() : 0u};
}

Result<size_t> UdpSocket::recv(std::span<uint8_t> out, Endpoint* from) const noexcept {
  if (!valid()) return stale();
  return s_->recv_copy(out, from);
}

Result<size_t> UdpSocket::send(Packet& data, const Endpoint& to, wire::Ipv4Addr src) const noexcept {
  if (!valid()) return stale();
  if (to.port == 0) return make_error(Errc::invalid_argument, "send to port 0");
  const size_t len = data ? data.length() : 0;
  Status st = s_->send(to, std::move(data), src);
  if (!st) return st.error();
  return len;
}

Result<size_t> UdpSocket::send(std::span<const uint8_t> data, const Endpoint& to) const noexcept {
  if (!valid()) return stale();
  Status st = s_->send_copy(to, data);
  if (!st) return st.error();
  return data.size();
}

size_t UdpSocket::queued() const noexcept { return valid() ? s_->queued() : 0; }

std::optional<Error> UdpSocket::take_error() const noexcept {
  if (!valid()) return stale();
  auto e = s_->take_error();
  if (!e) return std::nullopt;
  return udp_error(*e);
}

uint16_t UdpSocket::port() const noexcept { return valid() ? s_->port() : 0; }

Status UdpSocket::close() const noexcept {
  if (!valid()) return stale();
  s_->udp().close(s_);
  return {};
}

void* UdpSocket::user() const noexcept { return valid() ? s_->user : nullptr; }
void UdpSocket::set_user(void* p) const noexcept {
  if (valid()) s_->user = p;
}

}  // namespace tern
