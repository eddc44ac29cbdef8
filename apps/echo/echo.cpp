// tern-echo services: UDP and TCP echo servers, and the client/load mode.
// Everything runs inside one Core's poll loop through tern's callbacks.
#include "echo.hpp"

#include <algorithm>
#include <cstdio>
#include <vector>

#include "tern/base/json.hpp"
#include "tern/base/log.hpp"
#include "tern/tcp/tcp.hpp"
#include "tern/udp/udp.hpp"

namespace tern::apps {

void serve_udp_echo(Core& core, uint16_t port) {
  auto s = core.udp().bind(port);
  if (!s) {
    TERN_LOG_ERROR("core %u: cannot bind UDP port %u: %.*s", core.index(), port,
                   static_cast<int>(s.error().reason.size()), s.error().reason.data());
    return;
  }
  (*s)->on_readable([](udp::Socket& sock) {
    udp::Datagram d;
    while (sock.recv(d)) {
      // Never answer a broadcast (amplification) or another echo/chargen
      // service or port 0 (two echo servers would ping-pong forever).
      if (d.broadcast || d.from.port == 0 || d.from.port == 7 || d.from.port == 19) continue;
      // Zero copy: the received payload mbufs go back out behind new
      // headers, from the address the request was sent to.
      (void)sock.send(d.from, std::move(d.payload), d.to.addr);
    }
    (void)sock.take_error();
  });
}

// ---- TCP echo server ----

namespace {

// "timed_out (keepalive: the peer stopped answering)", or "?" when no error is recorded.
std::string describe_error(const tcp::Connection& c) {
  auto e = c.error();
  if (!e) return "?";
  return std::string(to_string(e->code)) + " (" + std::string(e->reason) + ")";
}

struct EchoConn {
  Packet pending;  // received, not yet taken by send() (send buffer full)
};

void finish(tcp::Connection& c) {
  delete static_cast<EchoConn*>(c.user);
  c.user = nullptr;
  c.close();
}

// Echo what arrived: each received chain goes back in the same mbufs.
void pump(tcp::Connection& c, uint32_t events) {
  auto* ec = static_cast<EchoConn*>(c.user);
  if (ec == nullptr) return;
  if (events & tcp::ev::error) {
    auto r = c.remote();
    std::fprintf(stderr, "tern-echo: connection from %s:%u failed: %s\n", r.addr.to_string().c_str(), r.port,
                 describe_error(c).c_str());
    finish(c);
    return;
  }
  for (;;) {
    if (ec->pending) {
      auto r = c.send(ec->pending);
      if (!r) {
        if (r.error().code == Errc::would_block) return;  // resume on ev::writable; stop reading meanwhile
        finish(c);
        return;
      }
      if (ec->pending) return;  // taken in part (send() bounds its overshoot): the rest on ev::writable
    }
    Packet p;
    if (!c.recv(p)) break;
    ec->pending = std::move(p);
  }
  if (c.at_eof()) finish(c);  // the peer is done: FIN after the echoed data
}

}  // namespace

void serve_tcp_echo(Core& core, uint16_t port, uint32_t backlog,
                    const std::optional<tcp::KeepaliveOptions>& keepalive, uint32_t fastopen) {
  tcp::ListenOptions lo;
  lo.backlog = backlog;
  lo.fastopen = fastopen;
  auto l = core.tcp().listen(port, lo);
  if (!l) {
    TERN_LOG_ERROR("core %u: cannot listen on TCP port %u: %.*s", core.index(), port,
                   static_cast<int>(l.error().reason.size()), l.error().reason.data());
    return;
  }
  (*l)->on_event([keepalive](tcp::Listener& lis, uint32_t) {
    while (tcp::Connection* c = lis.accept()) {
      if (keepalive) c->set_keepalive(*keepalive);
      c->user = new EchoConn;
      c->on_event([](tcp::Connection& conn, uint32_t e) { pump(conn, e); });
    }
  });
}

void serve_tcp_discard(Core& core, uint16_t port, uint32_t backlog) {
  tcp::ListenOptions lo;
  lo.backlog = backlog;
  auto l = core.tcp().listen(port, lo);
  if (!l) {
    TERN_LOG_ERROR("core %u: cannot listen on TCP port %u: %.*s", core.index(), port,
                   static_cast<int>(l.error().reason.size()), l.error().reason.data());
    return;
  }
  (*l)->on_event([](tcp::Listener& lis, uint32_t) {
    while (tcp::Connection* c = lis.accept()) {
      c->on_event([](tcp::Connection& conn, uint32_t e) {
        Packet p;
        while (conn.recv(p)) p = Packet{};  // RFC 863: throw it away (frees the mbufs)
        if ((e & tcp::ev::error) || conn.at_eof()) conn.close();
      });
    }
  });
}

// ---- client / load mode ----

namespace {

uint8_t pattern_byte(uint32_t conn, uint64_t txn, uint32_t off) {
  return static_cast<uint8_t>(conn * 131u + txn * 17u + off * 7u + (off >> 8));
}

}  // namespace

class Client {
 public:
  Client(Core& core, const ClientOptions& o, std::atomic<bool>& stop,
         std::shared_ptr<std::atomic<uint32_t>> running)
      : core_(core), core_index_(core.index()), o_(o), stop_(stop), running_(std::move(running)) {}

  /** Add this core's results into @p total (one report for every core's client). */
  void merge_into(Client& total) const {
    total.lat_.insert(total.lat_.end(), lat_.begin(), lat_.end());
    total.txns_ += txns_;
    total.errors_ += errors_;
    total.verify_errors_ += verify_errors_;
    total.connect_failures_ += connect_failures_;
    total.bytes_verified_ += bytes_verified_;
    total.bytes_sent_ += bytes_sent_;
    auto lo = [](uint64_t a, uint64_t b) { return a == 0 ? b : b == 0 ? a : std::min(a, b); };
    total.start_ns_ = lo(total.start_ns_, start_ns_);
    total.first_up_ns_ = lo(total.first_up_ns_, first_up_ns_);
    total.end_ns_ = std::max(total.end_ns_, end_ns_);
    total.per_core_.push_back({core_index_, o_.connections, txns_});  // the Core may be gone by now
  }

  struct Conn {
    Client* self = nullptr;
    uint32_t idx = 0;
    tcp::Connection* tcp = nullptr;
    udp::Socket* udp = nullptr;
    uint64_t txn = 0;
    uint32_t sent = 0, got = 0;
    uint64_t t0 = 0;
    uint64_t retry_at = 0;  // short mode: when a failed slot connects again
    bool up = false, dead = false;
  };

  void start(uint64_t now) {
    start_ns_ = now;
    conns_.resize(o_.connections);
    msg_.resize(o_.message_size);
    lat_.reserve(1 << 20);
    for (uint32_t i = 0; i < o_.connections; ++i) {
      Conn& k = conns_[i];
      k.self = this;
      k.idx = i;
      if (o_.udp) {
        auto s = bind_udp();
        if (!s) {
          ++connect_failures_;
          k.dead = true;
          continue;
        }
        k.udp = *s;
        k.up = true;
        k.udp->on_readable([&k](udp::Socket&) { k.self->udp_readable(k); });
        send_udp(k, now);
      } else {
        open_tcp(k, now);
      }
    }
  }

  // Connect slot @p k (again, in short mode). A failure to even start is counted and retried later.
  void open_tcp(Conn& k, uint64_t now) {
    tcp::ConnectOptions co;
    tcp::SocketOptions so = core_.tcp().params().socket;
    so.nodelay = o_.nodelay;
    if (o_.keepalive) so.keepalive = *o_.keepalive;
    co.socket = so;
    co.fastopen = o_.fastopen;
    k.t0 = now;
    k.up = false;
    k.sent = k.got = 0;
    auto c = core_.tcp().connect(tcp::Endpoint{o_.server, o_.port}, co);
    if (!c) {
      ++connect_failures_;
      ++failures_in_row_;
      k.dead = true;
      k.retry_at = now + 1'000'000;
      if (!o_.short_conn || failures_in_row_ == 1)
        TERN_LOG_WARN("connect: %.*s", static_cast<int>(c.error().reason.size()), c.error().reason.data());
      return;
    }
    k.dead = false;
    k.tcp = *c;
    k.tcp->on_event([&k](tcp::Connection&, uint32_t e) { k.self->tcp_event(k, e); });
    // Fast Open: the first message is queued now, before the SYN leaves (it rides on the SYN when
    // a cookie for the server is cached).
    if (o_.fastopen && !o_.udp && !o_.bulk && !draining_) begin_txn(k, now);
  }

  void tick(uint64_t now) {
    if (start_ns_ == 0) {
      // The clock starts once the link is up (a memif peer may still be connecting): SYNs sent
      // into a down link would wait for their RTO and a short run would measure nothing. At most
      // 5 s, then the run starts anyway (and reports what it could do).
      if (first_tick_ns_ == 0) first_tick_ns_ = now;
      if (!core_.links_up() && now - first_tick_ns_ < 5'000'000'000) return;
      start(now);
    }
    uint64_t deadline = start_ns_ + static_cast<uint64_t>(o_.duration_s * 1e9);
    if (!draining_ && now >= deadline) {
      draining_ = true;
      end_ns_ = now;
      drain_deadline_ = now + 2'000'000'000;
      // A request in flight finishes first (its echo would otherwise meet a closed socket and be
      // answered with a reset); the rest close now. Short and bulk connections close at once.
      for (Conn& k : conns_) {
        const bool mid_txn =
            !o_.udp && !o_.short_conn && !o_.bulk && k.up && k.sent > 0 && k.got < o_.message_size;
        if (!mid_txn) close_conn(k, false);
      }
    }
    if (draining_) {
      if (core_.tcp().connections() == 0 || now >= drain_deadline_) finish();
      return;
    }
    if (o_.short_conn && failures_in_row_ > 1000) {
      TERN_LOG_ERROR("short connections: 1000 connects in a row failed; stopping");
      stop_.store(true);
      return;
    }
    for (Conn& k : conns_) {
      if (k.dead) {
        if (o_.short_conn && now >= k.retry_at) open_tcp(k, now);
        continue;
      }
      if (!k.up && k.tcp != nullptr && now - k.t0 > static_cast<uint64_t>(o_.connect_timeout_s * 1e9)) {
        ++connect_failures_;
        ++failures_in_row_;
        close_conn(k, true);
        k.retry_at = now;
      }
      if (o_.udp && k.up && k.t0 != 0 && now - k.t0 > 1'000'000'000) {
        ++errors_;  // a datagram or its echo was lost: count and go on
        send_udp(k, now);
      }
    }
  }

  std::string json() const {
    std::vector<uint32_t> l = lat_;
    std::sort(l.begin(), l.end());
    auto pct = [&](double q) -> double {
      if (l.empty()) return 0;
      size_t i = std::min(l.size() - 1, static_cast<size_t>(q * static_cast<double>(l.size())));
      return l[i] / 1000.0;
    };
    uint64_t end = end_ns_ != 0 ? end_ns_ : start_ns_;
    double secs = static_cast<double>(end - (first_up_ns_ != 0 ? first_up_ns_ : start_ns_)) / 1e9;
    JsonWriter w;
    w.begin_object();
    w.kv("mode", o_.udp ? "udp" : o_.short_conn ? "short" : o_.bulk ? "bulk" : "tcp");
    char srv[32];
    std::snprintf(srv, sizeof srv, "%s:%u", o_.server.to_string().c_str(), o_.port);
    w.kv("server", srv)
        .kv("connections", uint64_t{o_.connections})
        .kv("message_size", uint64_t{o_.message_size});
    // Bulk counts whole chunks handed to the stack as its transactions.
    const uint64_t txns = o_.bulk ? bytes_sent_ / o_.message_size : txns_;
    w.kv("seconds", secs).kv("transactions", txns);
    w.kv("tps", secs > 0 ? static_cast<double>(txns) / secs : 0.0);
    w.key("latency_us").begin_object();
    w.kv("p50", pct(0.50)).kv("p90", pct(0.90)).kv("p99", pct(0.99)).kv("p999", pct(0.999));
    w.kv("max", l.empty() ? 0.0 : l.back() / 1000.0);
    w.end_object();
    w.kv("errors", errors_).kv("verify_errors", verify_errors_).kv("connect_failures", connect_failures_);
    w.kv("bytes_verified", bytes_verified_).kv("bytes_sent", bytes_sent_);
    w.kv("gbps", secs > 0 ? static_cast<double>(bytes_sent_) * 8 / secs / 1e9 : 0.0);
    w.key("per_core").begin_array();
    for (const auto& pc : per_core_) {
      w.begin_object().kv("core", uint64_t{pc.core}).kv("connections", uint64_t{pc.connections});
      w.kv("transactions", pc.transactions).end_object();
    }
    w.end_array();
    w.end_object();
    return w.str();
  }
  bool ok() const {
    // Short connections may lose a connect to a full backlog now and then (counted, retried).
    const bool connects_ok = o_.short_conn || connect_failures_ == 0;
    return errors_ == 0 && verify_errors_ == 0 && connects_ok && (o_.bulk ? bytes_sent_ > 0 : txns_ > 0);
  }

 private:
  void fill(const Conn& k) {
    // msg_ is shared by all connections: rebuild it only when it holds another message
    // (rebuilding a 16 MiB message on every ev::writable made large messages crawl).
    if (msg_valid_ && msg_conn_ == k.idx && msg_txn_ == k.txn) return;
    for (uint32_t j = 0; j < o_.message_size; ++j) msg_[j] = pattern_byte(k.idx, k.txn, j);
    msg_valid_ = true;
    msg_conn_ = k.idx;
    msg_txn_ = k.txn;
  }

  void begin_txn(Conn& k, uint64_t now) {
    k.sent = k.got = 0;
    if (!o_.short_conn) k.t0 = now;  // short: from the connect
    if (o_.bulk) {
      send_bulk(k);
      return;
    }
    fill(k);
    send_more(k);
  }

  // Bulk: keep the send buffer full of one fixed chunk; nothing comes back.
  void send_bulk(Conn& k) {
    fill(k);
    while (!draining_ && k.tcp != nullptr) {
      auto r = k.tcp->send_copy(msg_);
      if (!r) {
        if (r.error().code != Errc::would_block) {
          ++errors_;
          close_conn(k, true);
        }
        return;  // resumes on ev::writable
      }
      if (*r == 0) return;
      bytes_sent_ += *r;
    }
  }

  void send_more(Conn& k) {
    while (k.sent < o_.message_size) {
      auto r = k.tcp->send_copy(std::span<const uint8_t>(msg_).subspan(k.sent));
      if (!r) {
        if (r.error().code != Errc::would_block) {
          ++errors_;
          close_conn(k, true);
        }
        return;  // resumes on ev::writable
      }
      if (*r == 0) return;
      // send_copy took a prefix: the rest of msg_ is rebuilt on writable.
      k.sent += static_cast<uint32_t>(*r);
    }
  }

  void tcp_event(Conn& k, uint32_t e) {
    if (k.dead) return;
    uint64_t now = core_.tcp().now();
    if (e & tcp::ev::error) {
      if (o_.short_conn && !k.up) {  // refused or timed out: count, retry shortly
        ++connect_failures_;
        ++failures_in_row_;
        close_conn(k, false);
        k.retry_at = now + 1'000'000;
        return;
      }
      std::fprintf(stderr, "tern-echo: client connection %u failed: %s\n", k.idx,
                   describe_error(*k.tcp).c_str());
      if (!draining_) ++errors_;
      close_conn(k, false);
      return;
    }
    if ((e & tcp::ev::connected) && !k.up) {
      k.up = true;
      failures_in_row_ = 0;
      if (first_up_ns_ == 0) first_up_ns_ = now;
      if (!draining_ && k.sent == 0) begin_txn(k, now);  // (a Fast Open connect began it already)
    }
    if (o_.bulk) {
      if ((e & tcp::ev::writable) && k.up) send_bulk(k);
      Packet p;
      while (!k.dead && k.tcp->recv(p)) ++errors_;  // a discard server sends nothing
      return;
    }
    if (e & tcp::ev::writable && k.up && k.sent < o_.message_size && !draining_) {
      fill(k);
      send_more(k);
    }
    Packet p;
    while (!k.dead && k.tcp->recv(p)) {
      bool good = true;
      uint32_t off = k.got;
      p.for_each_segment([&](std::span<const uint8_t> s) {
        for (uint8_t b : s) {
          if (off >= o_.message_size || b != pattern_byte(k.idx, k.txn, off)) good = false;
          ++off;
        }
      });
      if (!good) {
        ++verify_errors_;
        close_conn(k, true);
        return;
      }
      bytes_verified_ += p.length();
      k.got = off;
      if (k.got == o_.message_size && k.sent == o_.message_size) {
        lat_.push_back(static_cast<uint32_t>(std::min<uint64_t>(now - k.t0, UINT32_MAX)));
        ++txns_;
        ++k.txn;
        if (o_.short_conn) {
          // Reset after the verified echo (as load generators do with SO_LINGER 0): a FIN would
          // leave each port in TIME_WAIT and cap the rate at the ephemeral range per 2 x MSL.
          close_conn(k, true);
          if (!draining_) open_tcp(k, now);
          return;
        }
        if (!draining_) {
          begin_txn(k, now);
        } else {
          close_conn(k, false);
          return;
        }
      }
    }
    if (!k.dead && k.tcp->at_eof()) {
      if (!draining_) ++errors_;  // the server closed on us
      close_conn(k, false);
    }
  }

  void send_udp(Conn& k, uint64_t now) {
    k.t0 = now;
    fill(k);
    udp::Endpoint to{o_.server, o_.port};
    if (!k.udp->send_copy(to, msg_)) ++errors_;
  }

  void udp_readable(Conn& k) {
    uint64_t now = core_.tcp().now();
    udp::Datagram d;
    while (k.udp->recv(d)) {
      bool good = d.payload.length() == o_.message_size;
      uint32_t off = 0;
      d.payload.for_each_segment([&](std::span<const uint8_t> s) {
        for (uint8_t b : s) good = good && b == pattern_byte(k.idx, k.txn, off++);
      });
      if (!good) {
        ++verify_errors_;  // late echo of an earlier (timed out) datagram, or corrupt
        continue;
      }
      if (first_up_ns_ == 0) first_up_ns_ = k.t0;
      bytes_verified_ += o_.message_size;
      lat_.push_back(static_cast<uint32_t>(std::min<uint64_t>(now - k.t0, UINT32_MAX)));
      ++txns_;
      ++k.txn;
      if (!draining_) {
        send_udp(k, now);
      } else {
        k.t0 = 0;
      }
    }
    (void)k.udp->take_error();
  }

  void close_conn(Conn& k, bool abort) {
    if (k.dead) return;
    k.dead = true;
    if (k.tcp != nullptr) {
      if (abort) {
        k.tcp->abort();
      } else {
        k.tcp->close();
      }
      k.tcp = nullptr;
    }
    if (k.udp != nullptr) {
      core_.udp().close(k.udp);
      k.udp = nullptr;
    }
  }

  // This core's client is done; the last one to finish stops the stack.
  void finish() {
    if (finished_) return;
    finished_ = true;
    if (running_->fetch_sub(1) == 1) stop_.store(true);
  }
  // A UDP socket whose replies the stack steers back to this core (RSS-aware, like TCP's connect()).
  Result<udp::Socket*> bind_udp() {
    const auto& st = core_.tcp().params().steering;
    if (!st || core_.interface_count() == 0) return core_.udp().bind(0);
    const wire::Ipv4Addr local = core_.interface(0).address();
    for (uint32_t i = 0; i < 16384; ++i) {
      const auto port = static_cast<uint16_t>(49152 + (next_udp_port_++ % 16384));
      if (st->queue_of(o_.server, o_.port, local, port) != core_.tcp().params().rx_queue) continue;
      auto s = core_.udp().bind(port);
      if (s) return s;
    }
    return core_.udp().bind(0);
  }

  struct PerCore {
    uint16_t core;
    uint32_t connections;
    uint64_t transactions;
  };
  Core& core_;
  uint16_t core_index_;
  ClientOptions o_;
  std::atomic<bool>& stop_;
  std::shared_ptr<std::atomic<uint32_t>> running_;
  bool finished_ = false;
  uint32_t next_udp_port_ = 0;
  std::vector<PerCore> per_core_;
  std::vector<Conn> conns_;
  std::vector<uint8_t> msg_;
  bool msg_valid_ = false;  // msg_ holds the message (msg_conn_, msg_txn_)
  uint32_t msg_conn_ = 0;
  uint64_t msg_txn_ = 0;
  std::vector<uint32_t> lat_;
  uint64_t start_ns_ = 0, end_ns_ = 0, first_up_ns_ = 0, drain_deadline_ = 0, first_tick_ns_ = 0;
  uint64_t txns_ = 0, errors_ = 0, verify_errors_ = 0, connect_failures_ = 0, bytes_verified_ = 0;
  uint64_t bytes_sent_ = 0;
  uint32_t failures_in_row_ = 0;
  bool draining_ = false;

  friend std::vector<std::shared_ptr<Client>> start_clients(Stack&, const ClientOptions&, std::atomic<bool>&);
  friend std::string client_json(const std::vector<std::shared_ptr<Client>>&);
};

std::vector<std::shared_ptr<Client>> start_clients(Stack& stack, const ClientOptions& o,
                                                   std::atomic<bool>& stop) {
  const auto n = static_cast<uint32_t>(stack.core_count());
  // Every core opens its share: connect() picks local ports whose replies the port's RSS (or the
  // software steering) brings back to the opening core.
  const uint32_t cores_used = std::max<uint32_t>(1, std::min(n, o.connections));
  auto running = std::make_shared<std::atomic<uint32_t>>(cores_used);
  std::vector<std::shared_ptr<Client>> out;
  for (uint32_t c = 0; c < cores_used; ++c) {
    ClientOptions oc = o;
    oc.connections = o.connections / cores_used + (c < o.connections % cores_used ? 1 : 0);
    auto cl = std::make_shared<Client>(stack.core(c), oc, stop, running);
    stack.core(c).set_on_poll([cl](Core&, uint64_t now) { cl->tick(now); });
    out.push_back(std::move(cl));
  }
  return out;
}

std::string client_json(const std::vector<std::shared_ptr<Client>>& cs) {
  if (cs.empty()) return "{}";
  Client total(cs[0]->core_, cs[0]->o_, cs[0]->stop_, cs[0]->running_);
  total.o_.connections = 0;
  for (const auto& c : cs) {
    c->merge_into(total);
    total.o_.connections += c->o_.connections;
  }
  return total.json();
}

bool client_ok(const std::vector<std::shared_ptr<Client>>& cs) {
  bool ok = !cs.empty();
  for (const auto& c : cs) ok = ok && c->ok();
  return ok;
}

}  // namespace tern::apps
