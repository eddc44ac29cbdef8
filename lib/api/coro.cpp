/**
 * @file
 * The coroutine layer's per-socket hook: the engine reports a socket's events (from Core::poll())
 * to its CoHook, which resumes the waiting reader and/or writer coroutine on the same thread.
 */
#include "tern/api/coro.hpp"

#include <memory>
#include <vector>

#include "tern/tcp/tcp.hpp"
#include "tern/udp/udp.hpp"

namespace tern::detail {

/** One socket's waiting coroutines (at most one reader and one writer). */
struct CoHook : EventHook {
  SocketRef socket;
  Waiter* reader = nullptr;
  Waiter* writer = nullptr;
  CoHook* next_free = nullptr;
};

namespace {

// Per thread (each core runs on its own thread): hooks are reused, so waiting allocates nothing
// after the first waits.
struct HookPool {
  std::vector<std::unique_ptr<CoHook>> all;
  CoHook* free = nullptr;
};
thread_local HookPool pool;

Status set_hook(const SocketRef& s, EventHook* h) {
  return std::visit(
      [&](const auto& handle) -> Status {
        auto* obj = handle.get();
        if (obj == nullptr) return make_error(Errc::bad_handle, "the socket was closed (stale handle)");
        return obj->set_hook(h);
      },
      s);
}

EventHook* get_hook(const SocketRef& s) {
  return std::visit(
      [&](const auto& handle) -> EventHook* {
        auto* obj = handle.get();
        return obj != nullptr ? obj->hook() : nullptr;
      },
      s);
}

void release(CoHook& h) {
  h.socket = SocketRef{};
  h.next_free = pool.free;
  pool.free = &h;
}

// Detach the hook from its socket when nobody waits any more.
void maybe_release(CoHook& h) {
  if (h.reader != nullptr || h.writer != nullptr) return;
  (void)set_hook(h.socket, nullptr);
  release(h);
}

void resume(Waiter* w) {
  w->hook = nullptr;
  w->timer.cancel();
  w->handle.resume();
}

void on_events(EventHook& self, uint32_t ev) {
  auto& h = static_cast<CoHook&>(self);
  Waiter* r = h.reader;
  Waiter* w = h.writer;
  const uint32_t read_ev = ev::readable | ev::accept | ev::error | ev::peer_closed;
  const uint32_t write_ev = ev::writable | ev::connected | ev::error;
  bool go_r = r != nullptr && (ev & read_ev) != 0 && (r->progress == nullptr || r->progress(*r, ev));
  bool go_w = w != nullptr && (ev & write_ev) != 0 && (w->progress == nullptr || w->progress(*w, ev));
  if (go_r) h.reader = nullptr;
  if (go_w) h.writer = nullptr;
  if (go_r || go_w) maybe_release(h);  // before resuming: a resumed coroutine may close the socket
  if (go_r) resume(r);
  if (go_w) resume(w);
}

void on_closed(EventHook& self) {
  auto& h = static_cast<CoHook&>(self);
  Waiter* r = std::exchange(h.reader, nullptr);
  Waiter* w = std::exchange(h.writer, nullptr);
  release(h);  // the socket has already forgotten the hook
  if (r != nullptr) {
    r->closed = true;
    resume(r);
  }
  if (w != nullptr) {
    w->closed = true;
    resume(w);
  }
}

void on_timeout(Timer& t, uint64_t) {
  auto* w = static_cast<Waiter*>(t.ctx);
  w->timed_out = true;
  unwait(*w);
  w->handle.resume();
}

}  // namespace

Status wait_on(const SocketRef& s, Waiter& w, bool writer, uint64_t timeout_ns) {
  bool live = std::visit([](const auto& handle) { return handle.valid(); }, s);
  if (!live) return make_error(Errc::bad_handle, "the socket was closed (stale handle)");
  TimerWheel* wheel = wheel_of(s);
  if (timeout_ns != 0 && wheel == nullptr)
    return make_error(Errc::unsupported, "no timer wheel for this socket");
  EventHook* cur = get_hook(s);
  CoHook* h = nullptr;
  if (cur != nullptr) {
    if (cur->events != &on_events) return make_error(Errc::exists, "the socket is watched by a Poller");
    h = static_cast<CoHook*>(cur);
  } else {
    if (pool.free != nullptr) {
      h = pool.free;
      pool.free = h->next_free;
    } else {
      pool.all.push_back(std::make_unique<CoHook>());
      h = pool.all.back().get();
      h->events = &on_events;
      h->closed = &on_closed;
    }
    h->socket = s;
    if (Status st = set_hook(s, h); !st) {
      release(*h);
      return st;
    }
  }
  Waiter*& slot = writer ? h->writer : h->reader;
  if (slot != nullptr) {
    maybe_release(*h);
    return make_error(Errc::exists, writer ? "another coroutine is writing to this socket"
                                           : "another coroutine is reading from this socket");
  }
  slot = &w;
  w.hook = h;
  w.is_writer = writer;
  w.timed_out = w.closed = false;
  if (timeout_ns != 0) {
    w.timer.fn = &on_timeout;
    w.timer.ctx = &w;
    wheel->arm(w.timer, now_of(s) + timeout_ns);
  }
  return {};
}

void unwait(Waiter& w) noexcept {
  CoHook* h = std::exchange(w.hook, nullptr);
  if (h == nullptr) return;
  (w.is_writer ? h->writer : h->reader) = nullptr;
  maybe_release(*h);
}

TimerWheel* wheel_of(const SocketRef& s) noexcept {
  if (const auto* c = std::get_if<TcpConnection>(&s)) return &c->get()->engine().wheel();
  if (const auto* l = std::get_if<TcpListener>(&s)) return &l->get()->engine().wheel();
  return std::get<UdpSocket>(s).get()->udp().wheel();
}

uint64_t now_of(const SocketRef& s) noexcept {
  if (const auto* c = std::get_if<TcpConnection>(&s)) return c->get()->engine().now();
  if (const auto* l = std::get_if<TcpListener>(&s)) return l->get()->engine().now();
  return std::get<UdpSocket>(s).get()->udp().now();
}

}  // namespace tern::detail
