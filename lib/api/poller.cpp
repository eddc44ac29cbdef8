/**
 * @file
 * Poller: readiness events from TCP and UDP sockets, collected through the
 * sockets' callbacks (run by Core::poll()) and handed out by wait().
 */
#include "tern/api/poller.hpp"

#include <algorithm>

namespace tern::api {

namespace {

// Give the socket its own callback slot back (empty).
void detach(Kind kind, void* socket) {
  switch (kind) {
    case Kind::tcp_connection:
      static_cast<tcp::Connection*>(socket)->on_event(nullptr);
      break;
    case Kind::tcp_listener:
      static_cast<tcp::Listener*>(socket)->on_event(nullptr);
      break;
    case Kind::udp_socket:
      static_cast<udp::Socket*>(socket)->on_readable(nullptr);
      break;
  }
}

}  // namespace

Poller::~Poller() {
  for (Reg& r : regs_) detach(r.kind, r.socket);
}

Poller::Reg* Poller::find(void* s) noexcept {
  for (Reg& r : regs_) {
    if (r.socket == s) return &r;
  }
  return nullptr;
}

void Poller::raise(void* s, uint32_t events) {
  Reg* r = find(s);
  if (r == nullptr) return;
  uint32_t e = events & (r->interest | ev::error);  // errors are always reported, as epoll does
  if (e == 0) return;
  r->pending |= e;
  if (!r->queued) {
    r->queued = true;
    ready_.push_back(s);
  }
}

Status Poller::add(tcp::Connection* c, uint32_t interest, uint64_t cookie) {
  if (find(c) != nullptr) return make_error(Errc::exists, "connection already registered");
  regs_.push_back(Reg{Kind::tcp_connection, c, interest, 0, cookie, false});
  c->on_event([this](tcp::Connection& conn, uint32_t e) { raise(&conn, e); });
  uint32_t now = 0;
  if (c->readable() > 0 || c->at_eof()) now |= ev::readable;
  if (c->error()) now |= ev::error;
  if (now != 0) raise(c, now);
  return {};
}

Status Poller::add(tcp::Listener* l, uint64_t cookie) {
  if (find(l) != nullptr) return make_error(Errc::exists, "listener already registered");
  regs_.push_back(Reg{Kind::tcp_listener, l, ev::accept, 0, cookie, false});
  l->on_event([this](tcp::Listener& lis, uint32_t e) { raise(&lis, e); });
  if (l->pending() > 0) raise(l, ev::accept);
  return {};
}

Status Poller::add(udp::Socket* s, uint64_t cookie) {
  if (find(s) != nullptr) return make_error(Errc::exists, "socket already registered");
  regs_.push_back(Reg{Kind::udp_socket, s, ev::readable, 0, cookie, false});
  s->on_readable([this](udp::Socket& sock) { raise(&sock, ev::readable); });
  if (s->queued() > 0) raise(s, ev::readable);
  return {};
}

Status Poller::modify(tcp::Connection* c, uint32_t interest) {
  Reg* r = find(c);
  if (r == nullptr) return make_error(Errc::not_found, "connection not registered");
  r->interest = interest;
  return {};
}

Status Poller::remove(void* s) {
  auto it = std::find_if(regs_.begin(), regs_.end(), [s](const Reg& r) { return r.socket == s; });
  if (it == regs_.end()) return make_error(Errc::not_found, "socket not registered");
  detach(it->kind, s);
  regs_.erase(it);
  std::erase(ready_, s);
  return {};
}

size_t Poller::wait(std::span<Event> out) {
  size_t n = 0;
  size_t i = 0;
  for (; i < ready_.size() && n < out.size(); ++i) {
    Reg* r = find(ready_[i]);
    if (r == nullptr) continue;
    out[n++] = Event{r->kind, r->pending, r->cookie, r->socket};
    r->pending = 0;
    r->queued = false;
  }
  ready_.erase(ready_.begin(), ready_.begin() + static_cast<std::ptrdiff_t>(i));
  return n;
}

Result<size_t> write_some(tcp::Connection& c, std::span<const uint8_t> data) {
  if (data.empty()) return size_t{0};
  auto r = c.send_copy(data);
  if (!r && r.error().code == Errc::would_block) return size_t{0};
  return r;
}

Result<size_t> read_some(tcp::Connection& c, std::span<uint8_t> out, bool* eof) {
  size_t done = 0;
  if (eof != nullptr) *eof = false;
  while (done < out.size()) {
    auto r = c.recv_copy(out.subspan(done));
    if (!r) {
      if (r.error().code == Errc::would_block) break;
      if (done > 0) break;
      return r;
    }
    if (*r == 0) {
      if (eof != nullptr) *eof = true;
      break;
    }
    done += *r;
  }
  return done;
}

}  // namespace tern::api
