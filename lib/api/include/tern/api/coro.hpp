/**
 * @file
 * C++20 coroutines over tern's sockets and timers, on the core's own loop.
 *
 * A coroutine is a Task<T> (lazy: it starts when awaited or spawn()ed). Inside one:
 *
 *     Task<void> serve(Net& net, TcpConnection c) {
 *       std::array<uint8_t, 4096> buf;
 *       for (;;) {
 *         auto n = co_await read(c, buf);                  // resumes when data (or EOF) arrives
 *         if (!n || *n == 0) break;
 *         if (!co_await write(c, std::span(buf).first(*n))) break;   // resumes on the low-water mark
 *       }
 *       (void)c.close();
 *     }
 *
 * Awaiting suspends the coroutine and registers it with the socket (an EventHook) or the core's
 * timer wheel; Core::poll() resumes it from the engine's event dispatch or the wheel, on the same
 * thread: no thread hop, no lock, and no heap allocation per operation (the awaiter, with its
 * timer, lives in the coroutine frame; the per-socket hook comes from a per-thread free list).
 * Every awaitable takes an optional timeout (ns, 0 = none) and then answers Errc::timed_out.
 *
 * Rules: a socket has at most one waiting reader (read/recv/accept) and one waiting writer
 * (write/connect) at a time (a second one gets Errc::exists at once), and cannot be watched by a
 * Poller while coroutines wait on it. Closing a socket resumes its waiters with bad_handle.
 * Exceptions escaping a coroutine terminate the program (tern is built for no-exception paths).
 */
#pragma once

#include <coroutine>
#include <cstdint>
#include <exception>
#include <optional>
#include <span>
#include <utility>

#include "tern/api/net.hpp"
#include "tern/api/socket.hpp"
#include "tern/base/timer_wheel.hpp"

namespace tern {

template <class T = void>
class Task;

namespace detail {

template <class T>
struct TaskPromiseBase {
  std::coroutine_handle<> continuation;
  bool detached = false;
  std::suspend_always initial_suspend() noexcept { return {}; }
  struct Final {
    bool await_ready() noexcept { return false; }
    template <class P>
    std::coroutine_handle<> await_suspend(std::coroutine_handle<P> h) noexcept {
      auto& p = h.promise();
      if (p.detached) {
        h.destroy();  // spawn()ed: nobody awaits the result
        return std::noop_coroutine();
      }
      return p.continuation ? p.continuation : std::noop_coroutine();
    }
    void await_resume() noexcept {}
  };
  Final final_suspend() noexcept { return {}; }
  void unhandled_exception() noexcept { std::terminate(); }
};

template <class T>
struct TaskPromise : TaskPromiseBase<T> {
  std::optional<T> value;
  Task<T> get_return_object() noexcept;
  template <class U>
  void return_value(U&& v) {
    value.emplace(std::forward<U>(v));
  }
};

template <>
struct TaskPromise<void> : TaskPromiseBase<void> {
  Task<void> get_return_object() noexcept;
  void return_void() noexcept {}
};

struct Waiter;
void unwait(Waiter& w) noexcept;

/**
 * One suspended operation: the coroutine to resume, the test that decides whether an event lets
 * it go on, and its timeout. Destroying it (a suspended coroutine's frame destroyed) detaches it
 * from its socket, so the socket's hook never points into a freed frame.
 */
struct Waiter {
  Waiter() = default;
  Waiter(const Waiter&) = delete;
  Waiter& operator=(const Waiter&) = delete;
  ~Waiter() { unwait(*this); }
  std::coroutine_handle<> handle;
  /// Called with the socket's events; true: resume now. Null: any event resumes.
  bool (*progress)(Waiter& w, uint32_t ev) = nullptr;
  Timer timer;
  bool timed_out = false;
  bool closed = false;  ///< the socket was closed while waiting
  struct CoHook* hook = nullptr;
  bool is_writer = false;
  void* owner = nullptr;  ///< the awaiter (for progress())
};

/**
 * Attach @p w as the reader or writer of live socket @p s, arming its timeout on the socket's
 * core's wheel. Errors: exists, bad_handle, unsupported (a timeout without a wheel).
 */
Status wait_on(const SocketRef& s, Waiter& w, bool writer, uint64_t timeout_ns);
/** Detach @p w (after a timeout). */
void unwait(Waiter& w) noexcept;
/** The wheel (null: none) and clock of the core that owns live socket @p s. */
TimerWheel* wheel_of(const SocketRef& s) noexcept;
uint64_t now_of(const SocketRef& s) noexcept;

}  // namespace detail

/**
 * A lazily started coroutine returning T. Move-only; awaiting it runs it to completion (symmetric
 * transfer: no stack growth); destroying an un-awaited Task destroys its frame.
 */
template <class T>
class [[nodiscard]] Task {
 public:
  using promise_type = detail::TaskPromise<T>;
  Task() = default;
  explicit Task(std::coroutine_handle<promise_type> h) noexcept : h_(h) {}
  Task(Task&& o) noexcept : h_(std::exchange(o.h_, {})) {}
  Task& operator=(Task&& o) noexcept {
    if (this != &o) {
      if (h_) h_.destroy();
      h_ = std::exchange(o.h_, {});
    }
    return *this;
  }
  ~Task() {
    if (h_) h_.destroy();
  }
  bool await_ready() const noexcept { return !h_ || h_.done(); }
  std::coroutine_handle<> await_suspend(std::coroutine_handle<> caller) noexcept {
    h_.promise().continuation = caller;
    return h_;
  }
  T await_resume() {
    if constexpr (!std::is_void_v<T>) return std::move(*h_.promise().value);
  }
  /** Give up the frame (spawn() uses it). */
  std::coroutine_handle<promise_type> release() noexcept { return std::exchange(h_, {}); }

 private:
  std::coroutine_handle<promise_type> h_;
};

namespace detail {
template <class T>
Task<T> TaskPromise<T>::get_return_object() noexcept {
  return Task<T>(std::coroutine_handle<TaskPromise<T>>::from_promise(*this));
}
inline Task<void> TaskPromise<void>::get_return_object() noexcept {
  return Task<void>(std::coroutine_handle<TaskPromise<void>>::from_promise(*this));
}
}  // namespace detail

/**
 * Start @p t now and let it run on its own: it runs until its first suspension before spawn()
 * returns, and its frame is freed when it finishes. Call on the core's thread.
 */
inline void spawn(Task<void> t) {
  auto h = t.release();
  if (!h) return;
  h.promise().detached = true;
  h.resume();
}

namespace detail {

/** Common part of the socket awaitables: try, suspend, retry after the event. */
template <class Derived, class R>
class SocketAwait {
 public:
  SocketAwait(SocketRef s, bool writer, uint64_t timeout_ns)
      : s_(std::move(s)), writer_(writer), timeout_(timeout_ns) {}
  bool await_ready() {
    result_.emplace(static_cast<Derived*>(this)->attempt());
    if (!result_->ok() && result_->error().code == Errc::would_block) {
      result_.reset();
      return false;
    }
    return true;
  }
  bool await_suspend(std::coroutine_handle<> h) {
    w_.handle = h;
    // Retry at each event; an event that brings nothing usable (data read meanwhile) keeps waiting.
    w_.progress = &SocketAwait::on_event;
    w_.owner = this;
    Status st = wait_on(s_, w_, writer_, timeout_);
    if (!st) {
      result_.emplace(st.error());
      return false;  // resume at once with the error
    }
    return true;
  }
  R await_resume() {
    if (result_) return std::move(*result_);
    if (w_.timed_out) return make_error(Errc::timed_out, "the operation timed out");
    return make_error(Errc::bad_handle, "the socket was closed while waiting");
  }

 protected:
  static bool on_event(Waiter& w, uint32_t) {
    auto* self = static_cast<SocketAwait*>(w.owner);
    R r = static_cast<Derived*>(self)->attempt();
    if (!r.ok() && r.error().code == Errc::would_block) return false;
    self->result_.emplace(std::move(r));
    return true;
  }

  SocketRef s_;
  bool writer_;
  uint64_t timeout_;
  Waiter w_;
  std::optional<R> result_;
};

class ReadAwait : public SocketAwait<ReadAwait, Result<size_t>> {
 public:
  ReadAwait(TcpConnection c, std::span<uint8_t> buf, uint64_t t)
      : SocketAwait(c, false, t), c_(c), buf_(buf) {}
  Result<size_t> attempt() { return c_.recv(buf_); }

 private:
  TcpConnection c_;
  std::span<uint8_t> buf_;
};

class ReadPacketAwait : public SocketAwait<ReadPacketAwait, Result<size_t>> {
 public:
  ReadPacketAwait(TcpConnection c, Packet& out, uint32_t max, uint64_t t)
      : SocketAwait(c, false, t), c_(c), out_(out), max_(max) {}
  Result<size_t> attempt() { return c_.recv(out_, max_); }

 private:
  TcpConnection c_;
  Packet& out_;
  uint32_t max_;
};

class AcceptAwait : public SocketAwait<AcceptAwait, Result<TcpConnection>> {
 public:
  AcceptAwait(TcpListener l, uint64_t t) : SocketAwait(l, false, t), l_(l) {}
  Result<TcpConnection> attempt() { return l_.accept(); }

 private:
  TcpListener l_;
};

class RecvFromAwait : public SocketAwait<RecvFromAwait, Result<size_t>> {
 public:
  RecvFromAwait(UdpSocket s, std::span<uint8_t> buf, Endpoint* from, uint64_t t)
      : SocketAwait(s, false, t), s_udp_(s), buf_(buf), from_(from) {}
  Result<size_t> attempt() { return s_udp_.recv(buf_, from_); }

 private:
  UdpSocket s_udp_;
  std::span<uint8_t> buf_;
  Endpoint* from_;
};

/** Write all of a buffer, suspending on the writable low-water mark between pieces. */
class WriteAwait {
 public:
  WriteAwait(TcpConnection c, std::span<const uint8_t> data, uint64_t t) : c_(c), data_(data), timeout_(t) {}
  bool await_ready() { return push(); }
  bool await_suspend(std::coroutine_handle<> h) {
    w_.handle = h;
    w_.progress = &WriteAwait::on_event;
    w_.owner = this;
    Status st = wait_on(SocketRef(c_), w_, true, timeout_);
    if (!st) {
      err_ = st.error();
      return false;
    }
    return true;
  }
  Result<size_t> await_resume() {
    if (err_) return *err_;
    if (w_.timed_out) return make_error(Errc::timed_out, "the write timed out");
    if (w_.closed) return make_error(Errc::bad_handle, "the socket was closed while waiting");
    return done_;
  }

 private:
  // Send what fits; true when finished (all sent, or an error).
  bool push() {
    while (done_ < data_.size()) {
      auto r = c_.send(data_.subspan(done_));
      if (!r) {
        if (r.error().code == Errc::would_block) return false;
        err_ = r.error();
        return true;
      }
      done_ += *r;
    }
    return true;
  }
  static bool on_event(Waiter& w, uint32_t ev) {
    auto* self = static_cast<WriteAwait*>(w.owner);
    (void)ev;
    return self->push();
  }

 public:
  Waiter w_;

 private:
  TcpConnection c_;
  std::span<const uint8_t> data_;
  uint64_t timeout_;
  size_t done_ = 0;
  std::optional<Error> err_;
};

/** Start a connection and wait until it is established, failed or timed out. */
class ConnectAwait {
 public:
  ConnectAwait(Net& net, Endpoint to, tcp::ConnectOptions opt) : net_(net), to_(to), opt_(opt) {}
  bool await_ready() {
    auto c = net_.connect(to_, opt_);
    if (!c) {
      err_ = c.error();
      return true;
    }
    c_ = *c;
    return settled();
  }
  bool await_suspend(std::coroutine_handle<> h) {
    w_.handle = h;
    w_.progress = &ConnectAwait::on_event;
    w_.owner = this;
    // The engine enforces opt_.timeout_ns (ev::error with timed_out): no timer of our own.
    Status st = wait_on(SocketRef(c_), w_, true, 0);
    if (!st) {
      err_ = st.error();
      return false;
    }
    return true;
  }
  Result<TcpConnection> await_resume() {
    if (!err_ && w_.closed) err_ = make_error(Errc::bad_handle, "the socket was closed while connecting");
    if (!err_ && c_.state() != tcp::State::established && c_.state() != tcp::State::close_wait) {
      auto e = c_.error();
      err_ = e ? *e : make_error(Errc::not_connected, "the connection did not open");
    }
    if (err_) {
      (void)c_.close();
      return *err_;
    }
    return c_;
  }

 private:
  bool settled() const noexcept {
    const tcp::State st = c_.state();
    return st != tcp::State::syn_sent && st != tcp::State::syn_received;
  }
  static bool on_event(Waiter& w, uint32_t) {
    auto* self = static_cast<ConnectAwait*>(w.owner);
    return self->settled();
  }

 public:
  Waiter w_;

 private:
  Net& net_;
  Endpoint to_;
  tcp::ConnectOptions opt_;
  TcpConnection c_;
  std::optional<Error> err_;
};

class SleepAwait {
 public:
  SleepAwait(Net& net, uint64_t ns) : net_(net), ns_(ns) {}
  bool await_ready() const noexcept { return false; }
  void await_suspend(std::coroutine_handle<> h) {
    timer_.fn = [](Timer& t, uint64_t) { std::coroutine_handle<>::from_address(t.ctx).resume(); };
    timer_.ctx = h.address();
    net_.core_wheel().arm(timer_, net_.now() + ns_);
  }
  void await_resume() const noexcept {}

 private:
  Net& net_;
  uint64_t ns_;
  Timer timer_;
};

}  // namespace detail

/** co_await: bytes read into @p buf (0 = end of stream), or an error (timed_out, bad_handle, the
 * connection's). */
inline detail::ReadAwait read(TcpConnection c, std::span<uint8_t> buf, uint64_t timeout_ns = 0) {
  return {c, buf, timeout_ns};
}
/** co_await: received data, zero copy, into @p out (up to @p max bytes); 0 = end of stream. */
inline detail::ReadPacketAwait read(TcpConnection c, Packet& out, uint32_t max = 64 * 1024,
                                    uint64_t timeout_ns = 0) {
  return {c, out, max, timeout_ns};
}
/**
 * co_await: copy all of @p data into the connection, suspending while the send buffer is full
 * (until send space reaches the low-water mark). @return bytes written (all of them), or an error;
 * after timed_out, part of @p data may have been taken.
 */
inline detail::WriteAwait write(TcpConnection c, std::span<const uint8_t> data, uint64_t timeout_ns = 0) {
  return {c, data, timeout_ns};
}
/** co_await: the next connection. */
inline detail::AcceptAwait accept(TcpListener l, uint64_t timeout_ns = 0) { return {l, timeout_ns}; }
/** co_await: the next datagram copied into @p buf (recvfrom semantics: its full length). */
inline detail::RecvFromAwait recv_from(UdpSocket s, std::span<uint8_t> buf, Endpoint* from = nullptr,
                                       uint64_t timeout_ns = 0) {
  return {s, buf, from, timeout_ns};
}
/**
 * co_await: an established connection to @p to, or the error that ended the attempt (timed_out
 * after @p timeout_ns, connection_refused, host_unreachable...). The handle is closed on failure.
 */
inline detail::ConnectAwait connect(Net& net, const Endpoint& to, uint64_t timeout_ns = 0,
                                    tcp::ConnectOptions opt = {}) {
  opt.timeout_ns = timeout_ns;
  return {net, to, opt};
}
/** co_await: resume after @p ns (timer resolution: Net::timer_resolution_ns()). */
inline detail::SleepAwait sleep(Net& net, uint64_t ns) { return {net, ns}; }

}  // namespace tern
