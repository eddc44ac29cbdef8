// The scripted-peer harness for TCP engine tests (tcp_state_test.cpp,
// tcp_icmp_test.cpp). One tern Core (198.18.0.1, PairWire end a) is the stack
// under test; the test itself plays the peer (198.18.0.2) on end b: it builds
// Ethernet/IPv4/TCP frames with the wire types and reads back what the stack
// sent. A fake clock drives every timer (no sleeps).
#pragma once

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "tern/base/byteorder.hpp"
#include "tern/drivers/pair_wire.hpp"
#include "tern/stack/core.hpp"
#include "tern/tcp/tcp.hpp"
#include "tern/wire/ethernet.hpp"
#include "tern/wire/ipv4.hpp"
#include "tern/wire/tcp.hpp"
#include "test_support.hpp"

namespace tern::tcp {

using Bytes = std::vector<uint8_t>;
using wire::Ipv4Addr;
using wire::MacAddr;
using wire::SeqNum;
namespace fl = wire::tcp_flag;

constexpr uint64_t kMs = 1'000'000;
constexpr uint64_t kSec = 1'000'000'000;
constexpr uint64_t kRtt = 10 * kMs;  // the round trip the peer simulates during handshakes

const MacAddr kMacStack{{0x02, 0x00, 0x00, 0x00, 0x00, 0x0a}};
const MacAddr kMacPeer{{0x02, 0x00, 0x00, 0x00, 0x00, 0x0b}};
const Ipv4Addr kIpStack = Ipv4Addr::from_octets(198, 18, 0, 1);
const Ipv4Addr kIpPeer = Ipv4Addr::from_octets(198, 18, 0, 2);
constexpr uint16_t kListenPort = 80;

inline Bytes pattern(size_t n, uint8_t seed = 0) {
  Bytes b(n);
  for (size_t i = 0; i < n; ++i) b[i] = static_cast<uint8_t>(seed + i * 7 + (i >> 11));
  return b;
}

inline PortCaps caps(const MacAddr& mac) {
  PortCaps c;
  c.mac = mac.b;
  c.mtu = 1500;
  return c;
}

/** A segment as the peer saw it on the wire. */
struct Seg {
  bool valid = false;
  uint8_t flags = 0;
  SeqNum seq, ack;
  uint16_t window = 0, urgent = 0, src_port = 0, dst_port = 0;
  wire::TcpOptions opts;
  Bytes payload;
  Bytes ip;  ///< the whole IPv4 datagram as it left the stack (for quoting in ICMP errors)
  /** The IPv4 total length (header + TCP segment). */
  uint32_t ip_len() const { return static_cast<uint32_t>(ip.size()); }
  /** The IPv4 Don't Fragment bit. */
  bool df() const { return ip.size() > 6 && (ip[6] & 0x40) != 0; }
  /** The IPv4 ECN field (RFC 3168 §5: 0 not-ECT, 2 ECT(0), 1 ECT(1), 3 CE). */
  uint8_t ecn() const { return ip.size() > 1 ? static_cast<uint8_t>(ip[1] & 3) : 0; }
  bool has(uint8_t f) const { return (flags & f) == f; }
  /** Flags without PSH (which the stack sets on the last segment of a burst). */
  uint8_t ctl() const { return static_cast<uint8_t>(flags & ~fl::psh); }
  uint32_t len() const { return static_cast<uint32_t>(payload.size()); }
  SeqNum end() const { return seq + len() + (has(fl::syn) ? 1 : 0) + (has(fl::fin) ? 1 : 0); }
};

inline std::string flag_str(uint8_t f) {
  std::string s;
  if (f & fl::syn) s += "S";
  if (f & fl::ack) s += "A";
  if (f & fl::fin) s += "F";
  if (f & fl::rst) s += "R";
  if (f & fl::psh) s += "P";
  if (f & fl::urg) s += "U";
  return s.empty() ? "-" : s;
}

/** What the peer offers in its SYN. */
struct PeerSyn {
  std::optional<uint16_t> mss = 1460;
  std::optional<uint8_t> wscale = 7;
  bool sack = true;
  bool ts = true;
};

// ---------------------------------------------------------------------------
// The harness: one stack, the test as its peer.
// ---------------------------------------------------------------------------
class TcpPeerTest : public ::testing::Test {
 protected:
  TcpPeerTest() : wire_(caps(kMacStack), caps(kMacPeer)) {
    params_.max_connections = 64;
    params_.max_time_wait = 64;
    params_.ooo_nodes = 512;
    params_.socket.send_buffer = 64 * 1024;
    params_.socket.recv_buffer = 64 * 1024;
    params_.quick_acks = 0;  // delayed ACKs as RFC 1122 describes them; quick ACK has its own tests
  }

  void SetUp() override {
    CoreParams p;
    p.pool = test::pool();
    CoreInterface ci;
    ci.port = &wire_.a();
    ci.params.name = "if0";
    ci.params.address = wire::Ipv4Prefix{kIpStack, 24};
    p.interfaces.push_back(ci);
    p.tcp = params_;
    p.ipv4 = ipv4_params_;
    core_ = std::make_unique<Core>(p);
    core_->start(now_);
    relearn();
    core_->poll(now_);
    drain();
  }

  void TearDown() override {
    // Every test ends with its connection gone: abort what is left.
    if (conn_ != nullptr) conn_->abort();
    conn_ = nullptr;
    for (Connection* c : extra_) c->abort();
    extra_.clear();
    if (lst_ != nullptr) lst_->close();
    lst_ = nullptr;
    core_->poll(now_);
    drain();
    EXPECT_EQ(tcp().connections(), 0u);
    core_.reset();
    drain();
  }

  Tcp& tcp() { return core_->tcp(); }
  const TcpStats& stats() { return tcp().stats(); }

  void relearn() { core_->interface(0).neighbours().learn(kIpPeer, kMacPeer, true, now_); }
  /** One loop turn at the current time. */
  void poll() {
    relearn();
    core_->poll(now_);
  }
  /** Move the fake clock by @p ns and run one loop turn (timers due by then fire). */
  void advance(uint64_t ns) {
    now_ += ns;
    poll();
  }

  // ---- sending segments into the stack ----

  /** Put one TCP segment on the wire to the stack and run a loop turn. */
  void send_raw(uint16_t sport, uint16_t dport, uint8_t flags, SeqNum seq, SeqNum ack, const Bytes& data,
                const wire::TcpOptions& opts, uint16_t wnd, uint16_t urgent = 0, bool corrupt = false) {
    wire::TcpHeader th;
    th.src_port = sport;
    th.dst_port = dport;
    th.seq = seq;
    th.ack = ack;
    th.flags = flags;
    th.window = wnd;
    th.urgent = urgent;
    th.options = opts;
    size_t hlen = th.length();
    Bytes tcp_bytes(hlen + data.size());
    th.emit(tcp_bytes);
    std::copy(data.begin(), data.end(), tcp_bytes.begin() + static_cast<ptrdiff_t>(hlen));
    uint16_t cs = wire::tcp_checksum(kIpPeer, kIpStack, tcp_bytes);
    if (corrupt) cs = static_cast<uint16_t>(cs ^ 0x5a5a);
    store_be16(tcp_bytes.data() + 16, cs);
    send_ip(kIpPeer, wire::ip_proto::tcp, tcp_bytes);
  }

  /** Put one IPv4 datagram from @p src (carrying @p l4) on the wire to the stack and run a loop turn. */
  void send_ip(Ipv4Addr src, uint8_t proto, const Bytes& l4) {
    wire::Ipv4Header ip;
    ip.total_length = static_cast<uint16_t>(wire::kIpv4MinHeaderLen + l4.size());
    ip.id = ++ip_id_;
    ip.tos = p_tos_;
    ip.df = true;
    ip.protocol = proto;
    ip.src = src;
    ip.dst = kIpStack;
    wire::EthernetHeader eth;
    eth.dst = kMacStack;
    eth.src = kMacPeer;
    eth.ethertype = wire::ethertype::ipv4;
    Bytes frame(wire::kEthernetHeaderLen + wire::kIpv4MinHeaderLen);
    eth.emit(frame);
    ip.emit(std::span<uint8_t>(frame).subspan(wire::kEthernetHeaderLen));
    frame.insert(frame.end(), l4.begin(), l4.end());
    if (frame.size() < wire::kEthernetMinFrame) frame.resize(wire::kEthernetMinFrame, 0);
    Packet pkt = test::make_packet(frame);
    rte_mbuf* m = pkt.release();
    ASSERT_EQ(wire_.b().tx_burst(0, &m, 1), 1u);
    poll();
  }

  /** The peer's options for a non-SYN segment: timestamps when negotiated. */
  wire::TcpOptions popts() {
    wire::TcpOptions o;
    if (p_ts_) o.timestamps = wire::TcpTimestamps{++p_tsval_, p_tsecr_};
    return o;
  }
  /** A segment from the peer on the test's connection (options: timestamps when negotiated). */
  void send(uint8_t flags, SeqNum seq, SeqNum ack, const Bytes& data = {},
            std::optional<wire::TcpOptions> o = {}, std::optional<uint16_t> wnd = {}, uint16_t urgent = 0) {
    send_raw(peer_port_, stack_port_, flags, seq, ack, data, o ? *o : popts(), wnd.value_or(p_wnd_), urgent);
  }
  /** The peer sends @p data in order (and FIN with it if @p fin). */
  void peer_data(const Bytes& data, bool fin = false) {
    send(static_cast<uint8_t>(fl::ack | fl::psh | (fin ? fl::fin : 0)), p_nxt_, p_rcv_, data);
    p_nxt_ += static_cast<uint32_t>(data.size()) + (fin ? 1 : 0);
  }
  /** The peer acknowledges everything it received in order (or @p ack). */
  void peer_ack(std::optional<SeqNum> ack = {}, std::optional<uint16_t> wnd = {}) {
    send(fl::ack, p_nxt_, ack.value_or(p_rcv_), {}, {}, wnd);
  }
  /** A pure ACK carrying SACK blocks (most recent first). */
  void peer_sack(SeqNum ack, std::vector<std::pair<SeqNum, SeqNum>> blocks) {
    wire::TcpOptions o = popts();
    o.sack_count = static_cast<uint8_t>(blocks.size());
    for (size_t i = 0; i < blocks.size(); ++i) o.sack[i] = wire::SackBlock{blocks[i].first, blocks[i].second};
    send(fl::ack, p_nxt_, ack, {}, o);
  }
  void peer_fin() {
    send(fl::fin | fl::ack, p_nxt_, p_rcv_);
    p_nxt_ += 1;
  }

  // ---- reading what the stack sent ----

  /** The next TCP segment the stack put on the wire (ARP and other frames are dropped), if any. */
  std::optional<Seg> take() {
    for (;;) {
      rte_mbuf* m = nullptr;
      if (wire_.b().rx_burst(0, &m, 1) == 0) return std::nullopt;
      Packet p(m);
      Bytes f = test::bytes_of(p);
      auto eth = wire::EthernetView::parse(f);
      if (!eth || eth->ethertype() != wire::ethertype::ipv4) continue;
      auto ip = wire::Ipv4View::parse(eth->payload());
      if (!ip || ip->protocol() != wire::ip_proto::tcp) continue;
      EXPECT_TRUE(ip->checksum_ok());
      EXPECT_EQ(ip->src(), kIpStack);
      EXPECT_EQ(ip->dst(), kIpPeer);
      auto v = wire::TcpView::parse(ip->payload());
      EXPECT_TRUE(v);
      if (!v) continue;
      EXPECT_TRUE(v->checksum_ok(kIpStack, kIpPeer)) << "bad TCP checksum from the stack";
      Seg s;
      s.valid = true;
      s.flags = v->flags();
      s.seq = v->seq();
      s.ack = v->ack();
      s.window = v->window();
      s.urgent = v->urgent();
      s.src_port = v->src_port();
      s.dst_port = v->dst_port();
      s.opts = v->options();
      s.payload.assign(v->payload().begin(), v->payload().end());
      s.ip.assign(eth->payload().begin(), eth->payload().begin() + ip->total_length());
      // The peer's view: remember the stack's TSval for echoing, take in-order data.
      if (s.opts.timestamps && s.dst_port == peer_port_) p_tsecr_ = s.opts.timestamps->tsval;
      if (s.dst_port == peer_port_ && !s.has(fl::rst) && s.seq <= p_rcv_ && s.end() > p_rcv_ &&
          !s.has(fl::syn)) {
        p_rcv_ = s.end();
      }
      return s;
    }
  }
  /** The next segment; a failure if there is none. */
  Seg expect_segment(const char* what = "a segment") {
    poll();
    auto s = take();
    EXPECT_TRUE(s.has_value()) << "expected " << what << " from the stack, got nothing";
    return s.value_or(Seg{});
  }
  /** The next segment, which must have exactly @p ctl (PSH ignored). */
  Seg expect(uint8_t ctl, const char* what = "a segment") {
    Seg s = expect_segment(what);
    EXPECT_EQ(flag_str(s.ctl()), flag_str(ctl)) << "while expecting " << what;
    return s;
  }
  /** The next segment must be a pure ACK of @p ack. */
  Seg expect_ack(SeqNum ack, const char* what = "an ACK") {
    Seg s = expect(fl::ack, what);
    EXPECT_EQ(s.ack.v, ack.v) << what;
    EXPECT_EQ(s.len(), 0u) << what;
    return s;
  }
  void expect_nothing(const char* what = "") {
    poll();
    auto s = take();
    EXPECT_FALSE(s.has_value()) << "unexpected " << flag_str(s ? s->flags : 0)
                                << " seq=" << (s ? s->seq.v : 0) << " ack=" << (s ? s->ack.v : 0)
                                << " len=" << (s ? s->len() : 0) << " " << what;
  }
  /** All segments the stack has sent so far. */
  std::vector<Seg> take_all() {
    poll();
    std::vector<Seg> v;
    while (auto s = take()) v.push_back(*s);
    return v;
  }
  void drain() {
    rte_mbuf* m[32];
    uint16_t n;
    while ((n = wire_.b().rx_burst(0, m, 32)) > 0) {
      for (uint16_t i = 0; i < n; ++i) rte_pktmbuf_free(m[i]);
    }
  }
  /** Read everything the stack has queued for the application. */
  Bytes read_all(Connection* c = nullptr) {
    c = c != nullptr ? c : conn_;
    Bytes out;
    uint8_t buf[4096];
    for (;;) {
      auto n = c->recv_copy(buf);
      if (!n || *n == 0) break;
      out.insert(out.end(), buf, buf + *n);
    }
    return out;
  }
  /**
   * Take the stack's data segments, acknowledging them, until @p n bytes came; returns the bytes.
   * @p each (if set) sees every segment taken.
   */
  Bytes receive_acking(size_t n, const std::function<void(const Seg&)>& each = {}) {
    Bytes got;
    SeqNum start = p_rcv_;
    for (int i = 0; i < 100 && got.size() < n; ++i) {
      for (const Seg& s : take_all()) {
        if (each) each(s);
        EXPECT_EQ(s.seq.v, (start + static_cast<uint32_t>(got.size())).v) << "data out of order";
        got.insert(got.end(), s.payload.begin(), s.payload.end());
      }
      peer_ack();
    }
    return got;
  }
  size_t app_send(const Bytes& b) {
    auto n = conn_->send_copy(b);
    EXPECT_TRUE(n);
    return n ? *n : 0;
  }

  // ---- opening ----

  wire::TcpOptions syn_options(const PeerSyn& o) {
    wire::TcpOptions so;
    so.mss = o.mss;
    so.wscale = o.wscale;
    so.sack_permitted = o.sack;
    if (o.ts) so.timestamps = wire::TcpTimestamps{++p_tsval_, 0};
    return so;
  }
  /** Set the peer's model after the stack's SYN or SYN,ACK @p s. */
  void took_syn(const Seg& s, const PeerSyn& o) {
    stack_iss_ = s.seq;
    p_rcv_ = s.seq + 1;
    p_ts_ = o.ts && s.opts.timestamps.has_value();
  }
  /** The stack connects to the peer and sends its SYN (SYN_SENT); @p syn gets the SYN. */
  void start_active_open(const PeerSyn& o = {}, Seg* syn = nullptr) {
    auto r = tcp().connect(Endpoint{kIpPeer, peer_port_});
    ASSERT_TRUE(r);
    conn_ = *r;
    conn_->on_event([this](Connection&, uint32_t e) { events_ |= e; });
    stack_port_ = conn_->local().port;
    Seg s = expect(fl::syn, "SYN");
    ASSERT_EQ(conn_->state(), State::syn_sent);
    took_syn(s, o);
    p_nxt_ = p_iss_;
    if (syn != nullptr) *syn = s;
  }
  /** Active open by the stack: SYN out, the peer answers SYN,ACK, the stack ACKs. */
  void open_active(const PeerSyn& o = {}) {
    start_active_open(o);
    if (HasFatalFailure()) return;
    advance(kRtt);
    send(fl::syn | fl::ack, p_nxt_, p_rcv_, {}, syn_options(o));
    p_nxt_ += 1;
    expect_ack(p_nxt_, "the ACK of our SYN,ACK");
    ASSERT_EQ(conn_->state(), State::established);
  }
  /** Listen on kListenPort (unless already). */
  void listen(uint32_t backlog = 0) {
    if (lst_ != nullptr) return;
    ListenOptions lo;
    lo.backlog = backlog;
    lo.socket = listen_socket_;
    auto l = tcp().listen(kListenPort, lo);
    ASSERT_TRUE(l);
    lst_ = *l;
  }
  /** The peer's SYN to the listener; the stack answers SYN,ACK. */
  Seg peer_syn(const PeerSyn& o = {}) {
    stack_port_ = kListenPort;
    p_nxt_ = p_iss_;
    send(fl::syn, p_nxt_, SeqNum{}, {}, syn_options(o), 65535);
    p_nxt_ += 1;
    Seg sa = expect(fl::syn | fl::ack, "SYN,ACK");
    EXPECT_EQ(sa.ack.v, p_nxt_.v);
    took_syn(sa, o);
    return sa;
  }
  /** Passive open: listen, SYN in, SYN,ACK out, ACK in, accept(). */
  void open_passive(const PeerSyn& o = {}) {
    listen();
    peer_syn(o);
    advance(kRtt);
    peer_ack();
    ASSERT_EQ(lst_->pending(), 1u);
    conn_ = lst_->accept();
    ASSERT_NE(conn_, nullptr);
    conn_->on_event([this](Connection&, uint32_t e) { events_ |= e; });
    ASSERT_EQ(conn_->state(), State::established);
  }
  /** The stack shuts down its side: FIN out (FIN_WAIT_1). */
  void stack_fin() {
    ASSERT_TRUE(conn_->shutdown());
    Seg f = expect(fl::fin | fl::ack, "our FIN");
    fin_seq_ = f.seq;
  }

  TcpParams params_;
  l3::Ipv4Params ipv4_params_;
  drivers::PairWire wire_;
  std::unique_ptr<Core> core_;
  uint64_t now_ = 1'000 * kSec;
  uint16_t ip_id_ = 0;
  uint8_t p_tos_ = 0;  // the IPv4 TOS byte of the peer's datagrams (its low bits: ECN, RFC 3168 §5)
  // The peer's model of the connection.
  uint16_t peer_port_ = 40000, stack_port_ = kListenPort;
  SeqNum p_iss_{1'000'000};
  SeqNum p_nxt_;  // peer SND.NXT
  SeqNum p_rcv_;  // peer RCV.NXT (the stack's next sequence number)
  SeqNum stack_iss_;
  SeqNum fin_seq_;  // sequence number of the stack's FIN
  bool p_ts_ = false;
  uint32_t p_tsval_ = 7000, p_tsecr_ = 0;
  uint16_t p_wnd_ = 65535;
  // The stack's side.
  Connection* conn_ = nullptr;
  Listener* lst_ = nullptr;
  std::optional<SocketOptions> listen_socket_;
  std::vector<Connection*> extra_;
  uint32_t events_ = 0;
};

}  // namespace tern::tcp
