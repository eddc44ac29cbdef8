/**
 * @file
 * A hashed timer wheel (Varghese & Lauck scheme 6), one per core. Timers are
 * intrusive: arming or cancelling never allocates. Time is passed in by the
 * caller (nanoseconds), so tests drive the wheel with a fake clock.
 */
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace tern {

class TimerWheel;

/**
 * A timer owned by its user (embedded in a connection, a neighbour entry, ...).
 * Destroying an armed timer cancels it. Not copyable or movable while armed.
 */
class Timer {
 public:
  /** Called when the timer expires; the timer is no longer armed. */
  using Callback = void (*)(Timer& timer, uint64_t now_ns);

  Timer() = default;
  Timer(Callback fn, void* ctx) : fn(fn), ctx(ctx) {}
  Timer(const Timer&) = delete;
  Timer& operator=(const Timer&) = delete;
  ~Timer();

  bool armed() const noexcept { return wheel_ != nullptr; }
  /** Disarm (harmless when not armed): the wheel it is armed on need not be at hand. */
  void cancel() noexcept;
  uint64_t expiry_ns() const noexcept { return expiry_; }

  Callback fn = nullptr;  ///< what to run on expiry
  void* ctx = nullptr;    ///< free for the owner (usually `this` of the owner)

 private:
  friend class TimerWheel;
  void unlink() noexcept;
  Timer* prev_ = nullptr;
  Timer* next_ = nullptr;
  TimerWheel* wheel_ = nullptr;
  uint64_t expiry_ = 0;
};

/** The wheel: `slots` buckets of `tick_ns` each; later timers take extra rounds. */
class TimerWheel {
 public:
  /**
   * @param tick_ns granularity; a timer fires at the first advance() at or
   *        after its expiry, never earlier.
   * @param slots number of buckets, rounded up to a power of two.
   * @param now_ns the current time.
   */
  explicit TimerWheel(uint64_t tick_ns = 1000 * 1000, size_t slots = 1024, uint64_t now_ns = 0);
  ~TimerWheel();
  TimerWheel(const TimerWheel&) = delete;
  TimerWheel& operator=(const TimerWheel&) = delete;

  /** Arm (or re-arm) @p t to fire at @p expiry_ns. Times in the past fire at the next advance(). */
  void arm(Timer& t, uint64_t expiry_ns) noexcept;
  /** Disarm @p t; harmless if it is not armed. */
  void cancel(Timer& t) noexcept;
  /** Fire every timer whose expiry is <= @p now_ns; returns how many fired. */
  size_t advance(uint64_t now_ns);
  /** Number of armed timers. */
  size_t armed() const noexcept { return count_; }
  uint64_t tick_ns() const noexcept { return tick_ns_; }

 private:
  friend class Timer;
  Timer& head(size_t slot) noexcept { return heads_[slot]; }
  std::vector<Timer> heads_;  // sentinels of circular lists
  uint64_t tick_ns_;
  uint64_t mask_;
  uint64_t cur_tick_;  // last tick processed
  size_t count_ = 0;
};

}  // namespace tern
