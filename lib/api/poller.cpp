/**
 * @file
 * Poller: readiness from TCP and UDP sockets through their EventHook (called by the engine from
 * Core::poll() after input), queued on an intrusive ready list and handed out by wait().
 */
#include "tern/api/poller.hpp"

#include "tern/tcp/tcp.hpp"
#include "tern/udp/udp.hpp"

namespace tern {

namespace {

Error stale() { return make_error(Errc::bad_handle, "the socket was closed (stale handle)"); }

// The socket's current hook, or null when the handle is stale.
EventHook* hook_of(const SocketRef& s, bool* stale_handle) noexcept {
  *stale_handle = false;
  return std::visit(
      [&](const auto& h) -> EventHook* {
        auto* obj = h.get();
        if (obj == nullptr) {
          *stale_handle = true;
          return nullptr;
        }
        return obj->hook();
      },
      s);
}

Status set_hook(const SocketRef& s, EventHook* hook) noexcept {
  return std::visit(
      [&](const auto& h) -> Status {
        auto* obj = h.get();
        if (obj == nullptr) return stale();
        return obj->set_hook(hook);
      },
      s);
}

}  // namespace

Poller::~Poller() {
  for (auto& r : regs_) {
    if (r->poller != nullptr) (void)set_hook(r->socket, nullptr);
  }
}

uint32_t Poller::readiness(const SocketRef& s) noexcept {
  if (const auto* h = std::get_if<TcpConnection>(&s)) {
    const tcp::Connection* c = h->get();
    if (c == nullptr) return 0;
    uint32_t e = 0;
    if (c->readable() > 0 || c->at_eof()) e |= ev::readable;
    if (c->fin_received()) e |= ev::peer_closed;
    if (c->error()) e |= ev::error | ev::readable;
    const tcp::State st = c->state();
    if ((st == tcp::State::established || st == tcp::State::close_wait) && c->writable_now())
      e |= ev::writable;
    return e;
  }
  if (const auto* h = std::get_if<TcpListener>(&s)) {
    const tcp::Listener* l = h->get();
    return l != nullptr && l->pending() > 0 ? ev::accept : 0;
  }
  const udp::Socket* u = std::get<UdpSocket>(s).get();
  return u != nullptr && (u->queued() > 0 || u->has_error()) ? ev::readable : 0;
}

void Poller::link(Reg& r, uint8_t list) {
  Reg*& head = list == 1 ? ready_head_ : recheck_head_;
  Reg*& tail = list == 1 ? ready_tail_ : recheck_tail_;
  r.list = list;
  r.next = nullptr;
  r.prev = tail;
  if (tail != nullptr) {
    tail->next = &r;
  } else {
    head = &r;
  }
  tail = &r;
}

void Poller::unlink(Reg& r) {
  if (r.list == 0) return;
  Reg*& head = r.list == 1 ? ready_head_ : recheck_head_;
  Reg*& tail = r.list == 1 ? ready_tail_ : recheck_tail_;
  (r.prev != nullptr ? r.prev->next : head) = r.next;
  (r.next != nullptr ? r.next->prev : tail) = r.prev;
  r.prev = r.next = nullptr;
  r.list = 0;
}

void Poller::raise(Reg& r, uint32_t events) {
  ++stats_.raised;
  // A completed connect is also the first moment a connection can take data (EPOLLOUT).
  if ((events & ev::connected) != 0) events |= ev::writable;
  const uint32_t e = events & (r.interest | ev::error);  // errors always, as epoll
  if (e == 0) return;
  r.pending |= e;
  if (r.list == 2) unlink(r);  // a level re-check becomes a plain ready entry
  if (r.list == 0) link(r, 1);
}

void Poller::on_events(EventHook& h, uint32_t events) {
  Reg& r = static_cast<Reg&>(h);
  r.poller->raise(r, events);
}

void Poller::on_closed(EventHook& h) {
  Reg& r = static_cast<Reg&>(h);
  r.poller->drop(r);
}

void Poller::drop(Reg& r) {
  unlink(r);
  r.poller = nullptr;
  r.pending = 0;
  r.socket = SocketRef{};
  free_.push_back(&r);
  --live_;
}

Status Poller::attach(const SocketRef& s, uint32_t interest, uint64_t data, Trigger t) {
  bool stale_handle = false;
  if (hook_of(s, &stale_handle) != nullptr) return make_error(Errc::exists, "socket already watched");
  if (stale_handle) return stale();
  Reg* r;
  if (!free_.empty()) {
    r = free_.back();
    free_.pop_back();
  } else {
    regs_.push_back(std::make_unique<Reg>());
    r = regs_.back().get();
    r->events = &Poller::on_events;
    r->closed = &Poller::on_closed;
  }
  r->poller = this;
  r->socket = s;
  r->data = data;
  r->interest = interest;
  r->trigger = t;
  r->pending = 0;
  if (Status st = set_hook(s, r); !st) {
    r->poller = nullptr;
    free_.push_back(r);
    return st;
  }
  ++live_;
  // epoll_ctl(ADD) reports what is already true, in both modes.
  if (uint32_t now = readiness(s); now != 0) raise(*r, now);
  return {};
}

Status Poller::add(const TcpConnection& s, uint32_t interest, uint64_t data, Trigger t) {
  return attach(s, interest, data, t);
}

Status Poller::add(const TcpListener& s, uint64_t data, Trigger t) { return attach(s, ev::accept, data, t); }

Status Poller::add(const UdpSocket& s, uint64_t data, Trigger t) { return attach(s, ev::readable, data, t); }

Poller::Reg* Poller::find(const SocketRef& s, Error* err) const noexcept {
  bool stale_handle = false;
  EventHook* h = hook_of(s, &stale_handle);
  if (stale_handle) {
    *err = stale();
    return nullptr;
  }
  if (h == nullptr || h->events != &Poller::on_events || static_cast<Reg*>(h)->poller != this) {
    *err = make_error(Errc::not_found, "socket not registered with this poller");
    return nullptr;
  }
  return static_cast<Reg*>(h);
}

Status Poller::modify(const SocketRef& s, uint32_t interest, uint64_t data, Trigger t) {
  Error err{};
  Reg* r = find(s, &err);
  if (r == nullptr) return err;
  r->interest = interest;
  r->data = data;
  r->trigger = t;
  r->pending &= interest | ev::error;
  if (r->pending == 0 && r->list == 1) unlink(*r);
  // As epoll_ctl(MOD): what is true now under the new interest is reported.
  if (uint32_t now = readiness(s); now != 0) raise(*r, now);
  return {};
}

Status Poller::remove(const SocketRef& s) {
  Error err{};
  Reg* r = find(s, &err);
  if (r == nullptr) return err;
  (void)set_hook(s, nullptr);
  drop(*r);
  return {};
}

size_t Poller::wait(std::span<PollEvent> out) {
  // Level-triggered registrations reported last time: report again what still holds.
  while (recheck_head_ != nullptr) {
    Reg& r = *recheck_head_;
    unlink(r);
    ++stats_.rechecked;
    const uint32_t e = readiness(r.socket) & (r.interest | ev::error);
    if (e != 0) {
      r.pending |= e;
      link(r, 1);
    }
  }
  size_t n = 0;
  while (n < out.size() && ready_head_ != nullptr) {
    Reg& r = *ready_head_;
    unlink(r);
    out[n++] = PollEvent{r.socket, r.pending, r.data};
    r.pending = 0;
    if (r.trigger == Trigger::level) link(r, 2);
  }
  stats_.reported += n;
  return n;
}

Result<size_t> write_some(TcpConnection& c, std::span<const uint8_t> data) {
  if (data.empty()) return size_t{0};
  auto r = c.send(data);
  if (!r && r.error().code == Errc::would_block) return size_t{0};
  return r;
}

Result<size_t> read_some(TcpConnection& c, std::span<uint8_t> out, bool* eof) {
  size_t done = 0;
  if (eof != nullptr) *eof = false;
  while (done < out.size()) {
    auto r = c.recv(out.subspan(done));
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

}  // namespace tern
