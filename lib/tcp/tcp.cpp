/**
 * @file
 * The TCP engine's tables and lifecycle: the 4-tuple hash table, listeners,
 * active opens with ephemeral ports, TCB allocation and release, events,
 * and the application-facing Connection and Listener calls. Segment input
 * is in input.cpp, segment output in output.cpp, timers in timers.cpp.
 */
#include "tern/tcp/tcp.hpp"

#include <sys/random.h>

#include <algorithm>
#include <cstring>
#include <memory>
#include <new>

#include "tern/base/byteorder.hpp"
#include "tern/base/clock.hpp"
#include "tern/base/log.hpp"
#include "tern/tcp/tcp_internal.hpp"
#include "tern/wire/icmp.hpp"

namespace tern::tcp {

using wire::SeqNum;

std::string_view to_string(EcnMode m) noexcept {
  switch (m) {
    case EcnMode::off:
      return "off";
    case EcnMode::passive:
      return "passive";
    case EcnMode::on:
      return "on";
  }
  return "?";
}

std::optional<EcnMode> ecn_from_string(std::string_view s) noexcept {
  if (s == "off") return EcnMode::off;
  if (s == "passive") return EcnMode::passive;
  if (s == "on") return EcnMode::on;
  return std::nullopt;
}

std::string_view to_string(CaState s) noexcept {
  switch (s) {
    case CaState::open:
      return "open";
    case CaState::disorder:
      return "disorder";
    case CaState::recovery:
      return "recovery";
    case CaState::loss:
      return "loss";
  }
  return "?";
}

std::string_view to_string(State s) noexcept {
  switch (s) {
    case State::closed:
      return "CLOSED";
    case State::listen:
      return "LISTEN";
    case State::syn_sent:
      return "SYN_SENT";
    case State::syn_received:
      return "SYN_RECEIVED";
    case State::established:
      return "ESTABLISHED";
    case State::fin_wait_1:
      return "FIN_WAIT_1";
    case State::fin_wait_2:
      return "FIN_WAIT_2";
    case State::close_wait:
      return "CLOSE_WAIT";
    case State::closing:
      return "CLOSING";
    case State::last_ack:
      return "LAST_ACK";
    case State::time_wait:
      return "TIME_WAIT";
  }
  return "?";
}

std::string_view to_string(TcpDrop d) noexcept {
  switch (d) {
    case TcpDrop::truncated:
      return "truncated";
    case TcpDrop::bad_header:
      return "bad_header";
    case TcpDrop::bad_checksum:
      return "bad_checksum";
    case TcpDrop::broadcast:
      return "broadcast";
    case TcpDrop::no_connection:
      return "no_connection";
    case TcpDrop::out_of_window:
      return "out_of_window";
    case TcpDrop::paws:
      return "paws";
    case TcpDrop::bad_ack:
      return "bad_ack";
    case TcpDrop::rst_ignored:
      return "rst_ignored";
    case TcpDrop::syn_in_window:
      return "syn_in_window";
    case TcpDrop::listen_overflow:
      return "listen_overflow";
    case TcpDrop::no_memory:
      return "no_memory";
    case TcpDrop::ooo_full:
      return "ooo_full";
    case TcpDrop::rcv_buffer_full:
      return "rcv_buffer_full";
    case TcpDrop::after_close:
      return "after_close";
    case TcpDrop::no_rcv_memory:
      return "no_rcv_memory";
    case TcpDrop::bad_flags:
      return "bad_flags";
    case TcpDrop::icmp_no_connection:
      return "icmp_no_connection";
    case TcpDrop::icmp_not_in_flight:
      return "icmp_not_in_flight";
    case TcpDrop::count_:
      break;
  }
  return "?";
}

namespace {

uint32_t pow2_at_least(uint32_t n) {
  uint32_t p = 1;
  while (p < n && p < (1u << 30)) p <<= 1;
  return p;
}

}  // namespace

Connection::Connection(Tcp& tcp) : tcp_(tcp) {
  sndq_.set_account(&tcp.mem_);
  rcvq_.set_account(&tcp.mem_);
  ooo_.set_account(&tcp.mem_);
  rtx_timer_.fn = &Tcp::on_rtx_timer;
  rtx_timer_.ctx = this;
  dack_timer_.fn = &Tcp::on_dack_timer;
  dack_timer_.ctx = this;
  ka_timer_.fn = &Tcp::on_ka_timer;
  ka_timer_.ctx = this;
}

Tcp::Tcp(const TcpParams& params, l3::Ipv4& ip, TimerWheel& wheel, uint64_t now)
    : p_(params),
      ip_(ip),
      wheel_(wheel),
      pool_(ip.pool()),
      now_(now),
      isn_(random_key("TCP ISN")),
      cookies_(random_key("SYN cookie")),
      ooo_pool_(params.ooo_nodes),
      rng_(random_key("TCP random")),
      challenge_budget_(p_.challenge_ack_per_s, rng_) {
  uint32_t nb = pow2_at_least(std::max<uint32_t>(p_.max_connections, 64));
  buckets_.assign(nb, nullptr);
  tw_buckets_.assign(nb, nullptr);
  bucket_mask_ = nb - 1;
  auto k = random_key("TCP hash seed");
  std::memcpy(&hash_seed_, k.data(), sizeof hash_seed_);
  if (p_.ephemeral_first == 0 || p_.ephemeral_first > p_.ephemeral_last) {
    p_.ephemeral_first = 49152;
    p_.ephemeral_last = 65535;
  }
  tw_timer_.fn = &Tcp::on_tw_timer;
  tw_timer_.ctx = this;
  init_memory();
  ip_.set_handler(wire::ip_proto::tcp, this);
}

Tcp::~Tcp() {
  abort_all();
  wheel_.cancel(tw_timer_);
  if (ip_.handler(wire::ip_proto::tcp) == this) ip_.set_handler(wire::ip_proto::tcp, nullptr);
}

void Tcp::abort_all() {
  listeners_.for_each([this](uint16_t, Listener* l) { close_listener(l); });
  for (auto& c : all_) {
    if (c->st_ == State::closed && c->hnext_ == nullptr && !c->app_owned_) continue;
    if (c->st_ != State::closed && c->st_ != State::time_wait) {
      if (c->st_ != State::syn_sent) send_rst(*c);
      unlink(c.get());
    }
    quiesce(*c);
    c->rcvq_.clear();
    c->st_ = State::closed;
  }
  pending_.clear();
  ready_.clear();
  ready_listeners_.clear();
  while (tw_oldest_ != nullptr) tw_remove(tw_oldest_);
}

size_t Tcp::close_listeners() {
  size_t n = 0;
  listeners_.for_each([this, &n](uint16_t, Listener* l) {
    close_listener(l);
    ++n;
  });
  return n;
}

uint32_t Tcp::hash(const FourTuple& t) const noexcept {
  uint64_t x = (uint64_t{t.remote_ip} << 32) | t.local_ip;
  x ^= ((uint64_t{t.remote_port} << 16) | t.local_port) * 0x9E3779B97F4A7C15ull;
  x ^= hash_seed_;
  x ^= x >> 33;
  x *= 0xff51afd7ed558ccdull;
  x ^= x >> 33;
  x *= 0xc4ceb9fe1a85ec53ull;
  x ^= x >> 33;
  return static_cast<uint32_t>(x);
}

Connection* Tcp::find(const FourTuple& t) const noexcept {
  for (Connection* c = buckets_[hash(t) & bucket_mask_]; c != nullptr; c = c->hnext_) {
    if (c->t_ == t) return c;
  }
  return nullptr;
}

void Tcp::insert(Connection* c) {
  Connection*& b = buckets_[hash(c->t_) & bucket_mask_];
  c->hnext_ = b;
  b = c;
}

void Tcp::unlink(Connection* c) {
  Connection** pp = &buckets_[hash(c->t_) & bucket_mask_];
  while (*pp != nullptr) {
    if (*pp == c) {
      *pp = c->hnext_;
      c->hnext_ = nullptr;
      return;
    }
    pp = &(*pp)->hnext_;
  }
}

uint32_t Tcp::ts_now() const noexcept {
  // RFC 7323 §5.4: a 1 ms timestamp clock.
  return static_cast<uint32_t>(now_ / kNsPerMs);
}

Connection* Tcp::alloc_conn() {
  Connection* c = free_;
  if (c != nullptr) {
    free_ = c->qnext_;
    c->qnext_ = nullptr;
  } else {
    if (all_.size() >= p_.max_connections) return nullptr;
    all_.push_back(std::unique_ptr<Connection>(new Connection(*this)));
    c = all_.back().get();
  }
  ++live_;
  return c;
}

void Tcp::init_tcb(Connection& c, const SocketOptions& opt, uint64_t now) {
  c.opt_ = opt;
  c.rtt_.set_params(p_.rtt);
  c.last_rx_ns_ = now;
}

// Stop a TCB's timers and drop what it holds for sending or reassembly.
void Tcp::quiesce(Connection& c) {
  wheel_.cancel(c.rtx_timer_);
  wheel_.cancel(c.dack_timer_);
  wheel_.cancel(c.ka_timer_);
  c.sndq_.clear();
  c.ooo_.clear(ooo_pool_);
  ooo_untrack(c);
  rack_log_release(c);
  if (c.mem_waiting_) {
    c.mem_waiting_ = false;
    std::erase(mem_waiters_, &c);
  }
}

// Reset a TCB to its constructed state and put it on the free list.
void Tcp::recycle(Connection* c) {
  if (c->pinned_ && p_.pin_flow != nullptr) p_.pin_flow(p_.pin_ctx, c->t_, false);
  const uint32_t gen = c->gen_;  // a stale handle must never match the next connection here
  std::destroy_at(c);
  new (c) Connection(*this);
  c->gen_ = gen;
  c->qnext_ = free_;
  free_ = c;
  --live_;
}

void Tcp::destroy(Connection* c) {
  // Free the TCB for reuse: queues, timers, table and list membership.
  unlink(c);
  remove_from_listener(*c);
  quiesce(*c);
  if (c->in_pending_) std::erase(pending_, c);
  if (c->in_ready_) std::erase(ready_, c);
  if (in_dispatch_) {
    // The dispatch loop may still look at it: recycle after the loop.
    c->st_ = State::closed;
    c->app_owned_ = false;
    c->cb_ = nullptr;
    c->in_pending_ = c->in_ready_ = false;
    closing_.push_back(c);
    return;
  }
  recycle(c);
}

void Tcp::release(Connection* c) {
  // The connection reached CLOSED: free it unless the application still holds it
  // (an unaccepted child never is: app_owned_ is set by accept()).
  tfo_child_done(*c);
  set_state(*c, State::closed);
  unlink(c);
  quiesce(*c);
  if (!c->app_owned_) destroy(c);
}

void Tcp::set_state(Connection& c, State s) { c.st_ = s; }

void Tcp::fail(Connection& c, Errc code, std::string_view reason) {
  c.err_ = make_error(code, reason);
  if (c.st_ == State::established || c.st_ == State::close_wait) {
    if (code == Errc::connection_reset) ++stats_.estab_resets;
  }
  if (c.st_ == State::syn_sent || c.st_ == State::syn_received) ++stats_.attempt_fails;
  c.rcvq_.clear();
  notify(c, ev::error);
  release(&c);
}

void Tcp::notify(Connection& c, uint32_t events) {
  if (!c.app_owned_ || !c.accepted_) return;
  c.events_ |= events;
  if (!c.in_ready_) {
    c.in_ready_ = true;
    ready_.push_back(&c);
  }
}

void Tcp::notify(Listener& l) {
  if (!l.in_ready_) {
    l.in_ready_ = true;
    ready_listeners_.push_back(&l);
  }
}

void Tcp::schedule(Connection& c) {
  if (!c.in_pending_) {
    c.in_pending_ = true;
    pending_.push_back(&c);
  }
}

void Tcp::flush() {
  // Output may schedule more (a window update after a read): loop over a snapshot.
  for (size_t i = 0; i < pending_.size(); ++i) {
    Connection* c = pending_[i];
    c->in_pending_ = false;
    output(*c);
  }
  pending_.clear();
  wake_mem_waiters();
}

void Tcp::dispatch_events() {
  if (!ready_listeners_.empty()) {
    std::vector<Listener*>& ls = dispatching_listeners_;
    ls.swap(ready_listeners_);
    in_dispatch_ = true;
    for (size_t i = 0; i < ls.size(); ++i) {
      Listener* l = ls[i];
      if (l == nullptr) continue;  // closed by an earlier callback
      l->in_ready_ = false;
      if (l->hook_ != nullptr && l->accept_len_ > 0) l->hook_->events(*l->hook_, ev::accept);
      if (ls[i] == nullptr) continue;
      if (l->cb_ && l->accept_len_ > 0) l->cb_(*l, ev::accept);
    }
    ls.clear();
    in_dispatch_ = false;
    dead_listener_callbacks_.clear();
    for (Connection* c : closing_) recycle(c);
    closing_.clear();
  }
  if (ready_.empty()) return;
  in_dispatch_ = true;
  dispatching_.swap(ready_);
  for (Connection* c : dispatching_) {
    if (!c->in_ready_) continue;  // destroyed meanwhile
    c->in_ready_ = false;
    uint32_t e = std::exchange(c->events_, 0);
    if ((e & ev::sent) != 0 && c->sent_cb_ && c->app_owned_) {
      const uint64_t n = c->bytes_acked_ - c->acked_reported_;
      c->acked_reported_ = c->bytes_acked_;
      if (n > 0) c->sent_cb_(*c, n);
    }
    if (c->hook_ != nullptr && c->app_owned_) c->hook_->events(*c->hook_, e);
    if (c->cb_ && c->app_owned_) c->cb_(*c, e);
  }
  dispatching_.clear();
  in_dispatch_ = false;
  dead_callbacks_.clear();
  for (Connection* c : closing_) recycle(c);
  closing_.clear();
}

bool Tcp::tuple_in_use(const FourTuple& t, bool reuse_tw) {
  if (find(t) != nullptr) return true;
  TimeWait* w = tw_find(t);
  if (w == nullptr) return false;
  // Linux tcp_tw_reuse: safe with timestamps once the old connection is quiet for a second
  // (PAWS at the peer then rejects old duplicates, RFC 7323 §5).
  if (reuse_tw && w->ts_ok && now_ - w->ts_recent_ns > 1'000'000'000) {
    tw_remove(w);
    ++stats_.time_wait_reused;
    return false;
  }
  return true;
}

Result<uint16_t> Tcp::pick_port(const FourTuple& t, bool reuse_tw) {
  // RFC 6056 §3.3.4 (algorithm 4, double-hash): a keyed hash of the destination picks where the
  // search starts (offset) and a second one which position counter moves on (index), so the
  // ports tern picks toward one destination say nothing about its connections to others (a single
  // shared counter, algorithm 3, would: docs/robustness.md).
  uint32_t range = uint32_t{p_.ephemeral_last} - p_.ephemeral_first + 1;
  FourTuple key = t;
  key.local_port = 0;
  uint32_t offset = isn_.hash(key, 1);
  uint16_t& next = port_table_[isn_.hash(key, 3) % port_table_.size()];
  const uint32_t start = (offset % range + next) % range;
  for (uint32_t i = 0; i < range; ++i) {
    uint16_t port = static_cast<uint16_t>(p_.ephemeral_first + (start + i) % range);
    FourTuple c = t;
    c.local_port = port;
    if (listeners_.get(port) != nullptr) continue;
    // Issue 10: a port whose replies RSS would hand to another core is no use to this one.
    if (p_.steering && p_.steering->queue_of(wire::Ipv4Addr{t.remote_ip}, t.remote_port,
                                             wire::Ipv4Addr{t.local_ip}, port) != p_.rx_queue) {
      continue;
    }
    if (!tuple_in_use(c, reuse_tw)) {
      next = static_cast<uint16_t>(next + i + 1);  // RFC 6056 §3.3.4: table[index]++ per try
      return port;
    }
  }
  return make_error(Errc::no_memory, p_.steering ? "no free ephemeral port toward this destination that RSS "
                                                   "steers to this core"
                                                 : "no free ephemeral port toward this destination");
}

Result<Listener*> Tcp::listen(uint16_t port, const ListenOptions& opt) {
  if (port == 0) return make_error(Errc::invalid_argument, "listen on port 0");
  if (listeners_.get(port) != nullptr) return make_error(Errc::exists, "already listening on this port");
  uint32_t backlog = opt.backlog != 0 ? opt.backlog : p_.backlog;
  Listener* l = listener_free_;
  if (l != nullptr) {  // reuse a closed listener's object: its generation moves on
    listener_free_ = l->next_free_;
    const uint32_t gen = l->gen_;
    std::destroy_at(l);
    new (l) Listener(*this, port, backlog, opt.socket.value_or(p_.socket));
    l->gen_ = gen;
  } else {
    listener_all_.push_back(
        std::unique_ptr<Listener>(new Listener(*this, port, backlog, opt.socket.value_or(p_.socket))));
    l = listener_all_.back().get();
  }
  l->tfo_qlen_ = opt.fastopen;
  listeners_.set(port, l);
  return l;
}

Result<Connection*> Tcp::connect(const Endpoint& remote, const ConnectOptions& opt) {
  if (remote.port == 0) return make_error(Errc::invalid_argument, "connect to port 0");
  if (remote.addr.is_unspecified() || remote.addr.is_broadcast() || remote.addr.is_multicast()) {
    return make_error(Errc::invalid_argument, "connect to a broadcast, multicast or unspecified address");
  }
  auto path = ip_.path(remote.addr);
  if (!path) return path.error();
  FourTuple t;
  t.remote_ip = remote.addr.v;
  t.remote_port = remote.port;
  t.local_ip = opt.local_addr.is_unspecified() ? path->src.v : opt.local_addr.v;
  if (!ip_.is_local(wire::Ipv4Addr{t.local_ip})) {
    return make_error(Errc::invalid_argument, "local address is not one of ours");
  }
  SocketOptions so = opt.socket.value_or(p_.socket);
  bool pin = false;
  if (opt.local_port != 0) {
    t.local_port = opt.local_port;
    if (tuple_in_use(t, so.reuse_time_wait)) return make_error(Errc::exists, "4-tuple in use");
    // An explicit port whose frames the steering gives another core: pin the flow here.
    pin = p_.steering && p_.steering->queue_of(wire::Ipv4Addr{t.remote_ip}, t.remote_port,
                                               wire::Ipv4Addr{t.local_ip}, t.local_port) != p_.rx_queue;
    if (pin && (p_.pin_flow == nullptr || !p_.pin_flow(p_.pin_ctx, t, true))) {
      return make_error(Errc::no_memory,
                        "the local port steers to another core and the flow cannot be pinned here");
    }
  } else {
    auto port = pick_port(t, so.reuse_time_wait);
    if (!port) return port.error();
    t.local_port = *port;
  }
  Connection* c = alloc_conn();
  if (c == nullptr) {
    if (pin) p_.pin_flow(p_.pin_ctx, t, false);
    return make_error(Errc::no_memory, "connection table full (tcp.max_connections)");
  }
  init_tcb(*c, so, now_);
  c->t_ = t;
  c->pinned_ = pin;
  c->accepted_ = true;
  if (opt.timeout_ns != 0) c->connect_due_ns_ = now_ + opt.timeout_ns;
  c->iss_ = isn_.isn(t, now_);
  c->snd_una_ = c->snd_nxt_ = c->snd_max_ = c->iss_;
  c->sndq_base_ = c->iss_ + 1;
  c->ts_offset_ = isn_.hash(t, 2);
  c->ip_id_ = static_cast<uint16_t>(isn_.hash(t, 4));
  c->mss_ = c->peer_mss_ = path_mss(remote.addr);
  offer_options(*c);
  set_state(*c, State::syn_sent);
  insert(c);
  ++stats_.active_opens;
  if (opt.fastopen) {
    // RFC 7413 §4.2.1: the SYN waits for the next flush, so it can carry the first data.
    c->tfo_ = kTfoClient;
    schedule(*c);
    return c;
  }
  send_syn(*c);
  return c;
}

void Tcp::close_listener(Listener* l) {
  // Reset half-open and unaccepted children (RFC 9293 §3.10.4: CLOSE in LISTEN).
  for (auto& c : all_) {
    if (c->parent_ == l) {
      c->parent_ = nullptr;
      if (c->st_ != State::closed) {
        send_rst(*c);
        c->app_owned_ = false;
        release(c.get());
      }
    }
  }
  l->accept_head_ = l->accept_tail_ = nullptr;
  l->accept_len_ = l->syn_len_ = 0;
  // Not erased: dispatch_events() may be walking a snapshot of this list (it skips nulls).
  std::replace(ready_listeners_.begin(), ready_listeners_.end(), l, static_cast<Listener*>(nullptr));
  if (!dispatching_listeners_.empty()) {
    std::replace(dispatching_listeners_.begin(), dispatching_listeners_.end(), l,
                 static_cast<Listener*>(nullptr));
  }
  listeners_.set(l->port_, nullptr);
  if (in_dispatch_ && l->cb_) dead_listener_callbacks_.push_back(std::move(l->cb_));
  l->cb_ = nullptr;
  ++l->gen_;
  if (EventHook* h = std::exchange(l->hook_, nullptr)) h->closed(*h);
  l->in_ready_ = false;
  l->next_free_ = listener_free_;
  listener_free_ = l;
}

Status Listener::set_hook(EventHook* hook) noexcept {
  if (hook != nullptr && hook_ != nullptr) return make_error(Errc::exists, "listener already watched");
  hook_ = hook;
  return {};
}

Status Connection::set_hook(EventHook* hook) noexcept {
  if (hook != nullptr && hook_ != nullptr) return make_error(Errc::exists, "connection already watched");
  hook_ = hook;
  return {};
}

// The application lets go of the handle: later handles with the old generation are stale, and
// the watcher (a Poller registration, a coroutine waiter) is told and forgotten.
void Connection::release_handle() noexcept {
  app_owned_ = false;
  // Its own callback may be running now (a close() from inside it): destroy it after dispatch.
  if (tcp_.in_dispatch_ && cb_) tcp_.dead_callbacks_.push_back(std::move(cb_));
  cb_ = nullptr;
  ++gen_;
  if (EventHook* h = std::exchange(hook_, nullptr)) h->closed(*h);
}

void Tcp::remove_from_listener(Connection& c) {
  Listener* l = c.parent_;
  if (l == nullptr) return;
  c.parent_ = nullptr;
  Connection** pp = &l->accept_head_;
  Connection* prev = nullptr;
  while (*pp != nullptr) {
    if (*pp == &c) {
      *pp = c.qnext_;
      if (l->accept_tail_ == &c) l->accept_tail_ = prev;
      c.qnext_ = nullptr;
      --l->accept_len_;
      return;
    }
    prev = *pp;
    pp = &(*pp)->qnext_;
  }
  // Not in the accept queue: a half-open child (RFC 9293 §3.10.7.4: a reset or timeout in
  // SYN-RECEIVED returns to LISTEN). release() has already set CLOSED, so do not test the state.
  if (!c.accepted_ && !c.from_cookie_ && l->syn_len_ > 0) --l->syn_len_;
}

void Tcp::accept_ready(Listener& l, Connection& c) {
  if (l.syn_len_ > 0 && !c.from_cookie_) --l.syn_len_;
  c.qnext_ = nullptr;
  if (l.accept_tail_ == nullptr) {
    l.accept_head_ = &c;
  } else {
    l.accept_tail_->qnext_ = &c;
  }
  l.accept_tail_ = &c;
  ++l.accept_len_;
  notify(l);
}

// ---- Listener ----

Connection* Listener::accept() noexcept {
  Connection* c = accept_head_;
  if (c == nullptr) return nullptr;
  accept_head_ = c->qnext_;
  if (accept_head_ == nullptr) accept_tail_ = nullptr;
  c->qnext_ = nullptr;
  --accept_len_;
  c->parent_ = nullptr;
  c->accepted_ = true;
  c->app_owned_ = true;
  // Data or a FIN that came before accept() is news for the application.
  uint32_t e = 0;
  if (!c->rcvq_.empty() || c->fin_rcvd_) e |= ev::readable;
  if (c->fin_rcvd_) e |= ev::peer_closed;
  if (e != 0) tcp_.notify(*c, e);
  return c;
}

void Listener::close() noexcept { tcp_.close_listener(this); }

// ---- Connection: application calls ----

uint32_t Connection::send_space() const noexcept {
  if (sndq_.mem() >= tcp_.send_mem_limit(*this)) return 0;  // tiny packets: truesize, not bytes
  if (tcp_.mem_.used >= tcp_.mem_limit_ - tcp_.guard_ && tcp_.core_free(*this) == 0)
    return 0;  // the core's TCP memory is used up (out-of-order data of others counts as free)
  return sndq_.bytes() >= opt_.send_buffer ? 0 : opt_.send_buffer - sndq_.bytes();
}

Result<size_t> Connection::send(Packet& data, uint32_t flags) noexcept {
  if (err_) return *err_;
  if (fin_queued_) return make_error(Errc::closed, "send after shutdown");
  if (st_ == State::closed || st_ == State::time_wait)
    return make_error(Errc::not_connected, "not connected");
  const uint32_t space = send_space();
  if (space == 0 || !tcp_.send_mem_ok(*this)) {
    want_writable_ = true;
    return make_error(Errc::would_block, "send buffer full");
  }
  if (!data) return size_t{0};
  size_t n = data.length();
  if (n > space) {
    // Whole segments while the buffer has room: the overshoot is less than one segment.
    Packet rest = data.split_segments(space);
    n = data.length();
    sndq_.append(std::move(data));
    data = std::move(rest);
    want_writable_ = true;
  } else {
    sndq_.append(std::move(data));
  }
  after_send(flags);
  return n;
}

// Common tail of send() and send_copy(): the more flag, the not-sent low-water mark, output.
void Connection::after_send(uint32_t flags) noexcept {
  more_ = (flags & send_flag::more) != 0;
  if (!more_ && !opt_.cork) cork_due_ns_ = 0;
  // TCP_NOTSENT_LOWAT: the application waits for ev::writable until the unsent part drains.
  if (opt_.notsent_lowat != 0 && notsent() >= opt_.notsent_lowat) want_writable_ = true;
  if (st_ != State::syn_sent && st_ != State::syn_received) tcp_.schedule(*this);
}

uint32_t Connection::notsent() const noexcept {
  const wire::SeqNum sent = wire::seq_max(snd_nxt_, snd_max_);
  const wire::SeqNum end = send_end();
  return end > sent ? static_cast<uint32_t>(end - sent) : 0;
}

bool Connection::writable_now() const noexcept {
  const uint32_t buf = opt_.send_buffer;
  const uint32_t mark = opt_.send_lowat != 0 ? std::min(opt_.send_lowat, buf) : buf / 3;
  if (opt_.notsent_lowat != 0 && notsent() >= opt_.notsent_lowat) return false;  // TCP_NOTSENT_LOWAT
  return send_space() >= std::max<uint32_t>(mark, 1);
}

void Connection::on_sent(SentCallback cb) {
  sent_cb_ = std::move(cb);
  acked_reported_ = bytes_acked_;
}

Result<size_t> Connection::send_copy(std::span<const uint8_t> data, uint32_t flags) noexcept {
  if (err_) return *err_;
  if (fin_queued_) return make_error(Errc::closed, "send after shutdown");
  if (st_ == State::closed || st_ == State::time_wait)
    return make_error(Errc::not_connected, "not connected");
  uint32_t space = send_space();
  if (data.empty()) return size_t{0};
  if (space == 0 || !tcp_.send_mem_ok(*this)) {
    want_writable_ = true;
    return make_error(Errc::would_block, "send buffer full");
  }
  uint32_t n = sndq_.append_copy(data.first(std::min<size_t>(space, data.size())), tcp_.pool_);
  if (n < data.size()) want_writable_ = true;
  if (n == 0) return make_error(Errc::no_memory, "no mbuf for the data");
  after_send(flags);
  return size_t{n};
}

bool Connection::recv(Packet& out, uint32_t max) noexcept {
  if (rcvq_.empty()) return false;
  out = rcvq_.pop(max, tcp_.pool_);
  if (!out) return false;
  tcp_.maybe_window_update(*this);
  return true;
}

Result<size_t> Connection::recv_copy(std::span<uint8_t> out) noexcept {
  if (rcvq_.empty()) {
    if (fin_rcvd_) return size_t{0};
    if (err_) return *err_;
    if (st_ == State::closed) return make_error(Errc::not_connected, "not connected");
    return make_error(Errc::would_block, "no data yet");
  }
  uint32_t n = rcvq_.pop_copy(out);
  tcp_.maybe_window_update(*this);
  return size_t{n};
}

Status Connection::shutdown() noexcept {
  switch (st_) {
    case State::syn_sent:
    case State::syn_received:
    case State::established:
      fin_queued_ = true;
      if (st_ == State::established) tcp_.set_state(*this, State::fin_wait_1);
      tcp_.schedule(*this);
      return {};
    case State::close_wait:
      fin_queued_ = true;
      tcp_.set_state(*this, State::last_ack);  // RFC 9293 §3.10.4 CLOSE in CLOSE-WAIT
      tcp_.schedule(*this);
      return {};
    default:
      if (fin_queued_) return {};
      return make_error(Errc::not_connected, "shutdown: not connected");
  }
}

void Connection::close() noexcept {
  Tcp& tcp = tcp_;
  if (!app_owned_) return;
  bool unread = !rcvq_.empty();
  bool linger0 = opt_.linger_ns && *opt_.linger_ns == 0;
  if (unread || linger0) {
    if (st_ != State::closed && st_ != State::time_wait && st_ != State::syn_sent) {
      abort();  // RFC 1122 §4.2.2.13 / RFC 2525 §2.17: data would be lost: reset
      return;
    }
  }
  release_handle();
  if (st_ == State::closed || st_ == State::time_wait) {
    tcp.destroy(this);
    return;
  }
  if (st_ == State::syn_sent) {  // RFC 9293 §3.10.4: CLOSE in SYN-SENT deletes the TCB
    tcp.release(this);
    return;
  }
  rcvq_.clear();
  if (!fin_queued_) (void)shutdown();
  if (opt_.linger_ns) close_deadline_ns_ = tcp.now_ + *opt_.linger_ns;
  // Arm the orphan deadlines now (FIN-WAIT-2 lifetime, linger): a connection already in
  // FIN-WAIT-2 would otherwise never get one (RFC 9293 §3.10.4 leaves FIN-WAIT-2 open-ended).
  tcp.arm_keepalive(*this);
}

void Connection::abort() noexcept {
  Tcp& tcp = tcp_;
  if (app_owned_) release_handle();
  if (st_ != State::closed && st_ != State::time_wait && st_ != State::syn_sent) {
    tcp.send_rst(*this);  // RFC 9293 §3.10.5 ABORT
  }
  rcvq_.clear();
  if (st_ == State::time_wait) {
    tcp.destroy(this);
    return;
  }
  tcp.release(this);
}

void Connection::set_nodelay(bool on) noexcept {
  opt_.nodelay = on;
  if (on && !sndq_.empty()) tcp_.schedule(*this);
}

void Connection::set_user_timeout(uint64_t ns) noexcept { opt_.user_timeout_ns = ns; }

void Connection::set_notsent_lowat(uint32_t bytes) noexcept {
  opt_.notsent_lowat = bytes;
  if (bytes != 0 && notsent() >= bytes) want_writable_ = true;
  if (want_writable_ && writable_now()) tcp_.notify(*this, ev::writable);
}

Status Connection::set_max_segment(uint16_t mss) noexcept {
  if (mss != 0 && mss < 88) return make_error(Errc::invalid_argument, "max segment: 0 or 88..65535");
  opt_.max_segment = mss;
  // Open already: only lower what is in use (the peer was told our MSS in the SYN).
  if (mss != 0 && st_ != State::closed && st_ != State::syn_sent) tcp_.shrink_mss(*this, mss);
  return {};
}

void Connection::set_cork(bool on) noexcept {
  opt_.cork = on;
  if (!on) {
    // Uncorking pushes a held partial segment at once (Linux TCP_CORK).
    cork_due_ns_ = 0;
    cork_flush_ = true;
    if (!sndq_.empty()) tcp_.schedule(*this);
  }
}

void Connection::set_keepalive(const KeepaliveOptions& k) noexcept {
  opt_.keepalive = k;
  tcp_.arm_keepalive(*this);
}

Status Connection::set_send_buffer(uint32_t bytes) noexcept {
  if (bytes < 4096 || bytes > (64u << 20))
    return make_error(Errc::invalid_argument, "send buffer: 4 KiB..64 MiB");
  opt_.send_buffer = bytes;
  if (want_writable_ && writable_now()) tcp_.notify(*this, ev::writable);
  return {};
}

Status Connection::set_recv_buffer(uint32_t bytes) noexcept {
  uint32_t limit = st_ == State::closed || st_ == State::syn_sent ? (64u << 20) : (65535u << rcv_wscale_);
  if (bytes < 4096 || bytes > limit) {
    return make_error(
        Errc::invalid_argument,
        "receive buffer: 4 KiB..64 MiB, and within the window scale agreed at connection start");
  }
  opt_.recv_buffer = bytes;
  tcp_.maybe_window_update(*this);
  return {};
}

void Connection::set_congestion(CcAlgo a) noexcept {
  opt_.congestion = a;
  if (st_ != State::syn_sent && st_ != State::closed) cc_.set_algo(a, tcp_.now_);
}

TcpInfo Connection::info() const noexcept {
  TcpInfo i;
  i.state = st_;
  i.congestion = opt_.congestion;
  i.mss = tcp_.effective_mss(*this);
  i.cwnd = cc_.cwnd();
  i.ssthresh = cc_.ssthresh();
  i.srtt_ns = rtt_.srtt_ns();
  i.rttvar_ns = rtt_.rttvar_ns();
  i.rto_ns = rtt_.rto_ns();
  i.retransmits = retransmits_;
  i.backoffs = rtt_.backoffs();
  i.bytes_in_flight = tcp_.flight(*this);
  i.bytes_sent = bytes_sent_;
  i.bytes_acked = bytes_acked_;
  i.bytes_received = bytes_received_;
  i.snd_wnd = snd_wnd_;
  i.rcv_wnd = rcv_wnd_;
  i.snd_wscale = snd_wscale_;
  i.rcv_wscale = rcv_wscale_;
  i.timestamps = ts_ok_;
  i.sack = sack_ok_;
  i.nodelay = opt_.nodelay;
  i.send_queued = sndq_.bytes();
  i.recv_queued = rcvq_.bytes();
  i.ooo_queued = ooo_.bytes();
  i.ooo_segments = ooo_.count();
  i.send_mem = sndq_.mem();
  i.recv_mem = rcvq_.mem();
  i.ooo_mem = ooo_.mem();
  i.send_mem_limit = tcp_.send_mem_limit(*this);
  i.recv_mem_limit = tcp_.recv_mem_limit(*this);
  if (in_recovery_) {
    i.ca_state = CaState::recovery;
  } else if (in_loss_) {
    i.ca_state = CaState::loss;
  } else if (dupacks_ > 0 || !sb_.empty()) {
    i.ca_state = CaState::disorder;
  }
  i.lost = rack_.lost_bytes(sb_);
  i.sacked = sb_.sacked_bytes();
  i.notsent = notsent();
  i.reordering = rack_.reordering_seen();
  i.reo_wnd_mult = rack_.reo_wnd_mult();
  i.min_rtt_ns = rack_.min_rtt_ns();
  i.delivery_rate = delivery_rate_;
  const uint64_t now = tcp_.now_;
  i.busy_ns = busy_ns_ + (busy_since_ns_ != 0 && now > busy_since_ns_ ? now - busy_since_ns_ : 0);
  i.rwnd_limited_ns = rwnd_ns_ + (rwnd_since_ns_ != 0 && now > rwnd_since_ns_ ? now - rwnd_since_ns_ : 0);
  i.undos = cc_.undos();
  i.in_slow_start = cc_.in_slow_start();
  i.hystart_css = cc_.in_css();
  i.user_timeout_ns = opt_.user_timeout_ns;
  i.notsent_lowat = opt_.notsent_lowat;
  i.cork = opt_.cork;
  i.ecn = ecn_ok_;
  return i;
}

}  // namespace tern::tcp

namespace tern::tcp {

// ICMP errors about segments we sent (RFC 1122 §4.2.3.9, RFC 1191, RFC 5461, RFC 5927).
// Icmp checked the quoted source is ours and a frag-needed quotes a DF datagram.
void Tcp::icmp_error(const l3::IcmpError& err, uint64_t now) {
  now_ = now;
  Connection* c = icmp_match(err);
  if (c == nullptr) return;
  if (err.type == wire::icmp_type::dest_unreachable && err.code == wire::icmp_code::frag_needed) {
    pmtu_reduced(*c, err.next_hop_mtu);
    return;
  }
  if (c->st_ == State::syn_sent || c->st_ == State::syn_received) {
    icmp_connecting(*c, err);
  } else {
    soft_error(*c, err);
  }
}

// The connection the quoted segment belongs to, if the error is believable: the
// quoted sequence number must be in flight, SND.UNA <= SEG.SEQ < SND.NXT
// (RFC 5927 §4.1, §7.2; SND.NXT is snd_max_, the highest sent, since
// snd_nxt_ goes back on retransmission). Everything else is counted and ignored.
Connection* Tcp::icmp_match(const l3::IcmpError& err) {
  FourTuple t;
  t.local_ip = err.src.v;
  t.remote_ip = err.dst.v;
  t.local_port = load_be16(err.quoted_l4.data());  // Icmp guarantees 8 quoted bytes
  t.remote_port = load_be16(err.quoted_l4.data() + 2);
  Connection* c = find(t);
  if (c == nullptr) {
    stats_.drop(TcpDrop::icmp_no_connection);
    return nullptr;
  }
  SeqNum seq{load_be32(err.quoted_l4.data() + 4)};
  if (seq < c->snd_una_ || seq >= c->snd_max_) {
    stats_.drop(TcpDrop::icmp_not_in_flight);
    return nullptr;
  }
  return c;
}

// RFC 1191 §6.3: lower the path MTU (Ipv4 applies the floor and never raises
// it), shrink the MSS to the new path and resend at once what is in flight.
void Tcp::pmtu_reduced(Connection& c, uint16_t mtu) {
  wire::Ipv4Addr dst{c.t_.remote_ip};
  ip_.update_pmtu(dst, mtu, now_);
  if (!shrink_mss(c, path_mss(dst))) return;  // this connection already sends within it
  ++stats_.pmtu_updates;
  if (c.st_ == State::syn_sent || c.st_ == State::syn_received) return;  // a SYN is small
  c.snd_nxt_ = c.snd_una_;
  c.rtt_timing_ = false;
  uint32_t span = retransmit_head(c);
  c.snd_nxt_ = c.snd_una_ + span;
  schedule(c);
}

namespace {
// What an ICMP error means for a connection, kept in one byte per TCB (Connection::soft_err_;
// 0: none). RFC 1122 §4.2.3.9: protocol and port unreachable are the hard kind (kRefused).
enum ErrorKind : uint8_t { kNoSoftError, kRefused, kUnreachable, kTimeExceeded, kParamProblem };

uint8_t error_kind(const l3::IcmpError& err) {
  if (err.type == wire::icmp_type::dest_unreachable) {
    const bool hard =
        err.code == wire::icmp_code::protocol_unreachable || err.code == wire::icmp_code::port_unreachable;
    return hard ? kRefused : kUnreachable;
  }
  return err.type == wire::icmp_type::time_exceeded ? kTimeExceeded : kParamProblem;
}

std::optional<Error> soft_error_of(uint8_t kind) {
  switch (kind) {
    case kRefused:
      return Error{Errc::connection_refused, "connection refused: ICMP protocol or port unreachable"};
    case kUnreachable:
      return Error{Errc::host_unreachable, "ICMP: destination unreachable"};
    case kTimeExceeded:
      return Error{Errc::host_unreachable, "ICMP: time exceeded in transit"};
    case kParamProblem:
      return Error{Errc::host_unreachable, "ICMP: parameter problem"};
    default:
      return std::nullopt;
  }
}
}  // namespace

// Before synchronization any destination unreachable ends the attempt (hard
// errors per RFC 1122 §4.2.3.9, the others as Linux does); time exceeded and
// parameter problem are remembered and reported if the handshake times out.
void Tcp::icmp_connecting(Connection& c, const l3::IcmpError& err) {
  if (err.type != wire::icmp_type::dest_unreachable) {
    soft_error(c, err);
    return;
  }
  ++stats_.icmp_hard_errors;
  if (c.st_ == State::syn_received && c.parent_ != nullptr && !c.accepted_) {
    ++stats_.attempt_fails;
    release(&c);
    return;
  }
  const Error e = *soft_error_of(error_kind(err));
  fail(c, e.code, e.reason);
}

std::optional<Error> Connection::soft_error() const noexcept { return soft_error_of(soft_err_); }

// RFC 5461 §4 (and Linux): once synchronized, every ICMP error is soft, even
// protocol and port unreachable (deviation from RFC 1122 §4.2.3.9's MUST abort,
// which makes a spoofed error with a guessed sequence number a blind reset).
// It is recorded and announced; the connection ends only when a timer gives up
// (give_up()), with this error as the reason if nothing was acknowledged since.
void Tcp::soft_error(Connection& c, const l3::IcmpError& err) {
  ++stats_.icmp_soft_errors;
  c.soft_err_ = error_kind(err);
  c.soft_una_ = c.snd_una_;
  notify(c, ev::soft_error);
}

// A retransmission, persist or keepalive timer ran out: end the connection with
// the soft error if it still applies (no progress since), else timed out
// (Linux: sk_err_soft, else ETIMEDOUT).
void Tcp::give_up(Connection& c, std::string_view reason) {
  auto soft = soft_error_of(c.soft_err_);
  if (soft && c.snd_una_ == c.soft_una_) {
    fail(c, soft->code, soft->reason);
  } else {
    fail(c, Errc::timed_out, reason);
  }
}

}  // namespace tern::tcp
