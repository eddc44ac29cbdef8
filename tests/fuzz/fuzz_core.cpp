// libFuzzer target for the whole input path: frames into a Core (Ethernet, ARP, IPv4 with
// reassembly, ICMP, UDP, TCP) on end a of a PairWire, with the fuzzer as the peer on end b.
//
// Each input starts from the same world: a listener with an established, accepted connection
// holding unacknowledged data in flight and out-of-order data, an active open established the
// same way, a SYN-cookie listener, a UDP socket, and a first fragment waiting in reassembly. The
// first input byte picks the world's options (timestamps, SACK, window scale, ...). The rest is a
// sequence of records:
//
//   segment  a TCP segment built from a template aimed at a tracked connection's 4-tuple and
//            sequence window (seq/ack relative to what each side sent and acknowledged, options,
//            payload), optionally mutated; checksums are right unless the record says otherwise
//   syn      a new connection attempt (optionally completed by the peer model)
//   advance  the fake clock moves (1 ms .. 4 min) and the core polls (timers fire)
//   app      the application reads, writes, shuts down, closes, aborts, changes buffers,
//            connects, accepts, closes or reopens a listener, uses the UDP socket
//   raw      an arbitrary frame (Ethernet header and IPv4 fields optionally fixed up)
//   frags    a TCP segment or UDP datagram split into IPv4 fragments (in order, reversed,
//            arbitrary offsets and overlaps)
//   icmp     an ICMP error quoting a connection's segment (PMTU, unreachable, ...) or an echo
//   arp      ARP requests and replies, well-formed or not
//   udp      a UDP datagram
//
// After every record the core polls and the invariants below are checked; at the end the
// application closes everything, the peer falls silent, the clock runs until every timer has
// given up, and every TCB, TIME_WAIT entry, reassembly slot and mbuf must be gone. A violation
// aborts (FUZZ_CHECK): libFuzzer saves the input.
//
// The same entry points are linked, without libFuzzer, into unit_fuzz_core_replay (replay_main.cpp),
// which runs the corpus in tests/fuzz/seeds/core/ as a regression test.
#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_mbuf.h>
#include <rte_mempool.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "fuzz_check.hpp"
#include "tern/base/byteorder.hpp"
#include "tern/base/checksum.hpp"
#include "tern/drivers/pair_wire.hpp"
#include "tern/stack/core.hpp"
#include "tern/tcp/tcp.hpp"
#include "tern/udp/udp.hpp"
#include "tern/wire/tcp.hpp"
#include "tern/wire/udp.hpp"

// ---------------------------------------------------------------------------
// Deterministic keys: the TCP engine draws its ISN, SYN-cookie and hash keys from getrandom().
// While a world is being built this definition (which takes precedence over libc's) hands out a
// fixed stream, so one input always runs the same way (minimization and replay need that).
// Everywhere else it is the real system call.
// ---------------------------------------------------------------------------
namespace {
bool g_fixed_random = false;
uint64_t g_random_state = 0;

uint64_t splitmix64(uint64_t& s) {
  s += 0x9E3779B97F4A7C15ull;
  uint64_t z = s;
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}
}  // namespace

extern "C" ssize_t getrandom(void* buf, size_t len, unsigned int flags) noexcept {
  if (!g_fixed_random) return syscall(SYS_getrandom, buf, len, flags);
  auto* p = static_cast<uint8_t*>(buf);
  for (size_t i = 0; i < len; i += 8) {
    uint64_t r = splitmix64(g_random_state);
    std::memcpy(p + i, &r, std::min<size_t>(8, len - i));
  }
  return static_cast<ssize_t>(len);
}

namespace tern::fuzz_core {
namespace {

using Bytes = std::vector<uint8_t>;
using wire::Ipv4Addr;
using wire::MacAddr;
namespace fl = wire::tcp_flag;

constexpr uint64_t kMs = 1'000'000;
constexpr uint64_t kSec = 1'000 * kMs;

const MacAddr kStackMac{{0x02, 0x00, 0x00, 0x00, 0x00, 0x01}};
const MacAddr kPeerMac{{0x02, 0x00, 0x00, 0x00, 0x00, 0x02}};
const MacAddr kPeer2Mac{{0x02, 0x00, 0x00, 0x00, 0x00, 0x03}};
const Ipv4Addr kStackIp = Ipv4Addr::from_octets(198, 18, 0, 1);
const Ipv4Addr kPeerIp = Ipv4Addr::from_octets(198, 18, 0, 2);   // in the neighbour table from the start
const Ipv4Addr kPeer2Ip = Ipv4Addr::from_octets(198, 18, 0, 3);  // resolved by ARP only
constexpr uint16_t kHttpPort = 80;                               // listener, backlog 4
constexpr uint16_t kCookiePort = 443;                            // listener, backlog 1: SYN cookies
constexpr uint16_t kEchoPort = 7;                                // UDP socket
constexpr uint16_t kPeerPort = 5000;                             // where the stack's active opens go
constexpr size_t kMaxRecords = 160;  // records per input (bounds the time of one run)
constexpr size_t kMaxFlows = 24;     // connections the peer model tracks
constexpr uint16_t kSetupFragId = 0x4242;

rte_mempool* g_pool = nullptr;   // the core's pool (2048-byte rooms): RX frames, TCP's own mbufs
rte_mempool* g_small = nullptr;  // 256-byte rooms: frames the peer sends as mbuf chains
uint32_t g_min_truesize = 0;     // the smallest truesize of an mbuf of either pool

unsigned g_baseline = 0;  // mbufs in use before the world of the current input was built
bool g_verbose = false;   // TERN_FUZZ_CORE_VERBOSE=1: print the world after each record

unsigned mbufs_in_use() { return rte_mempool_in_use_count(g_pool) + rte_mempool_in_use_count(g_small); }

// ---------------------------------------------------------------------------
// The fuzz input, read front to back; reads past the end give zeros.
// ---------------------------------------------------------------------------
class Input {
 public:
  Input(const uint8_t* d, size_t n) : d_(d), n_(n) {}
  bool empty() const { return pos_ >= n_; }
  uint8_t u8() { return pos_ < n_ ? d_[pos_++] : 0; }
  uint16_t u16() { return static_cast<uint16_t>(u8() << 8 | u8()); }
  uint32_t u32() { return uint32_t{u16()} << 16 | u16(); }
  /** A signed offset whose width @p sel (0..3) picks: 0, +-127, +-32767, any 32-bit value. */
  uint32_t delta(uint8_t sel) {
    switch (sel & 3) {
      case 1:
        return static_cast<uint32_t>(static_cast<int8_t>(u8()));
      case 2:
        return static_cast<uint32_t>(static_cast<int16_t>(u16()));
      case 3:
        return u32();
      default:
        return 0;
    }
  }
  std::span<const uint8_t> take(size_t n) {
    size_t k = std::min(n, n_ - std::min(pos_, n_));
    std::span<const uint8_t> s(d_ + pos_, k);
    pos_ += k;
    return s;
  }

 private:
  const uint8_t* d_;
  size_t n_;
  size_t pos_ = 0;
};

bool seq_after(uint32_t a, uint32_t b) { return static_cast<int32_t>(a - b) > 0; }

/** The peer's view of one connection. */
struct Flow {
  Ipv4Addr peer_ip;
  uint16_t peer_port = 0, stack_port = 0;
  tcp::Connection* app = nullptr;  // the application's handle (null once closed or never accepted)
  bool stack_iss_known = false;
  uint32_t s_iss = 0, s_max = 0, s_acked = 0;  // the stack's sequence space: ISS, highest end sent, acked
  uint32_t s_wnd = 0;                          // the stack's last advertised window (scaled)
  uint8_t s_wscale = 0;
  uint32_t p_iss = 0, p_nxt = 0, p_rcv = 0;  // the peer's: ISS, next new byte, what the stack acknowledged
  uint32_t p_tsval = 1000, s_tsval = 0;
  bool ts = false, sack = false, ws = false;
  uint8_t p_wscale = 0;
  bool auto_ack = false;                    // complete the handshake when the stack's SYN(-ACK) shows
  uint32_t max_rcvbuf = 0, max_sndbuf = 0;  // largest buffers the application ever set
  uint64_t held_mem = 0;                    // receive truesize at the last check
  tcp::FourTuple tuple() const { return {kStackIp.v, peer_ip.v, stack_port, peer_port}; }
};

/** How a TCP segment from the peer looks (before the frame-level knobs). */
struct SegSpec {
  uint8_t flags = fl::ack;
  uint32_t seq = 0, ack = 0;
  uint16_t window = 65535, urgent = 0;
  wire::TcpOptions opts;
  Bytes junk_options;  // raw option bytes after the canonical ones
  uint16_t payload = 0;
  uint8_t fill = 0;
};

/** Frame-level knobs: checksums, mutations, IPv4 fields, how the frame is split into mbufs. */
struct FrameSpec {
  bool bad_l4_csum = false, bad_ip_csum = false;
  bool broadcast = false;
  uint8_t chunk = 0;  // 0: one mbuf; else mbufs of chunk * 16 (at least 64) bytes from the small pool
  uint16_t ip_id = 0;
  uint16_t frag = 0;  // flags + offset field
  uint8_t ttl = 64;
  Bytes ip_options;
};

constexpr std::array<uint8_t, 16> kFlagTable = {fl::ack,
                                                fl::ack | fl::psh,
                                                fl::ack | fl::fin,
                                                fl::ack,
                                                fl::rst,
                                                fl::rst | fl::ack,
                                                fl::syn,
                                                fl::syn | fl::ack,
                                                fl::ack | fl::urg,
                                                0,
                                                fl::fin,
                                                fl::syn | fl::fin,
                                                fl::ack | fl::psh,
                                                fl::ack | fl::psh | fl::fin,
                                                fl::ack | fl::ece | fl::cwr,
                                                fl::syn | fl::rst};

// ---------------------------------------------------------------------------
// Frame building.
// ---------------------------------------------------------------------------
void put_eth(Bytes& f, const MacAddr& dst, const MacAddr& src, uint16_t type) {
  f.resize(14);
  std::copy(dst.b.begin(), dst.b.end(), f.begin());
  std::copy(src.b.begin(), src.b.end(), f.begin() + 6);
  store_be16(f.data() + 12, type);
}

/** Ethernet + IPv4 (+ options) around @p l4. */
Bytes ipv4_frame(Ipv4Addr src, Ipv4Addr dst, uint8_t proto, std::span<const uint8_t> l4, const FrameSpec& k) {
  Bytes f;
  put_eth(f, k.broadcast ? MacAddr{{0xff, 0xff, 0xff, 0xff, 0xff, 0xff}} : kStackMac, kPeerMac, 0x0800);
  size_t opt = (k.ip_options.size() + 3) & ~size_t{3};
  size_t hlen = 20 + std::min<size_t>(opt, 40);
  f.resize(14 + hlen, 0);
  uint8_t* h = f.data() + 14;
  h[0] = static_cast<uint8_t>(0x40 | (hlen / 4));
  store_be16(h + 2, static_cast<uint16_t>(hlen + l4.size()));
  store_be16(h + 4, k.ip_id);
  store_be16(h + 6, k.frag);
  h[8] = k.ttl;
  h[9] = proto;
  src.store(h + 12);
  dst.store(h + 16);
  std::copy_n(k.ip_options.begin(), std::min(k.ip_options.size(), hlen - 20), h + 20);
  uint16_t cs = internet_checksum(std::span<const uint8_t>(h, hlen));
  store_be16(h + 10, k.bad_ip_csum ? static_cast<uint16_t>(cs ^ 0x1234) : cs);
  f.insert(f.end(), l4.begin(), l4.end());
  return f;
}

/** The TCP bytes of @p s from @p f's peer (checksum filled unless @p bad). */
Bytes tcp_segment(const Flow& f, const SegSpec& s, bool bad) {
  uint8_t opts[40] = {};
  size_t olen = s.opts.emit(opts);
  Bytes o(opts, opts + olen);
  o.insert(o.end(), s.junk_options.begin(), s.junk_options.end());
  o.resize(std::min<size_t>((o.size() + 3) & ~size_t{3}, 40), wire::tcp_opt::eol);
  Bytes t(20 + o.size() + s.payload);
  store_be16(t.data(), f.peer_port);
  store_be16(t.data() + 2, f.stack_port);
  store_be32(t.data() + 4, s.seq);
  store_be32(t.data() + 8, s.ack);
  t[12] = static_cast<uint8_t>((20 + o.size()) / 4 << 4);
  t[13] = s.flags;
  store_be16(t.data() + 14, s.window);
  store_be16(t.data() + 18, s.urgent);
  std::copy(o.begin(), o.end(), t.begin() + 20);
  for (size_t i = 20 + o.size(); i < t.size(); ++i) t[i] = static_cast<uint8_t>(s.fill + i * 7);
  uint16_t cs = wire::tcp_checksum(f.peer_ip, kStackIp, t);
  store_be16(t.data() + 16, bad ? static_cast<uint16_t>(cs ^ 0x0f0f) : cs);
  return t;
}

/** A UDP datagram from @p src:@p sport to our @p dport (checksum: 0 good, 1 none, 2 bad). */
Bytes udp_datagram(Ipv4Addr src, uint16_t sport, uint16_t dport, uint16_t len, uint8_t csum_mode) {
  Bytes u(8 + len);
  store_be16(u.data(), sport);
  store_be16(u.data() + 2, dport);
  store_be16(u.data() + 4, static_cast<uint16_t>(u.size()));
  for (size_t i = 8; i < u.size(); ++i) u[i] = static_cast<uint8_t>(i);
  uint16_t cs = csum_mode == 1 ? 0 : wire::udp_checksum(src, kStackIp, u);
  store_be16(u.data() + 6, csum_mode == 2 ? static_cast<uint16_t>(cs ^ 0x00f0) : cs);
  return u;
}

/** An ARP frame. */
Bytes arp_frame(uint16_t op, const MacAddr& sha, Ipv4Addr spa, Ipv4Addr tpa, bool bcast) {
  Bytes f;
  put_eth(f, bcast ? MacAddr{{0xff, 0xff, 0xff, 0xff, 0xff, 0xff}} : kStackMac, sha, 0x0806);
  f.resize(14 + 28, 0);
  uint8_t* a = f.data() + 14;
  store_be16(a, 1);
  store_be16(a + 2, 0x0800);
  a[4] = 6;
  a[5] = 4;
  store_be16(a + 6, op);
  std::copy(sha.b.begin(), sha.b.end(), a + 8);
  spa.store(a + 14);
  tpa.store(a + 24);
  return f;
}

/** The parameters of the core under test: every bound small, so the fuzzer reaches it. */
CoreParams core_params(Port& port, uint8_t setup) {
  CoreParams p;
  p.pool = g_pool;
  CoreInterface ci;
  ci.port = &port;
  ci.params.name = "if0";
  ci.params.address = wire::Ipv4Prefix{kStackIp, 24};
  ci.params.gratuitous_arp = false;
  ci.params.neighbour.table_size = 8;
  ci.params.neighbour.queue_len = 4;
  ci.params.neighbour.retry_ns = 300 * kMs;
  ci.params.neighbour.reachable_ns = 5 * kSec;
  ci.params.neighbour.stale_ns = 20 * kSec;
  p.interfaces.push_back(ci);
  p.ipv4.reassembly = l3::ReassemblyParams{kSec, 32 * 1024, 4, 24};
  p.udp.rx_queue_len = 8;
  tcp::TcpParams& t = p.tcp;
  t.max_connections = 12;
  t.max_time_wait = 4;
  t.msl_ns = 500 * kMs;
  t.rtt.max_rto_ns = 4 * kSec;
  t.syn_retries = 2;
  t.synack_retries = 2;
  t.max_retries = 3;
  t.fin_wait_2_ns = 2 * kSec;
  t.ooo_nodes = 48;
  t.ooo_per_connection = 12;
  t.backlog = 4;
  t.memory_limit = 160 * 1024;
  t.challenge_ack_per_s = 50;
  t.syncookies = (setup & 0x80) == 0;
  t.socket.send_buffer = 16 * 1024;
  t.socket.recv_buffer = 16 * 1024;
  t.socket.nodelay = (setup & 0x08) != 0;
  return p;
}

// ---------------------------------------------------------------------------
// The world of one input.
// ---------------------------------------------------------------------------
class World {
 public:
  explicit World(uint8_t setup);
  ~World();
  World(const World&) = delete;
  World& operator=(const World&) = delete;

  void run(Input& in);
  /** Close everything, let every timer run out, and check nothing is left. */
  void wind_down();
  /** Nothing left: no TCB, TIME_WAIT entry, reassembly slot or packet waiting for ARP. */
  bool idle();

 private:
  // The loop.
  void step();
  void dump(const char* what);
  void drain();
  void observe(const Bytes& f);
  void observe_tcp(Ipv4Addr dst, std::span<const uint8_t> t);
  void answer_arp(std::span<const uint8_t> a);
  void inject(const Bytes& frame, uint8_t chunk = 0);
  void accept_all();
  void attach(tcp::Connection* c);

  // Flows.
  Flow* find_flow(Ipv4Addr ip, uint16_t peer_port, uint16_t stack_port);
  Flow* add_flow(Ipv4Addr ip, uint16_t peer_port, uint16_t stack_port);
  Flow* pick_flow(uint8_t sel);
  void send_segment(Flow& f, const SegSpec& s, const FrameSpec& k);
  void peer_ack(Flow& f);

  // Records.
  void op_segment(Input& in);
  void op_syn(Input& in);
  void op_advance(Input& in);
  void op_app(Input& in);
  void op_app_conn(Flow& f, uint8_t a, Input& in);
  void op_app_other(uint8_t a, Input& in);
  void op_connect(Input& in);
  void op_raw(Input& in);
  void op_frags(Input& in);
  void send_fragments(Ipv4Addr src, uint8_t proto, const Bytes& l4, uint16_t id, uint8_t mode, Input& in);
  void op_icmp(Input& in);
  void op_arp(Input& in);
  void op_udp(Input& in);
  SegSpec seg_spec(Flow& f, Input& in);
  FrameSpec frame_spec(Input& in, uint8_t mode);
  void seg_options(Flow& f, SegSpec& s, uint8_t sel, Input& in);

  // Setup.
  void open_passive(uint16_t port, bool ts, bool sack, bool ws);
  void open_active();
  void preload();

  // Invariants.
  void check();
  void check_tcp();
  void check_l2_l3();
  void check_counters();
  void check_mbufs();

  uint8_t setup_;
  uint64_t now_ = 10 * kSec;
  drivers::PairWire wire_;
  std::unique_ptr<Core> core_;
  tcp::Listener* listeners_[2] = {nullptr, nullptr};
  udp::Socket* udp_ = nullptr;
  std::vector<Flow> flows_;
  std::vector<tcp::Connection*> extra_;  // accepted connections the peer model does not track
  std::vector<Bytes> replies_;           // frames the peer model answers with (sent after a drain)
  uint64_t frames_in_ = 0;
  uint16_t ip_id_ = 1;
  uint16_t next_peer_port_ = 40000;
  bool silent_ = false;  // the peer answers nothing (wind_down())
  uint32_t max_sndbuf_ = 16 * 1024;
};

PortCaps caps(const MacAddr& mac) {
  PortCaps c;
  c.mac = mac.b;
  c.mtu = 1500;
  return c;
}

World::World(uint8_t setup) : setup_(setup), wire_(caps(kStackMac), caps(kPeerMac), 4096) {
  g_fixed_random = true;
  g_random_state = 0x7465726e;  // "tern"
  core_ = std::make_unique<Core>(core_params(wire_.a(), setup));
  g_fixed_random = false;
  core_->start(now_);
  core_->interface(0).neighbours().learn(kPeerIp, kPeerMac, true, now_);
  listeners_[0] = *core_->tcp().listen(kHttpPort);
  tcp::ListenOptions lo;
  lo.backlog = 1;
  listeners_[1] = *core_->tcp().listen(kCookiePort, lo);
  udp_ = *core_->udp().bind(kEchoPort);
  open_passive(kHttpPort, setup & 1, setup & 2, setup & 4);
  open_active();
  preload();
}

World::~World() {
  for (Flow& f : flows_) {
    if (f.app != nullptr) f.app->abort();
  }
  for (tcp::Connection* c : extra_) c->abort();
  core_.reset();  // the PairWire frees what is still in flight
}

// ---- the loop --------------------------------------------------------------

void World::step() {
  core_->poll(now_);
  drain();
  if (setup_ & 0x10) accept_all();
  check();
  dump("step");
}

void World::dump(const char* what) {
  if (!g_verbose) return;
  const tcp::Tcp& t = core_->tcp();
  std::fprintf(stderr, "-- %s: t=%.3fs conns=%u tw=%u mem=%lu in_segs=%lu rx=%lu reasm=%u neigh=%zu\n", what,
               static_cast<double>(now_) / kSec, t.connections(), t.time_wait(),
               static_cast<unsigned long>(t.memory_used()), static_cast<unsigned long>(t.stats().in_segs),
               static_cast<unsigned long>(core_->stats().rx_packets),
               core_->ipv4().reassembler().in_progress(), core_->interface(0).neighbours().size());
  for (Flow& f : flows_) {
    const tcp::Connection* c = t.find(f.tuple());
    if (c == nullptr) continue;
    const tcp::TcpInfo i = c->info();
    std::fprintf(stderr, "   %u->%u %s app=%d rq=%u ooo=%u/%u sq=%u flight=%u\n", f.peer_port, f.stack_port,
                 std::string(tcp::to_string(i.state)).c_str(), f.app != nullptr, i.recv_queued, i.ooo_queued,
                 i.ooo_segments, i.send_queued, i.bytes_in_flight);
  }
}

void World::drain() {
  rte_mbuf* ms[32];
  uint16_t n;
  while ((n = wire_.b().rx_burst(0, ms, 32)) > 0) {
    for (uint16_t i = 0; i < n; ++i) {
      Packet p(ms[i]);
      Bytes f(p.length());
      p.copy_out(0, f);
      observe(f);
    }
  }
  for (const Bytes& r : replies_) inject(r);
  replies_.clear();
}

void World::observe(const Bytes& f) {
  if (f.size() < 14) return;
  uint16_t type = load_be16(f.data() + 12);
  std::span<const uint8_t> body(f.data() + 14, f.size() - 14);
  if (type == 0x0806) {
    answer_arp(body);
    return;
  }
  if (type != 0x0800 || body.size() < 20) return;
  size_t hl = (body[0] & 0x0f) * 4u;
  uint16_t frag = load_be16(body.data() + 6);
  if (body[9] != 6 || hl < 20 || body.size() < hl || (frag & 0x3fff) != 0) return;
  observe_tcp(Ipv4Addr::load(body.data() + 16), body.subspan(hl));
}

void World::observe_tcp(Ipv4Addr dst, std::span<const uint8_t> t) {
  auto v = wire::TcpView::parse(t);
  if (!v) return;
  const uint8_t flags = v->flags();
  Flow* f = find_flow(dst, v->dst_port(), v->src_port());
  if (f == nullptr && (flags & (fl::syn | fl::ack)) == fl::syn)
    f = add_flow(dst, v->dst_port(), v->src_port());
  if (f == nullptr) return;
  const uint32_t seq = v->seq().v;
  const uint32_t end = seq + static_cast<uint32_t>(v->payload().size()) + ((flags & fl::syn) ? 1 : 0) +
                       ((flags & fl::fin) ? 1 : 0);
  if (flags & fl::syn) {
    f->s_iss = seq;
    f->s_acked = seq;
    f->s_max = end;
    f->stack_iss_known = true;
    f->s_wscale = v->options().wscale.value_or(0);
  } else if (f->stack_iss_known && seq_after(end, f->s_max)) {
    f->s_max = end;
  }
  if ((flags & fl::ack) && seq_after(v->ack().v, f->p_rcv)) f->p_rcv = v->ack().v;
  f->s_wnd = uint32_t{v->window()} << ((flags & fl::syn) ? 0 : f->s_wscale);
  if (v->options().timestamps) f->s_tsval = v->options().timestamps->tsval;
  if ((flags & fl::syn) && f->auto_ack && !silent_) peer_ack(*f);
}

// The peer completes a handshake: SYN-ACK answers the stack's SYN, ACK answers its SYN-ACK.
void World::peer_ack(Flow& f) {
  f.auto_ack = false;
  SegSpec s;
  s.seq = f.p_nxt;
  s.ack = f.s_iss + 1;
  f.s_acked = s.ack;
  if (f.p_nxt == f.p_iss) {  // we sent no SYN yet: this is an active open by the stack
    s.flags = fl::syn | fl::ack;
    s.opts.mss = 1460;
    s.opts.sack_permitted = f.sack;
    if (f.ws) s.opts.wscale = f.p_wscale;
    f.p_nxt = f.p_iss + 1;
  }
  if (f.ts) s.opts.timestamps = wire::TcpTimestamps{++f.p_tsval, f.s_tsval};
  FrameSpec k;
  k.ip_id = ip_id_++;
  replies_.push_back(ipv4_frame(f.peer_ip, kStackIp, 6, tcp_segment(f, s, false), k));
}

void World::answer_arp(std::span<const uint8_t> a) {
  if (silent_ || !(setup_ & 0x20) || a.size() < 28 || load_be16(a.data() + 6) != 1) return;
  Ipv4Addr tpa = Ipv4Addr::load(a.data() + 24);
  if (tpa != kPeerIp && tpa != kPeer2Ip) return;
  replies_.push_back(arp_frame(2, tpa == kPeerIp ? kPeerMac : kPeer2Mac, tpa, kStackIp, false));
}

void World::inject(const Bytes& frame, uint8_t chunk) {
  if (frame.empty()) return;
  Packet p;
  if (chunk == 0 && frame.size() <= 2048) {
    p = Packet::copy_from(g_pool, frame);
  } else {
    // Segments of 64..256 bytes: a frame of up to 2 KB is a chain of at most 32 mbufs.
    const size_t seg = chunk == 0 ? 256 : std::clamp<size_t>(chunk * 16u, 64, 256);
    for (size_t off = 0; off < frame.size(); off += seg) {
      Packet s = Packet::copy_from(
          g_small, std::span<const uint8_t>(frame).subspan(off, std::min(seg, frame.size() - off)));
      if (!s) return;
      if (!p) {
        p = std::move(s);
      } else if (!p.chain(std::move(s))) {
        return;
      }
    }
  }
  if (!p) return;
  rte_mbuf* m = p.release();
  if (wire_.b().tx_burst(0, &m, 1) != 1) {
    rte_pktmbuf_free(m);
    return;
  }
  ++frames_in_;
}

void World::accept_all() {
  for (tcp::Listener* l : listeners_) {
    if (l == nullptr) continue;
    while (tcp::Connection* c = l->accept()) attach(c);
  }
}

void World::attach(tcp::Connection* c) {
  Flow* f = find_flow(c->remote().addr, c->remote().port, c->local().port);
  if (f == nullptr) f = add_flow(c->remote().addr, c->remote().port, c->local().port);
  if (f == nullptr || f->app != nullptr) {
    extra_.push_back(c);
    return;
  }
  f->app = c;
  f->max_rcvbuf = c->options().recv_buffer;
  f->max_sndbuf = c->options().send_buffer;
}

// ---- flows -----------------------------------------------------------------

Flow* World::find_flow(Ipv4Addr ip, uint16_t peer_port, uint16_t stack_port) {
  for (Flow& f : flows_) {
    if (f.peer_ip == ip && f.peer_port == peer_port && f.stack_port == stack_port) return &f;
  }
  return nullptr;
}

Flow* World::add_flow(Ipv4Addr ip, uint16_t peer_port, uint16_t stack_port) {
  if (flows_.size() >= kMaxFlows) return nullptr;
  Flow f;
  f.peer_ip = ip;
  f.peer_port = peer_port;
  f.stack_port = stack_port;
  f.p_iss = f.p_nxt = f.p_rcv = 0x10000000u * static_cast<uint32_t>(flows_.size() + 1);
  f.max_rcvbuf = f.max_sndbuf = 16 * 1024;
  flows_.push_back(f);
  return &flows_.back();
}

Flow* World::pick_flow(uint8_t sel) { return flows_.empty() ? nullptr : &flows_[sel % flows_.size()]; }

void World::send_segment(Flow& f, const SegSpec& s, const FrameSpec& k) {
  inject(ipv4_frame(f.peer_ip, kStackIp, 6, tcp_segment(f, s, k.bad_l4_csum), k), k.chunk);
}

// ---- setup -----------------------------------------------------------------

// The peer connects to @p port and the application accepts: ESTABLISHED on both sides.
void World::open_passive(uint16_t port, bool ts, bool sack, bool ws) {
  Flow* f = add_flow(kPeerIp, next_peer_port_++, port);
  f->ts = ts;
  f->sack = sack;
  f->ws = ws;
  f->p_wscale = 7;
  f->auto_ack = true;
  SegSpec s;
  s.flags = fl::syn;
  s.seq = f->p_iss;
  s.opts.mss = 1460;
  s.opts.sack_permitted = sack;
  if (ws) s.opts.wscale = f->p_wscale;
  if (ts) s.opts.timestamps = wire::TcpTimestamps{f->p_tsval, 0};
  f->p_nxt = f->p_iss + 1;
  f->p_rcv = f->p_iss;
  FrameSpec k;
  send_segment(*f, s, k);
  step();  // SYN in, SYN-ACK out, ACK queued
  step();  // ACK in
  accept_all();
}

// The application connects to the peer, which answers: ESTABLISHED on both sides.
void World::open_active() {
  auto c = core_->tcp().connect(tcp::Endpoint{kPeerIp, kPeerPort});
  FUZZ_CHECK(c.ok());
  Flow* f = add_flow(kPeerIp, kPeerPort, (*c)->local().port);
  f->app = *c;
  f->ts = f->sack = f->ws = true;
  f->p_wscale = 2;
  f->auto_ack = true;
  step();  // SYN out, SYN-ACK queued
  step();  // SYN-ACK in, ACK out
}

// Data in flight both ways, out-of-order data held, and a fragment waiting in reassembly.
void World::preload() {
  Bytes data(3000, 0x5a);
  for (Flow& f : flows_) {
    if (f.app == nullptr) continue;
    (void)f.app->send_copy(data);
    SegSpec s;
    s.flags = fl::ack | fl::psh;
    s.seq = f.p_nxt;
    s.ack = f.s_acked;
    s.payload = 400;
    if (f.ts) s.opts.timestamps = wire::TcpTimestamps{++f.p_tsval, f.s_tsval};
    send_segment(f, s, FrameSpec{});
    f.p_nxt += 400;
    s.seq = f.p_nxt + 700;  // a hole of 700 bytes: held out of order
    s.payload = 300;
    if (f.ts) s.opts.timestamps = wire::TcpTimestamps{++f.p_tsval, f.s_tsval};
    send_segment(f, s, FrameSpec{});
  }
  FrameSpec k;
  k.ip_id = kSetupFragId;
  k.frag = 0x2000;  // MF, offset 0: the first of a UDP datagram whose rest comes later (or never)
  Bytes u = udp_datagram(kPeerIp, 9999, kEchoPort, 600, 0);
  u.resize(304);
  inject(ipv4_frame(kPeerIp, kStackIp, 17, u, k));
  step();
}

// ---- records ---------------------------------------------------------------

void World::run(Input& in) {
  for (size_t i = 0; i < kMaxRecords && !in.empty(); ++i) {
    const uint8_t op = in.u8();
    switch (op % 16) {
      case 0:
      case 1:
      case 2:
      case 3:
      case 4:
        op_segment(in);
        break;
      case 5:
        op_syn(in);
        break;
      case 6:
      case 7:
        op_advance(in);
        break;
      case 8:
      case 9:
        op_app(in);
        break;
      case 10:
        op_raw(in);
        break;
      case 11:
        op_frags(in);
        break;
      case 12:
        op_icmp(in);
        break;
      case 13:
        op_arp(in);
        break;
      case 14:
        op_udp(in);
        break;
      default:
        op_connect(in);
        break;
    }
    step();
  }
}

FrameSpec World::frame_spec(Input& in, uint8_t mode) {
  FrameSpec k;
  k.bad_l4_csum = (mode & 7) == 6;
  k.bad_ip_csum = (mode & 7) == 7;
  k.chunk = (mode & 0x30) ? static_cast<uint8_t>(((mode >> 4) & 3) * 4 + (in.u8() & 3)) : 0;
  k.ip_id = ip_id_++;
  k.frag = 0x4000;  // DF
  if (mode & 0x40) {
    auto o = in.take(in.u8() % 12);
    k.ip_options.assign(o.begin(), o.end());
  }
  k.broadcast = (mode & 0x80) && (in.u8() & 1);
  return k;
}

void World::seg_options(Flow& f, SegSpec& s, uint8_t sel, Input& in) {
  if (f.ts != ((sel & 1) != 0)) {
    uint32_t tsval = f.p_tsval + static_cast<uint32_t>(static_cast<int8_t>(in.u8()));
    if (seq_after(tsval, f.p_tsval)) f.p_tsval = tsval;
    s.opts.timestamps = wire::TcpTimestamps{tsval, f.s_tsval + in.delta(sel >> 6)};
  }
  if (sel & 2) {
    s.opts.sack_count = static_cast<uint8_t>(1 + ((sel >> 2) & 3));
    const uint32_t span = f.s_max - f.s_acked + 64;
    for (uint8_t i = 0; i < s.opts.sack_count; ++i) {
      uint32_t left = f.s_acked + in.u16() % span;
      s.opts.sack[i] = wire::SackBlock{wire::SeqNum{left}, wire::SeqNum{left + (in.u8() + 1u) * 16}};
    }
  }
  if (sel & 0x10) s.opts.mss = in.u16();
  if (sel & 0x20) {
    auto j = in.take(in.u8() % 10);
    s.junk_options.assign(j.begin(), j.end());
  }
}

SegSpec World::seg_spec(Flow& f, Input& in) {
  SegSpec s;
  const uint8_t fsel = in.u8();
  s.flags = (fsel & 0x80) ? in.u8() : kFlagTable[fsel % kFlagTable.size()];
  const uint8_t seqsel = in.u8(), acksel = in.u8();
  const uint32_t seq_bases[4] = {f.p_nxt, f.p_rcv, f.p_iss, f.p_rcv + (f.s_wnd != 0 ? f.s_wnd : 1)};
  const uint32_t ack_bases[4] = {f.s_max, f.s_acked, f.s_iss, f.s_acked + 1};
  s.seq = seq_bases[seqsel & 3] + in.delta(seqsel >> 2);
  s.ack = ack_bases[acksel & 3] + in.delta(acksel >> 2);
  const uint8_t len = in.u8();
  s.payload = len < 200   ? len
              : len < 240 ? static_cast<uint16_t>((len - 200) * 37)
                          : static_cast<uint16_t>(1460 + (len - 240) * 28);
  s.window = (fsel & 0x40) ? in.u16() : 65535;
  if (s.flags & fl::urg) s.urgent = in.u16();
  s.fill = static_cast<uint8_t>(fsel);
  seg_options(f, s, in.u8(), in);
  return s;
}

void World::op_segment(Input& in) {
  Flow* f = pick_flow(in.u8());
  if (f == nullptr) return;
  SegSpec s = seg_spec(*f, in);
  const uint8_t mode = in.u8();
  FrameSpec k = frame_spec(in, mode);
  Bytes t = tcp_segment(*f, s, k.bad_l4_csum);
  if (mode & 0x08) {  // mutate the template, then fix the checksum (unless it is meant to be bad)
    const uint8_t n = 1 + in.u8() % 4;
    for (uint8_t i = 0; i < n; ++i) t[in.u16() % t.size()] ^= static_cast<uint8_t>(in.u8() | 1);
    store_be16(t.data() + 16, 0);
    uint16_t cs = wire::tcp_checksum(f->peer_ip, kStackIp, t);
    store_be16(t.data() + 16, k.bad_l4_csum ? static_cast<uint16_t>(cs ^ 0x0f0f) : cs);
  }
  inject(ipv4_frame(f->peer_ip, kStackIp, 6, t, k), k.chunk);
  if (!(s.flags & fl::rst) && s.seq == f->p_nxt) {
    f->p_nxt += s.payload + ((s.flags & fl::syn) ? 1 : 0) + ((s.flags & fl::fin) ? 1 : 0);
  }
  if ((s.flags & fl::ack) && seq_after(s.ack, f->s_acked) && !seq_after(s.ack, f->s_max)) f->s_acked = s.ack;
}

void World::op_syn(Input& in) {
  const uint8_t sel = in.u8();
  const uint16_t ports[4] = {kHttpPort, kCookiePort, 81, in.u16()};
  const uint16_t dport = ports[sel & 3];
  const uint16_t sport = static_cast<uint16_t>((sel & 0x40) ? 40000 + in.u8() % 8 : next_peer_port_++);
  const Ipv4Addr src = (sel & 4) ? kPeer2Ip : kPeerIp;
  Flow* f = find_flow(src, sport, dport);
  if (f == nullptr) f = add_flow(src, sport, dport);
  Flow scratch;  // untracked: the model is full
  if (f == nullptr) {
    scratch.peer_ip = src;
    scratch.peer_port = sport;
    scratch.stack_port = dport;
    f = &scratch;
  }
  f->p_iss = f->p_rcv = in.u32();
  f->p_nxt = f->p_iss + 1;
  f->ts = sel & 8;
  f->sack = sel & 0x10;
  f->ws = sel & 0x20;
  f->p_wscale = in.u8();
  f->auto_ack = sel & 0x80;
  f->stack_iss_known = false;
  SegSpec s;
  s.flags = fl::syn;
  s.seq = f->p_iss;
  s.opts.mss = in.u16();
  s.opts.sack_permitted = f->sack;
  if (f->ws) s.opts.wscale = f->p_wscale;
  if (f->ts) s.opts.timestamps = wire::TcpTimestamps{f->p_tsval, 0};
  const uint8_t mode = in.u8();
  s.payload = (mode & 0x08) ? in.u8() : 0;
  f->p_nxt += s.payload;
  send_segment(*f, s, frame_spec(in, mode));
}

void World::op_advance(Input& in) {
  const uint8_t b = in.u8();
  uint64_t ns;
  if (b < 128) {
    ns = (b * 2u + 1) * kMs;  // 1 .. 255 ms: delayed ACKs, RTOs
  } else if (b < 224) {
    ns = (b - 127u) * 100 * kMs;  // 0.1 .. 9.7 s: retries, TIME_WAIT, reassembly timeout
  } else {
    ns = (b - 223u) * 8 * kSec;  // 8 .. 256 s: keepalive, neighbour ageing, giving up
  }
  now_ += ns;
}

void World::op_app(Input& in) {
  const uint8_t a = in.u8();
  Flow* f = pick_flow(in.u8());
  if ((a & 0x0f) < 11 && f != nullptr && f->app != nullptr) {
    op_app_conn(*f, a & 0x0f, in);
  } else {
    op_app_other(a, in);
  }
}

void World::op_app_conn(Flow& f, uint8_t a, Input& in) {
  tcp::Connection* c = f.app;
  switch (a) {
    case 0: {
      std::vector<uint8_t> buf(1 + in.u16() % 20000);
      (void)c->recv_copy(buf);
      break;
    }
    case 1: {
      Packet p;
      (void)c->recv(p, 1 + in.u16());
      break;
    }
    case 2: {
      Bytes data(in.u16() % 24000, 0xa5);
      (void)c->send_copy(data);
      break;
    }
    case 3:
      (void)c->shutdown();
      break;
    case 4:
      c->close();
      f.app = nullptr;
      break;
    case 5:
      c->abort();
      f.app = nullptr;
      break;
    case 6: {
      uint32_t b = 1024u * (in.u8() % 40);
      if (c->set_recv_buffer(b).ok()) f.max_rcvbuf = std::max(f.max_rcvbuf, b);
      break;
    }
    case 7: {
      uint32_t b = 1024u * (in.u8() % 40);
      if (c->set_send_buffer(b).ok()) {
        f.max_sndbuf = std::max(f.max_sndbuf, b);
        max_sndbuf_ = std::max(max_sndbuf_, b);
      }
      break;
    }
    case 8:
      c->set_nodelay(in.u8() & 1);
      break;
    case 9:
      c->set_keepalive(tcp::KeepaliveOptions{true, 500 * kMs, 200 * kMs, 2});
      break;
    default:
      c->set_linger((in.u8() & 1) ? std::optional<uint64_t>(0) : std::optional<uint64_t>(kSec));
      break;
  }
}

void World::op_app_other(uint8_t a, Input& in) {
  switch (a % 5) {
    case 0:
      accept_all();
      break;
    case 1: {
      const size_t i = (a >> 4) & 1;
      if (listeners_[i] != nullptr) {
        listeners_[i]->close();
        listeners_[i] = nullptr;
      } else {
        tcp::ListenOptions lo;
        lo.backlog = 1 + in.u8() % 4;
        auto l = core_->tcp().listen(i == 0 ? kHttpPort : kCookiePort, lo);
        if (l.ok()) listeners_[i] = *l;
      }
      break;
    }
    case 2: {
      uint8_t buf[2048];
      (void)udp_->recv_copy(buf);
      break;
    }
    case 3: {
      Bytes d(in.u8() * 8u, 0x33);
      (void)udp_->send_copy(udp::Endpoint{(a & 0x40) ? kPeer2Ip : kPeerIp, 9}, d);
      break;
    }
    default:
      op_connect(in);
      break;
  }
}

void World::op_connect(Input& in) {
  const uint8_t sel = in.u8();
  tcp::ConnectOptions o;
  if (sel & 0x10) o.local_port = static_cast<uint16_t>(49152 + in.u8() % 4);
  const Ipv4Addr dst = (sel & 0x20) ? kPeer2Ip : kPeerIp;
  auto c = core_->tcp().connect(tcp::Endpoint{dst, static_cast<uint16_t>(kPeerPort + (sel & 3))}, o);
  if (!c.ok()) return;
  attach(*c);
  Flow* f = find_flow(dst, static_cast<uint16_t>(kPeerPort + (sel & 3)), (*c)->local().port);
  if (f == nullptr) return;
  f->ts = sel & 4;
  f->sack = sel & 8;
  f->ws = sel & 0x40;
  f->p_wscale = 3;
  f->auto_ack = sel & 0x80;
  f->stack_iss_known = false;
}

void World::op_raw(Input& in) {
  const uint8_t sel = in.u8();
  Bytes f;
  const uint16_t types[4] = {0x0800, 0x0806, 0x8100, in.u16()};
  put_eth(f, (sel & 1) ? MacAddr{{0xff, 0xff, 0xff, 0xff, 0xff, 0xff}} : kStackMac, kPeerMac,
          types[(sel >> 1) & 3]);
  auto body = in.take(in.u8());
  f.insert(f.end(), body.begin(), body.end());
  if (types[(sel >> 1) & 3] == 0x0800 && f.size() >= 34 && (sel & 8)) {  // a plausible IPv4 header
    uint8_t* h = f.data() + 14;
    h[0] = static_cast<uint8_t>(0x45);
    store_be16(h + 2, static_cast<uint16_t>(f.size() - 14));
    kPeerIp.store(h + 12);
    kStackIp.store(h + 16);
    store_be16(h + 10, 0);
    store_be16(h + 10, internet_checksum(std::span<const uint8_t>(h, 20)));
  }
  inject(f, (sel & 0x10) ? static_cast<uint8_t>(1 + (sel >> 5)) : 0);
}

void World::op_frags(Input& in) {
  const uint8_t sel = in.u8();
  Bytes l4;
  Ipv4Addr src = kPeerIp;
  uint8_t proto = 17;
  Flow* f = (sel & 1) ? pick_flow(in.u8()) : nullptr;
  if (f != nullptr) {
    SegSpec s = seg_spec(*f, in);
    l4 = tcp_segment(*f, s, false);
    src = f->peer_ip;
    proto = 6;
  } else {
    l4 =
        udp_datagram(kPeerIp, 9999, (sel & 2) ? kEchoPort : in.u16(), static_cast<uint16_t>(in.u8() * 12), 0);
  }
  const uint16_t id = (sel & 4) ? kSetupFragId : in.u16();
  send_fragments(src, proto, l4, id, static_cast<uint8_t>(sel >> 3), in);
}

// Split @p l4 into fragments: mode 0 in order, 1 reversed, 2 in order with one left out, 3 pieces the
// input describes (any offset, length, MF; overlaps included).
void World::send_fragments(Ipv4Addr src, uint8_t proto, const Bytes& l4, uint16_t id, uint8_t mode,
                           Input& in) {
  struct Piece {
    uint32_t off, len;
    bool mf;
  };
  std::vector<Piece> pieces;
  const uint32_t unit = 8u * (1 + in.u8() % 32);
  if ((mode & 3) < 3) {
    for (uint32_t off = 0; off < l4.size(); off += unit) {
      pieces.push_back(
          {off, std::min<uint32_t>(unit, static_cast<uint32_t>(l4.size()) - off), off + unit < l4.size()});
    }
    if ((mode & 3) == 1) std::reverse(pieces.begin(), pieces.end());
    if ((mode & 3) == 2 && pieces.size() > 1) pieces.erase(pieces.begin() + in.u8() % pieces.size());
  } else {
    const uint8_t n = 1 + in.u8() % 6;
    for (uint8_t i = 0; i < n; ++i) {
      pieces.push_back({in.u8() * 8u, 1 + in.u8() * 4u, (in.u8() & 1) != 0});
    }
  }
  if (pieces.size() > 24) pieces.resize(24);
  for (const Piece& p : pieces) {
    Bytes part(p.len, 0);
    for (uint32_t i = 0; i < p.len && p.off + i < l4.size(); ++i) part[i] = l4[p.off + i];
    FrameSpec k;
    k.ip_id = id;
    k.frag = static_cast<uint16_t>((p.mf ? 0x2000 : 0) | ((p.off / 8) & 0x1fff));
    inject(ipv4_frame(src, kStackIp, proto, part, k), (mode & 4) ? 8 : 0);
  }
}

void World::op_icmp(Input& in) {
  static constexpr uint8_t kTypes[8][2] = {{3, 4}, {3, 3}, {3, 1}, {3, 2}, {11, 0}, {4, 0}, {12, 0}, {8, 0}};
  const uint8_t sel = in.u8();
  Flow* f = pick_flow(in.u8());
  const uint8_t type = kTypes[sel & 7][0], code = kTypes[sel & 7][1];
  Bytes m(8, 0);
  m[0] = type;
  m[1] = code;
  if (type == 3 && code == 4) store_be16(m.data() + 6, in.u16());  // next-hop MTU (RFC 1191)
  if (type == 8 || f == nullptr) {
    auto p = in.take(in.u8());
    m.insert(m.end(), p.begin(), p.end());
  } else {  // the quoted datagram: our IPv4 header and the first bytes of our segment
    FrameSpec q;
    Bytes quoted(12, 0);
    store_be16(quoted.data(), f->stack_port);
    store_be16(quoted.data() + 2, f->peer_port);
    store_be32(quoted.data() + 4, f->s_acked + in.delta(sel >> 4));
    Bytes ip = ipv4_frame(kStackIp, f->peer_ip, (sel & 8) ? 17 : 6, quoted, q);
    const size_t keep = 14 + 20 + ((sel & 0x40) ? in.u8() % 12 : 8);
    m.insert(m.end(), ip.begin() + 14, ip.begin() + static_cast<ptrdiff_t>(std::min(keep, ip.size())));
  }
  uint16_t cs = internet_checksum(m);
  store_be16(m.data() + 2, (sel & 0x80) && (in.u8() & 1) ? static_cast<uint16_t>(cs ^ 1) : cs);
  FrameSpec k;
  k.ip_id = ip_id_++;
  inject(ipv4_frame(f != nullptr ? f->peer_ip : kPeerIp, kStackIp, 1, m, k));
}

void World::op_arp(Input& in) {
  const uint8_t sel = in.u8();
  const Ipv4Addr spas[4] = {kPeerIp, kPeer2Ip,
                            Ipv4Addr::from_octets(198, 18, 0, static_cast<uint8_t>(4 + in.u8() % 64)),
                            (sel & 0x40) ? kStackIp : Ipv4Addr{}};
  MacAddr sha = kPeerMac;
  if (sel & 8) {
    auto b = in.take(6);
    std::copy(b.begin(), b.end(), sha.b.begin());
  }
  const Ipv4Addr tpa = (sel & 0x10) ? kStackIp : Ipv4Addr::from_octets(198, 18, 0, in.u8());
  Bytes f = arp_frame((sel & 1) ? 2 : 1, sha, spas[(sel >> 1) & 3], tpa, sel & 0x20);
  if (sel & 0x80) {  // damage the fixed fields (hardware/protocol type and lengths) or cut it short
    f[14 + in.u8() % 8] ^= static_cast<uint8_t>(in.u8() | 1);
    f.resize(14 + in.u8() % 29);
  }
  inject(f);
}

void World::op_udp(Input& in) {
  const uint8_t sel = in.u8();
  const uint16_t port = (sel & 1) ? kEchoPort : in.u16();
  const Ipv4Addr src = (sel & 2) ? kPeer2Ip : kPeerIp;
  Bytes u =
      udp_datagram(src, 9, port, static_cast<uint16_t>(in.u8() * 6), static_cast<uint8_t>((sel >> 2) % 3));
  FrameSpec k = frame_spec(in, static_cast<uint8_t>(sel & 0xf0));
  inject(ipv4_frame(src, kStackIp, 17, u, k), k.chunk);
}

// ---- invariants --------------------------------------------------------------

void World::check() {
  check_tcp();
  check_l2_l3();
  check_counters();
  check_mbufs();
}

void World::check_tcp() {
  tcp::Tcp& t = core_->tcp();
  const tcp::TcpParams& tp = t.params();
  FUZZ_CHECK(t.connections() <= tp.max_connections);
  FUZZ_CHECK(t.time_wait() <= tp.max_time_wait);
  uint64_t mem = 0, ooo_mem = 0;
  uint32_t ooo = 0;
  for (Flow& f : flows_) {
    const tcp::Connection* c = t.find(f.tuple());
    if (c == nullptr) continue;
    const tcp::TcpInfo i = c->info();
    FUZZ_CHECK(i.ooo_segments <= tp.ooo_per_connection);
    FUZZ_CHECK(i.ooo_queued == 0 || i.ooo_segments > 0);  // (a FIN alone may be held with no bytes)
    // Receive side: what the window allowed, within the memory limit (docs/robustness.md).
    FUZZ_CHECK(i.recv_queued + i.ooo_queued <= std::max(f.max_rcvbuf, c->options().recv_buffer));
    // Their truesize within the connection's limit; after the application lowered its buffer the
    // queues may hold more than the new limit (nothing is dropped), but must not grow.
    const uint64_t held = i.recv_mem + i.ooo_mem;
    if (held > i.recv_mem_limit && held > f.held_mem) {
      std::fprintf(stderr,
                   "%u->%u: recv_mem %lu + ooo_mem %lu > recv_mem_limit %lu (recv_buffer %u, %u/%u bytes, %u "
                   "ooo segments)\n",
                   f.peer_port, f.stack_port, static_cast<unsigned long>(i.recv_mem),
                   static_cast<unsigned long>(i.ooo_mem), static_cast<unsigned long>(i.recv_mem_limit),
                   c->options().recv_buffer, i.recv_queued, i.ooo_queued, i.ooo_segments);
    }
    FUZZ_CHECK(held <= i.recv_mem_limit || held <= f.held_mem);
    f.held_mem = held;
    // Send side: send_copy() takes at most send_space(); the queue may exceed its truesize limit by
    // the one packet that found space.
    FUZZ_CHECK(i.send_queued <= std::max(f.max_sndbuf, c->options().send_buffer));
    FUZZ_CHECK(i.send_mem <= i.send_mem_limit + 2u * f.max_sndbuf);
    mem += i.send_mem + i.recv_mem + i.ooo_mem;
    ooo_mem += i.ooo_mem;
    ooo += i.ooo_segments;
  }
  FUZZ_CHECK(ooo <= tp.ooo_nodes);
  FUZZ_CHECK(mem <= t.memory_used());
  FUZZ_CHECK(ooo_mem <= t.memory_ooo() && t.memory_ooo() <= t.memory_used());
  // Receive data never passes the core's limit; a send may overshoot it by what one send_copy() took.
  FUZZ_CHECK(t.memory_used() <= t.memory_limit() + 2ull * max_sndbuf_ + 4ull * g_min_truesize);
}

void World::check_l2_l3() {
  const l3::Reassembler& r = core_->ipv4().reassembler();
  const l3::ReassemblyParams rp{kSec, 32 * 1024, 4, 24};
  FUZZ_CHECK(r.in_progress() <= rp.max_datagrams);
  FUZZ_CHECK(r.fragments_held() <= rp.max_fragments);
  FUZZ_CHECK(r.bytes_held() <= rp.max_bytes);
  const l2::NeighbourTable& n = core_->interface(0).neighbours();
  FUZZ_CHECK(n.size() <= 8);
  n.for_each([](const l2::NeighEntry& e) {
    if (e.qlen > 4)
      std::fprintf(stderr, "neighbour %08x state %d qlen %u\n", e.ip.v, static_cast<int>(e.state), e.qlen);
    FUZZ_CHECK(e.qlen <= 4);
  });
  FUZZ_CHECK(udp_->queued() <= 8);
}

void World::check_counters() {
  const l2::L2Stats& l2 = core_->interface(0).stats();
  const l3::L3Stats& l3 = core_->ipv4().stats();
  const tcp::TcpStats& ts = core_->tcp().stats();
  // Every frame handed to the port was received, and each was counted once by its fate.
  FUZZ_CHECK(core_->stats().rx_packets + wire_.in_flight(false) == frames_in_);
  FUZZ_CHECK(l2.rx_frames == core_->stats().rx_packets);
  using D = l2::L2Drop;
  FUZZ_CHECK(l2.rx_frames == l2.rx_ipv4 + l2.rx_arp + l2.dropped(D::truncated) + l2.dropped(D::not_for_us) +
                                 l2.dropped(D::multicast) + l2.dropped(D::vlan) +
                                 l2.dropped(D::unknown_ethertype));
  FUZZ_CHECK(l3.rx_datagrams == l2.rx_ipv4);  // no forwarding: nothing takes the fast path
  FUZZ_CHECK(l3.rx_delivered <= l3.rx_datagrams + l3.reassembled);
  FUZZ_CHECK(ts.in_segs + core_->udp().stats().rx_datagrams + l3.icmp_in <= l3.rx_delivered);
  using T = tcp::TcpDrop;
  FUZZ_CHECK(ts.dropped(T::truncated) + ts.dropped(T::bad_header) + ts.dropped(T::bad_checksum) +
                 ts.dropped(T::broadcast) <=
             ts.in_segs);
  FUZZ_CHECK(ts.in_rsts <= ts.in_segs);
}

// Mbufs held by the stack are accounted for: TCP's queues (by truesize), reassembly (by buffer
// length), neighbour and UDP queues (bounded in packets; a received datagram may be a chain of up
// to 32 mbufs, see inject()), frames on the wire.
// Whatever else holds mbufs (header mbufs, clones) is transient and fits the slack.
void World::check_mbufs() {
  const l3::Reassembler& r = core_->ipv4().reassembler();
  size_t queued = 0;
  core_->interface(0).neighbours().for_each([&](const l2::NeighEntry& e) { queued += e.qlen; });
  const uint64_t bound = core_->tcp().memory_used() / g_min_truesize + r.bytes_held() / 256 + 4 * queued +
                         32 * udp_->queued() + 32 * (wire_.in_flight(false) + wire_.in_flight(true)) + 32;
  const unsigned used = mbufs_in_use();
  FUZZ_CHECK(used >= g_baseline);
  if (used - g_baseline > bound) {
    std::fprintf(stderr,
                 "mbufs: %u in use above the baseline; bound %lu (tcp %lu B, reassembly %lu B, %zu queued "
                 "for ARP, %zu UDP, wire %zu/%zu)\n",
                 used - g_baseline, static_cast<unsigned long>(bound),
                 static_cast<unsigned long>(core_->tcp().memory_used()),
                 static_cast<unsigned long>(r.bytes_held()), queued, udp_->queued(), wire_.in_flight(false),
                 wire_.in_flight(true));
  }
  FUZZ_CHECK(used - g_baseline <= bound);
  FUZZ_CHECK(rte_mempool_avail_count(g_pool) > 0);
}

// ---- the end of an input -----------------------------------------------------

bool World::idle() {
  size_t queued = 0;
  core_->interface(0).neighbours().for_each([&](const l2::NeighEntry& e) { queued += e.qlen; });
  const tcp::Tcp& t = core_->tcp();
  return t.connections() == 0 && t.time_wait() == 0 && core_->ipv4().reassembler().in_progress() == 0 &&
         queued == 0;
}

void World::wind_down() {
  // The application lets go of everything: closes gracefully (setup bit 6) or resets.
  for (Flow& f : flows_) {
    if (f.app == nullptr) continue;
    if (setup_ & 0x40) {
      f.app->close();
    } else {
      f.app->abort();
    }
    f.app = nullptr;
  }
  for (tcp::Connection* c : extra_) c->close();
  extra_.clear();
  for (tcp::Listener*& l : listeners_) {
    if (l != nullptr) l->close();
    l = nullptr;
  }
  // The peer falls silent: retransmissions, probes and keepalives give up, FIN_WAIT_2 and
  // TIME_WAIT expire, reassembly times out, unresolved neighbours fail.
  silent_ = true;
  tcp::Tcp& t = core_->tcp();
  // Every timer involved gives up within about 30 s, except zero-window probing: once its
  // backoff reached the one-minute cap (the peer answered earlier probes), max_retries + 1 = 4
  // unanswered probes take up to 4 minutes (found by the fuzzer: a FIN_WAIT_1 connection probing
  // a closed window outlived a 200 s wind-down).
  for (int i = 0; i < 60 && !idle(); ++i) {
    now_ += 5 * kSec;
    step();
  }
  FUZZ_CHECK(t.connections() == 0);
  FUZZ_CHECK(t.time_wait() == 0);
  FUZZ_CHECK(t.memory_used() == 0 && t.memory_ooo() == 0);
  const l3::Reassembler& r = core_->ipv4().reassembler();
  FUZZ_CHECK(r.in_progress() == 0 && r.fragments_held() == 0 && r.bytes_held() == 0);
  core_->interface(0).neighbours().for_each([](const l2::NeighEntry& e) { FUZZ_CHECK(e.qlen == 0); });
}

}  // namespace
}  // namespace tern::fuzz_core

// ---------------------------------------------------------------------------
// Entry points (libFuzzer's, also called by replay_main.cpp).
// ---------------------------------------------------------------------------
extern "C" int LLVMFuzzerInitialize(int* /*argc*/, char*** /*argv*/) {
  using namespace tern::fuzz_core;
  const std::string prefix = "--file-prefix=tern-fuzz-core-" + std::to_string(getpid());
  const char* eal_argv[] = {
      "fuzz_core",   "--no-huge",           "-m",           "192", "--no-pci", "--no-telemetry",
      "--no-shconf", "--log-level=*:error", prefix.c_str(), "-l",  "0"};
  if (rte_eal_init(static_cast<int>(std::size(eal_argv)), const_cast<char**>(eal_argv)) < 0) {
    std::fprintf(stderr, "fuzz_core: rte_eal_init failed: %s\n", rte_strerror(rte_errno));
    std::abort();
  }
  g_pool = rte_pktmbuf_pool_create("fuzz_core", 4095, 0, 0, RTE_MBUF_DEFAULT_BUF_SIZE, SOCKET_ID_ANY);
  g_small = rte_pktmbuf_pool_create("fuzz_core_small", 2047, 0, 0, 256 + RTE_PKTMBUF_HEADROOM, SOCKET_ID_ANY);
  if (g_pool == nullptr || g_small == nullptr) {
    std::fprintf(stderr, "fuzz_core: mbuf pool creation failed: %s\n", rte_strerror(rte_errno));
    std::abort();
  }
  g_verbose = std::getenv("TERN_FUZZ_CORE_VERBOSE") != nullptr;
  g_min_truesize = static_cast<uint32_t>(sizeof(rte_mbuf)) + 256 + RTE_PKTMBUF_HEADROOM;
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace tern::fuzz_core;
  if (size == 0) return 0;
  Input in(data + 1, size - 1);
  g_baseline = mbufs_in_use();
  {
    World w(data[0]);
    w.run(in);
    w.wind_down();
  }
  FUZZ_CHECK(mbufs_in_use() == g_baseline);  // tearing the Core down returned every mbuf
  return 0;
}
