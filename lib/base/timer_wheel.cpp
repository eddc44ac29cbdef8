#include "tern/base/timer_wheel.hpp"

namespace tern {

Timer::~Timer() { cancel(); }

void Timer::cancel() noexcept {
  if (wheel_ != nullptr) wheel_->cancel(*this);
}

void Timer::unlink() noexcept {
  prev_->next_ = next_;
  next_->prev_ = prev_;
  prev_ = next_ = nullptr;
  wheel_ = nullptr;
}

TimerWheel::TimerWheel(uint64_t tick_ns, size_t slots, uint64_t now_ns)
    : heads_(), tick_ns_(tick_ns == 0 ? 1 : tick_ns) {
  size_t n = 1;
  while (n < slots) n <<= 1;
  heads_ = std::vector<Timer>(n);
  for (auto& h : heads_) {
    h.prev_ = h.next_ = &h;
  }
  mask_ = n - 1;
  cur_tick_ = now_ns / tick_ns_;
}

TimerWheel::~TimerWheel() {
  for (auto& h : heads_) {
    while (h.next_ != &h) h.next_->unlink();
    h.prev_ = h.next_ = nullptr;  // sentinels are never armed
  }
}

void TimerWheel::arm(Timer& t, uint64_t expiry_ns) noexcept {
  if (t.wheel_ != nullptr) cancel(t);
  // Round up: the slot is visited once now >= its tick's start, which is then >= expiry_ns.
  // (Rounding down would put a mid-tick expiry in a slot already passed by an earlier
  // advance in the same tick, and it would wait a whole turn of the wheel.)
  uint64_t tick = expiry_ns / tick_ns_ + (expiry_ns % tick_ns_ != 0 ? 1 : 0);
  if (tick <= cur_tick_) tick = cur_tick_ + 1;  // fire on the next advance
  Timer& h = head(tick & mask_);
  t.expiry_ = expiry_ns;
  t.prev_ = h.prev_;
  t.next_ = &h;
  h.prev_->next_ = &t;
  h.prev_ = &t;
  t.wheel_ = this;
  ++count_;
}

void TimerWheel::cancel(Timer& t) noexcept {
  if (t.wheel_ != this) return;
  t.unlink();
  --count_;
}

size_t TimerWheel::advance(uint64_t now_ns) {
  uint64_t now_tick = now_ns / tick_ns_;
  size_t fired = 0;
  // Visit each slot at most once per call: beyond a full turn every slot
  // has been seen and the expiry check below decides.
  uint64_t last = now_tick;
  if (now_tick > cur_tick_ + mask_ + 1) last = cur_tick_ + mask_ + 1;
  while (cur_tick_ < last) {
    ++cur_tick_;
    Timer& h = head(cur_tick_ & mask_);
    // Move expired timers to a local list first: callbacks may re-arm
    // timers into this very slot.
    Timer expired;
    expired.prev_ = expired.next_ = &expired;
    for (Timer* t = h.next_; t != &h;) {
      Timer* next = t->next_;
      if (t->expiry_ <= now_ns) {
        t->prev_->next_ = t->next_;
        t->next_->prev_ = t->prev_;
        t->prev_ = expired.prev_;
        t->next_ = &expired;
        expired.prev_->next_ = t;
        expired.prev_ = t;
      }
      t = next;
    }
    while (expired.next_ != &expired) {
      Timer* t = expired.next_;
      t->unlink();
      --count_;
      ++fired;
      if (t->fn != nullptr) t->fn(*t, now_ns);
    }
    expired.prev_ = expired.next_ = nullptr;
  }
  cur_tick_ = now_tick > cur_tick_ ? now_tick : cur_tick_;
  return fired;
}

}  // namespace tern
