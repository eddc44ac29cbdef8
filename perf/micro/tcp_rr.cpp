#include "tcp_rr.hpp"

#include <algorithm>

#include "bench_util.hpp"

uint32_t serve_poll(tern::Core& core, uint64_t now) {
  uint32_t n = core.poll(now);
  asm volatile("" : : "r"(n) : "memory");  // keep a real call (no tail jump) for callgrind
  return n;
}

namespace tern::perf {

namespace {

constexpr uint64_t kStep = 1000;  // ns of fake time per poll
const wire::MacAddr kMacClient{{2, 0, 0, 0, 0, 0x0a}};
const wire::MacAddr kMacServer{{2, 0, 0, 0, 0, 0x0b}};
const wire::Ipv4Addr kIpClient = wire::Ipv4Addr::from_octets(198, 18, 0, 1);
const wire::Ipv4Addr kIpServer = wire::Ipv4Addr::from_octets(198, 18, 0, 2);

// The server's echo, as tern-echo's: received chains go back out as they are (zero copy).
struct EchoConn {
  Packet pending;  // received, not yet taken by send() (send buffer full)
};

void echo_pump(tcp::Connection& c, uint32_t events) {
  auto* ec = static_cast<EchoConn*>(c.user);
  if (ec == nullptr) return;
  if (events & tcp::ev::error) {  // the client reset it (teardown)
    delete ec;
    c.user = nullptr;
    c.close();
    return;
  }
  for (;;) {
    if (ec->pending) {
      auto r = c.send(ec->pending);
      if (!r) {
        require(r.error().code == Errc::would_block, "the server's send failed");
        return;  // resume on ev::writable
      }
      if (ec->pending) return;  // taken in part (send() bounds its overshoot): the rest on ev::writable
    }
    Packet p;
    if (!c.recv(p)) break;
    ec->pending = std::move(p);
  }
}

}  // namespace

TcpRr::TcpRr(rte_mempool* pool, size_t msg_size) : msg_(msg_size), got_(msg_size) {
  require(msg_size > 0, "empty messages");
  // The client linearizes what it sends (header mbuf + data are one segment on the wire), so the
  // server receives single-segment frames as from a NIC; PairWire would pass the chain through.
  PortCaps client_caps = plain_caps(kMacClient);
  client_caps.multi_seg_tx = false;
  wire_ = std::make_unique<drivers::PairWire>(client_caps, plain_caps(kMacServer), 4096);
  client_ = std::make_unique<Core>(host_params(wire_->a(), kIpClient, pool));
  server_ = std::make_unique<Core>(host_params(wire_->b(), kIpServer, pool));
  client_->start(now_);
  server_->start(now_);
  client_->interface(0).neighbours().learn(kIpServer, kMacServer, true, now_);
  server_->interface(0).neighbours().learn(kIpClient, kMacClient, true, now_);

  auto l = server_->tcp().listen(kPort);
  require(l.ok(), "the server cannot listen");
  listener_ = *l;
  listener_->on_event([](tcp::Listener& lis, uint32_t) {
    while (tcp::Connection* c = lis.accept()) {
      c->user = new EchoConn;
      c->on_event(echo_pump);
    }
  });
  auto c = client_->tcp().connect(tcp::Endpoint{kIpServer, kPort});
  require(c.ok(), "connect failed");
  conn_ = *c;
  conn_->set_nodelay(true);
  for (int i = 0; i < 4 && conn_->state() != tcp::State::established; ++i) round();
  require(conn_->state() == tcp::State::established, "the connection did not open");
  require(server_->tcp().connections() == 1, "the server did not accept the connection");
}

TcpRr::~TcpRr() {
  // Drop the server side's echo state, then both connections.
  listener_->close();
  conn_->abort();
  round();
  round();
  require(server_->tcp().connections() == 0, "the server kept the connection after the reset");
  client_.reset();
  server_.reset();
  wire_.reset();  // after the cores: their TX queues point into it
}

void TcpRr::round() {
  client_->poll(now_ += kStep);
  serve_poll(*server_, now_ += kStep);
  client_->poll(now_ += kStep);
}

void TcpRr::run(int n) {
  for (int t = 0; t < n; ++t) {
    for (size_t i = 0; i < msg_.size(); ++i) msg_[i] = static_cast<uint8_t>(done_ * 31 + i * 7);
    auto r = conn_->send_copy(msg_);
    require(r.ok() && *r == msg_.size(), "the client's send_copy did not take the message");
    size_t got = 0;
    for (int k = 0; got < msg_.size(); ++k) {
      require(k < 8, "the echo did not come back within 8 rounds");
      round();
      for (;;) {
        auto m = conn_->recv_copy(std::span<uint8_t>(got_).subspan(got));
        if (!m.ok()) {
          require(m.error().code == Errc::would_block, "the client's recv failed");
          break;
        }
        require(*m > 0, "the server closed the connection");
        got += *m;
        if (got == msg_.size()) break;
      }
    }
    require(std::equal(msg_.begin(), msg_.end(), got_.begin()), "the echo differs from the request");
    ++done_;
  }
}

uint64_t TcpRr::retransmits() const noexcept {
  return client_->tcp().stats().retrans_segs + server_->tcp().stats().retrans_segs;
}

}  // namespace tern::perf
