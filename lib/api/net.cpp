/**
 * @file
 * Net: socket creation on one core and application timers on its wheel (Core::poll() advances
 * the wheel, which runs Net::fire()).
 */
#include "tern/api/net.hpp"

#include <algorithm>

#include "tern/stack/core.hpp"

namespace tern {

Net::Net(Core& core) : core_(core), wheel_(core.timers()) {}

Net::~Net() {
  for (auto& s : slots_) wheel_.cancel(s->timer);
}

uint64_t Net::now() const noexcept { return core_.now(); }

void Net::on_poll(std::function<void(uint64_t now)> fn) {
  if (!fn) {
    core_.set_on_poll(nullptr);
    return;
  }
  core_.set_on_poll([f = std::move(fn)](Core&, uint64_t now) { f(now); });
}

Result<TcpListener> Net::listen(uint16_t port, const tcp::ListenOptions& opt) {
  auto l = core_.tcp().listen(port, opt);
  if (!l) return l.error();
  return TcpListener(*l);
}

Result<TcpConnection> Net::connect(const Endpoint& to, const tcp::ConnectOptions& opt) {
  auto c = core_.tcp().connect(to, opt);
  if (!c) return c.error();
  return TcpConnection(*c);
}

Result<UdpSocket> Net::udp_bind(uint16_t port) {
  auto s = core_.udp().bind(port);
  if (!s) return s.error();
  return UdpSocket(*s);
}

uint64_t Net::timer_resolution_ns() const noexcept { return wheel_.tick_ns(); }

TimerId Net::after(uint64_t delay_ns, std::function<void()> fn) { return start(delay_ns, 0, std::move(fn)); }

TimerId Net::every(uint64_t period_ns, std::function<void()> fn) {
  period_ns = std::max(period_ns, wheel_.tick_ns());
  return start(period_ns, period_ns, std::move(fn));
}

TimerId Net::start(uint64_t delay_ns, uint64_t period_ns, std::function<void()> fn) {
  uint32_t i;
  if (!free_.empty()) {
    i = free_.back();
    free_.pop_back();
  } else {
    i = static_cast<uint32_t>(slots_.size());
    slots_.push_back(std::make_unique<Slot>());
    slots_.back()->index = i;
    slots_.back()->net = this;
  }
  Slot& s = *slots_[i];
  s.fn = std::move(fn);
  s.period = period_ns;
  s.live = true;
  s.timer.fn = &Net::fire;
  s.timer.ctx = &s;
  wheel_.arm(s.timer, now() + delay_ns);
  ++armed_;
  return TimerId{i, s.gen};
}

void Net::free_slot(Slot& s) noexcept {
  ++s.gen;
  s.live = false;
  s.period = 0;
  wheel_.cancel(s.timer);
  if (!s.firing) {
    s.fn = nullptr;
    free_.push_back(s.index);
  }
  --armed_;
}

void Net::fire(Timer& t, uint64_t now) {
  Slot& s = *static_cast<Slot*>(t.ctx);
  Net& net = *s.net;
  const uint32_t gen = s.gen;
  s.firing = true;
  s.fn();
  s.firing = false;
  if (s.gen != gen) {  // cancelled by its own callback: the slot waited for it to return
    s.fn = nullptr;
    net.free_slot_deferred(s);
    return;
  }
  if (s.period == 0) {
    net.free_slot(s);
    return;
  }
  // Keep the phase; skip runs the core was too busy to make.
  uint64_t next = t.expiry_ns() + s.period;
  if (next <= now) next += ((now - next) / s.period + 1) * s.period;
  net.wheel_.arm(t, next);
}

void Net::free_slot_deferred(Slot& s) noexcept { free_.push_back(s.index); }

Status Net::cancel(TimerId id) noexcept {
  if (id.slot >= slots_.size()) return make_error(Errc::bad_handle, "no such timer");
  Slot& s = *slots_[id.slot];
  if (s.gen != id.gen || !s.live) return make_error(Errc::bad_handle, "the timer fired or was cancelled");
  free_slot(s);
  return {};
}

bool Net::pending(TimerId id) const noexcept {
  return id.slot < slots_.size() && slots_[id.slot]->gen == id.gen && slots_[id.slot]->live;
}

}  // namespace tern
