/**
 * @file
 * Net: an application's view of one core: open sockets (returning generation-checked handles,
 * tern/api/socket.hpp) and run timers on the core's loop. One Net per Core, made and used on that
 * core's thread (before Stack::run(), from a Stack::on_each_core() task, or from callbacks);
 * destroy it before the Core. Nothing blocks.
 *
 * Timers: one-shot (after()) and periodic (every()), taking any callable, cancellable through the
 * TimerId they return (generation-checked like socket handles: cancelling a timer that already
 * fired is a harmless bad_handle). They run on the core's timer wheel, whose tick is 1 ms: a timer
 * fires at the first Core::poll() at or after its deadline, never earlier, and at most one tick
 * plus one poll later (timer_resolution_ns()). A periodic timer keeps its phase: a late run does
 * not shift the next one, and runs missed while the core was busy are skipped, not bunched.
 */
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <vector>

#include "tern/api/socket.hpp"
#include "tern/base/timer_wheel.hpp"
#include "tern/tcp/options.hpp"

namespace tern {

class Core;

/** A timer made by Net::after() / Net::every(). The default value names no timer. */
struct TimerId {
  uint32_t slot = UINT32_MAX;
  uint32_t gen = 0;
  friend bool operator==(const TimerId&, const TimerId&) = default;
};

class Net {
 public:
  /** Bind to @p core (not owned; outlives this Net). */
  explicit Net(Core& core);
  /** Cancels the timers still armed. Sockets stay open (they belong to the core). */
  ~Net();
  Net(const Net&) = delete;
  Net& operator=(const Net&) = delete;

  Core& core() noexcept { return core_; }
  /** The core's timer wheel (1 ms tick). */
  TimerWheel& core_wheel() noexcept { return wheel_; }
  /** The time of the core's current (or last) poll, in ns (the clock timers use). */
  uint64_t now() const noexcept;

  /** Listen on @p port. Errors: exists, invalid_argument (port 0). */
  Result<TcpListener> listen(uint16_t port, const tcp::ListenOptions& opt = {});
  /**
   * Start connecting to @p to; ev::connected or ev::error follows (tcp::ConnectOptions::timeout_ns
   * bounds the attempt). Errors: no_route, invalid_argument, exists, no_memory.
   */
  Result<TcpConnection> connect(const Endpoint& to, const tcp::ConnectOptions& opt = {});
  /** Bind a UDP socket to @p port (0: an ephemeral port). Errors: exists, no_memory. */
  Result<UdpSocket> udp_bind(uint16_t port = 0);

  /**
   * Run @p fn(now) once per turn of the core's poll loop, after input and timers (where a Poller
   * is drained). One per core: a second call replaces the first; an empty function removes it.
   */
  void on_poll(std::function<void(uint64_t now)> fn);

  /** Run @p fn once, @p delay_ns from now (on this core's loop). */
  TimerId after(uint64_t delay_ns, std::function<void()> fn);
  /** Run @p fn every @p period_ns (at least one tick), first after one period. */
  TimerId every(uint64_t period_ns, std::function<void()> fn);
  /**
   * Stop @p id (also from inside its own callback). Errors: bad_handle (it fired, was cancelled,
   * or never existed).
   */
  Status cancel(TimerId id) noexcept;
  /** @p id will still run (armed, or periodic and not cancelled). */
  bool pending(TimerId id) const noexcept;
  /** Timers armed now. */
  size_t timers() const noexcept { return armed_; }
  /** How late a timer may fire beyond its deadline, besides the time to the next poll. */
  uint64_t timer_resolution_ns() const noexcept;

 private:
  struct Slot {
    Timer timer;
    std::function<void()> fn;
    uint64_t period = 0;
    uint32_t gen = 0;
    uint32_t index = 0;
    Net* net = nullptr;
    bool live = false;    // armed or periodic, not cancelled
    bool firing = false;  // its callback runs now
  };
  static void fire(Timer& t, uint64_t now);
  TimerId start(uint64_t delay_ns, uint64_t period_ns, std::function<void()> fn);
  void free_slot(Slot& s) noexcept;
  void free_slot_deferred(Slot& s) noexcept;

  Core& core_;
  TimerWheel& wheel_;
  std::vector<std::unique_ptr<Slot>> slots_;
  std::vector<uint32_t> free_;
  size_t armed_ = 0;
};

}  // namespace tern
