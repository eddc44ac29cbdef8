// tern-churn-soak: connections opened, used and closed without pause between two tern Cores in
// one process, joined by a PairWire whose two directions go through the fault-injecting port
// (loss, reordering, duplication, bit corruption), for a wall-clock duration. Time inside the
// stacks is a fake clock, so TIME_WAIT and retransmission timers run as fast as the CPU allows.
//
// Each connection (client 198.18.0.1 -> server 198.18.0.2:7000) carries a request and a response
// of random sizes, every byte checked, and ends one of four ways: the client closes first (client
// TIME_WAIT), the server closes first (server TIME_WAIT), the client resets mid-response, or the
// client half-closes after its request. Up to --concurrency connections are open at once.
//
// The run is cut into epochs. During an epoch memory is sampled every --sample seconds (heap from
// mallinfo2, RSS, mbufs in use per pool, TCBs, TIME_WAIT entries, TCP buffer memory, out-of-order
// segments held). At the end of each epoch no new connection opens, the open ones finish, and the
// fake clock runs until every TCB and TIME_WAIT entry is gone: the idle level. Verdict (exit 1 if
// any fails): at every idle point no TCB, no TIME_WAIT entry, no TCP buffer memory, every mbuf
// back in its pool; the heap at the last idle point within --heap-tolerance of the second one (the
// first epoch warms the TCB and TIME_WAIT stores, which are kept for reuse); RSS within 32 MiB of
// it; no byte delivered wrong; some connections completed.
//
//   tern-churn-soak [--duration S] [--epoch S] [--sample S] [--concurrency N] [--seed N]
//                   [--loss P] [--reorder P] [--duplicate P] [--corrupt P] [--heap-tolerance BYTES]
//
// Prints one JSON object (the summary, the samples and the idle points). perf/README.md.
#include <malloc.h>
#include <rte_eal.h>
#include <rte_mempool.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "micro/bench_util.hpp"
#include "tern/base/byteorder.hpp"
#include "tern/base/json.hpp"
#include "tern/drivers/fault_port.hpp"
#include "tern/drivers/pair_wire.hpp"
#include "tern/drivers/port_ref.hpp"
#include "tern/stack/core.hpp"
#include "tern/tcp/tcp.hpp"

namespace {

using namespace tern;
using Clock = std::chrono::steady_clock;

const wire::MacAddr kMacC{{0x02, 0, 0, 0, 0, 0x0c}};
const wire::MacAddr kMacS{{0x02, 0, 0, 0, 0, 0x05}};
const wire::Ipv4Addr kIpC = wire::Ipv4Addr::from_octets(198, 18, 0, 1);
const wire::Ipv4Addr kIpS = wire::Ipv4Addr::from_octets(198, 18, 0, 2);
constexpr uint16_t kPort = 7000;
constexpr uint64_t kMs = 1'000'000;
constexpr uint64_t kSec = 1'000 * kMs;
constexpr uint64_t kStepNs = 50'000;            // fake time per loop turn while churning
constexpr uint64_t kConnDeadline = 300 * kSec;  // fake time a connection may take before it is aborted
constexpr size_t kHeaderLen = 12;               // request header: id, request length, response length|mode
constexpr uint64_t kRssTolerance = 32ull << 20;

[[noreturn]] void usage(const char* why) {
  std::fprintf(stderr,
               "tern-churn-soak: %s\nusage: tern-churn-soak [--duration S] [--epoch S] [--sample S] "
               "[--concurrency N] [--seed N] [--loss P] [--reorder P] [--duplicate P] [--corrupt P] "
               "[--heap-tolerance BYTES]\n",
               why);
  std::exit(2);
}

struct Options {
  double duration_s = 1800;
  double epoch_s = 0;   // 0: duration / 6, at most 300 s
  double sample_s = 0;  // 0: epoch / 10
  uint32_t concurrency = 64;
  uint64_t seed = 1;
  double loss = 0.01, reorder = 0.01, duplicate = 0.005, corrupt = 0.005;
  uint64_t heap_tolerance = 256 * 1024;
};

Options parse(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (i + 1 >= argc) usage(("missing value after " + a).c_str());
    const char* v = argv[++i];
    char* end = nullptr;
    const double d = std::strtod(v, &end);
    if (end == v || *end != '\0' || d < 0) usage(("bad value for " + a).c_str());
    if (a == "--duration")
      o.duration_s = d;
    else if (a == "--epoch")
      o.epoch_s = d;
    else if (a == "--sample")
      o.sample_s = d;
    else if (a == "--concurrency")
      o.concurrency = static_cast<uint32_t>(d);
    else if (a == "--seed")
      o.seed = static_cast<uint64_t>(d);
    else if (a == "--loss")
      o.loss = d;
    else if (a == "--reorder")
      o.reorder = d;
    else if (a == "--duplicate")
      o.duplicate = d;
    else if (a == "--corrupt")
      o.corrupt = d;
    else if (a == "--heap-tolerance")
      o.heap_tolerance = static_cast<uint64_t>(d);
    else
      usage(("unknown option " + a).c_str());
  }
  if (o.duration_s <= 0 || o.concurrency == 0 || o.concurrency > 4096)
    usage("duration > 0, concurrency 1..4096");
  if (o.epoch_s <= 0) o.epoch_s = std::min(300.0, o.duration_s / 6);
  if (o.sample_s <= 0) o.sample_s = o.epoch_s / 10;
  return o;
}

size_t rss_bytes() {
  std::ifstream f("/proc/self/statm");
  size_t pages = 0, resident = 0;
  f >> pages >> resident;
  return resident * static_cast<size_t>(sysconf(_SC_PAGESIZE));
}

uint64_t heap_bytes() {
  struct mallinfo2 m = mallinfo2();
  return m.uordblks + m.hblkhd;  // in use from the arenas, plus blocks malloc mmapped
}

// Byte i of connection id's stream in direction dir: loss, duplication or reordering that got
// through, or a corruption no checksum caught, shows up as a mismatch.
uint8_t stream_byte(uint32_t id, uint32_t i, uint8_t dir) {
  uint32_t x = (id * 0x9E3779B1u) ^ (i * 2654435761u) ^ (uint32_t{dir} << 24);
  return static_cast<uint8_t>(x >> 13 ^ x >> 24 ^ i);
}

enum class Ending : uint8_t { client_closes, server_closes, client_resets, client_half_closes };

struct ClientConn {
  tcp::Connection* c = nullptr;
  uint32_t id = 0, req = 0, resp = 0;
  Ending ending = Ending::client_closes;
  uint32_t sent = 0, got = 0;  // sent counts the header
  bool shut = false;
  uint64_t deadline = 0;
};

struct ServerConn {
  tcp::Connection* c = nullptr;
  uint8_t hdr[kHeaderLen] = {};
  uint32_t hdr_got = 0;
  uint32_t id = 0, req = 0, resp = 0;
  Ending ending = Ending::client_closes;
  uint32_t got = 0, sent = 0;
  bool eof = false;
  uint64_t deadline = 0;
};

struct Counters {
  uint64_t opened = 0, completed = 0, resets_done = 0, failed = 0, stuck = 0, data_errors = 0;
  uint64_t bytes = 0;
};

struct Sample {
  double t = 0;
  uint64_t heap = 0, rss = 0;
  unsigned mbufs_c = 0, mbufs_s = 0;
  uint32_t tcb_c = 0, tcb_s = 0, tw_c = 0, tw_s = 0;
  uint64_t tcp_mem_c = 0, tcp_mem_s = 0;
  uint32_t ooo_segments = 0;
  uint64_t completed = 0;
};

class Soak {
 public:
  explicit Soak(const Options& o);
  ~Soak();
  int run();

 private:
  void turn(uint64_t step);
  void open_clients();
  void pump_client(ClientConn& k);
  bool client_done(ClientConn& k);
  void pump_server(ServerConn& s);
  bool server_done(ServerConn& s);
  void accept_all();
  void churn(double until_s);
  bool finish_epoch();
  Sample sample(double t);
  bool check(std::vector<std::string>& failures) const;
  void write_json(const std::vector<std::string>& failures) const;
  double elapsed() const { return std::chrono::duration<double>(Clock::now() - t0_).count(); }

  Options o_;
  std::mt19937_64 rng_;
  rte_mempool* pool_c_ = nullptr;
  rte_mempool* pool_s_ = nullptr;
  std::unique_ptr<drivers::PairWire> wire_;
  std::unique_ptr<drivers::FaultPort> fault_c_, fault_s_;
  std::unique_ptr<Core> client_, server_;
  tcp::Listener* listener_ = nullptr;
  uint64_t now_ = kSec;
  std::vector<ClientConn> clients_;
  std::vector<ServerConn> servers_;
  uint32_t next_id_ = 1;
  Counters n_;
  unsigned base_c_ = 0, base_s_ = 0;  // mbufs in use when idle before the first connection
  std::vector<Sample> samples_, idle_;
  std::vector<uint8_t> buf_;
  Clock::time_point t0_;
  uint64_t epochs_failed_ = 0;
};

CoreParams params(Port& port, wire::Ipv4Addr ip, rte_mempool* pool) {
  CoreParams p = perf::host_params(port, ip, pool);
  p.tcp.max_connections = 8192;
  p.tcp.max_time_wait = 8192;  // below the churn's TIME_WAIT population: recycling runs too
  p.tcp.socket.send_buffer = 64 * 1024;
  p.tcp.socket.recv_buffer = 64 * 1024;
  p.tcp.ooo_nodes = 16384;
  return p;
}

Soak::Soak(const Options& o) : o_(o), rng_(o.seed), buf_(64 * 1024) {
  pool_c_ = rte_pktmbuf_pool_create("soak_c", 32767, 256, 0, RTE_MBUF_DEFAULT_BUF_SIZE, 0);
  pool_s_ = rte_pktmbuf_pool_create("soak_s", 32767, 256, 0, RTE_MBUF_DEFAULT_BUF_SIZE, 0);
  perf::require(pool_c_ != nullptr && pool_s_ != nullptr, "cannot create the mbuf pools (EAL memory: -m)");
  wire_ = std::make_unique<drivers::PairWire>(perf::plain_caps(kMacC), perf::plain_caps(kMacS), 16384);
  drivers::FaultOptions f;
  f.seed = o.seed;
  f.loss = o.loss;
  f.reorder = o.reorder;
  f.duplicate = o.duplicate;
  f.corrupt = o.corrupt;
  drivers::FaultOptions fs = f;
  fs.seed = o.seed + 1000;
  fault_c_ = std::make_unique<drivers::FaultPort>(drivers::ref(wire_->a()), f, pool_c_);
  fault_s_ = std::make_unique<drivers::FaultPort>(drivers::ref(wire_->b()), fs, pool_s_);
  client_ = std::make_unique<Core>(params(*fault_c_, kIpC, pool_c_));
  server_ = std::make_unique<Core>(params(*fault_s_, kIpS, pool_s_));
  client_->start(now_);
  server_->start(now_);
  client_->interface(0).neighbours().learn(kIpS, kMacS, true, now_);
  server_->interface(0).neighbours().learn(kIpC, kMacC, true, now_);
  auto l = server_->tcp().listen(kPort, tcp::ListenOptions{4096, {}});
  perf::require(l.ok(), "listen failed");
  listener_ = *l;
}

Soak::~Soak() {
  for (ClientConn& k : clients_) k.c->abort();
  for (ServerConn& s : servers_) s.c->abort();
  listener_->close();
  client_.reset();
  server_.reset();
  fault_c_.reset();
  fault_s_.reset();
  wire_.reset();
}

void Soak::turn(uint64_t step) {
  now_ += step;
  client_->poll(now_);
  server_->poll(now_);
  accept_all();
  for (size_t i = 0; i < clients_.size();) {
    pump_client(clients_[i]);
    if (client_done(clients_[i])) {
      clients_[i] = clients_.back();
      clients_.pop_back();
    } else {
      ++i;
    }
  }
  for (size_t i = 0; i < servers_.size();) {
    pump_server(servers_[i]);
    if (server_done(servers_[i])) {
      servers_[i] = servers_.back();
      servers_.pop_back();
    } else {
      ++i;
    }
  }
}

void Soak::open_clients() {
  while (clients_.size() < o_.concurrency) {
    auto c = client_->tcp().connect(tcp::Endpoint{kIpS, kPort});
    if (!c.ok()) return;  // no ephemeral port free (all in TIME_WAIT): retried next turn
    ClientConn k;
    k.c = *c;
    k.id = next_id_++;
    k.req = 1 + static_cast<uint32_t>(rng_() % (16 * 1024));
    k.resp = 1 + static_cast<uint32_t>(rng_() % (64 * 1024));
    const uint32_t r = static_cast<uint32_t>(rng_() % 10);
    k.ending = r < 6   ? Ending::client_closes
               : r < 8 ? Ending::server_closes
               : r < 9 ? Ending::client_resets
                       : Ending::client_half_closes;
    k.deadline = now_ + kConnDeadline;
    clients_.push_back(k);
    ++n_.opened;
  }
}

void Soak::pump_client(ClientConn& k) {
  if (k.c->error()) return;
  const uint32_t total = static_cast<uint32_t>(kHeaderLen) + k.req;
  while (k.sent < total && k.c->send_space() > 0) {
    const uint32_t n =
        std::min<uint32_t>({total - k.sent, static_cast<uint32_t>(buf_.size()), k.c->send_space()});
    for (uint32_t i = 0; i < n; ++i) {
      const uint32_t pos = k.sent + i;
      if (pos < kHeaderLen) {
        uint8_t h[kHeaderLen];
        store_be32(h, k.id);
        store_be32(h + 4, k.req);
        store_be32(h + 8, k.resp << 2 | static_cast<uint32_t>(k.ending));
        buf_[i] = h[pos];
      } else {
        buf_[i] = stream_byte(k.id, pos - static_cast<uint32_t>(kHeaderLen), 0);
      }
    }
    auto r = k.c->send_copy(std::span<const uint8_t>(buf_.data(), n));
    if (!r.ok() || *r == 0) break;
    k.sent += static_cast<uint32_t>(*r);
  }
  if (k.sent == total && k.ending == Ending::client_half_closes && !k.shut) k.shut = k.c->shutdown().ok();
  for (;;) {
    auto r = k.c->recv_copy(buf_);
    if (!r.ok() || *r == 0) break;
    for (size_t i = 0; i < *r; ++i) {
      if (buf_[i] != stream_byte(k.id, k.got + static_cast<uint32_t>(i), 1)) ++n_.data_errors;
    }
    k.got += static_cast<uint32_t>(*r);
    n_.bytes += *r;
  }
  if (k.got > k.resp) ++n_.data_errors;
}

// True when the client is finished with @p k (its handle released).
bool Soak::client_done(ClientConn& k) {
  if (k.c->error()) {
    ++n_.failed;
    k.c->close();
    return true;
  }
  if (now_ > k.deadline) {
    ++n_.stuck;
    k.c->abort();
    return true;
  }
  if (k.ending == Ending::client_resets && k.got >= k.resp / 2) {
    ++n_.resets_done;
    k.c->abort();
    return true;
  }
  const bool all = k.got == k.resp;
  if (k.ending == Ending::client_closes && all) {
    ++n_.completed;
    k.c->close();
    return true;
  }
  if ((k.ending == Ending::server_closes || k.ending == Ending::client_half_closes) && all && k.c->at_eof()) {
    ++n_.completed;
    k.c->close();
    return true;
  }
  return false;
}

void Soak::accept_all() {
  while (tcp::Connection* c = listener_->accept()) {
    ServerConn s;
    s.c = c;
    s.deadline = now_ + kConnDeadline;
    servers_.push_back(s);
  }
}

void Soak::pump_server(ServerConn& s) {
  if (s.c->error()) return;
  for (;;) {
    auto r = s.c->recv_copy(buf_);
    if (!r.ok()) break;
    if (*r == 0) {
      s.eof = true;
      break;
    }
    for (size_t i = 0; i < *r; ++i) {
      if (s.hdr_got < kHeaderLen) {
        s.hdr[s.hdr_got++] = buf_[i];
        if (s.hdr_got == kHeaderLen) {
          s.id = load_be32(s.hdr);
          s.req = load_be32(s.hdr + 4);
          s.resp = load_be32(s.hdr + 8) >> 2;
          s.ending = static_cast<Ending>(load_be32(s.hdr + 8) & 3);
        }
      } else {
        if (s.got >= s.req || buf_[i] != stream_byte(s.id, s.got, 0)) ++n_.data_errors;
        ++s.got;
      }
    }
  }
  if (s.hdr_got < kHeaderLen || s.got < s.req) return;
  while (s.sent < s.resp && s.c->send_space() > 0) {
    const uint32_t n =
        std::min<uint32_t>({s.resp - s.sent, static_cast<uint32_t>(buf_.size()), s.c->send_space()});
    for (uint32_t i = 0; i < n; ++i) buf_[i] = stream_byte(s.id, s.sent + i, 1);
    auto r = s.c->send_copy(std::span<const uint8_t>(buf_.data(), n));
    if (!r.ok() || *r == 0) break;
    s.sent += static_cast<uint32_t>(*r);
  }
}

bool Soak::server_done(ServerConn& s) {
  if (s.c->error()) {  // the client reset it (expected for client_resets) or it failed
    s.c->close();
    return true;
  }
  if (now_ > s.deadline) {
    ++n_.stuck;
    s.c->abort();
    return true;
  }
  const bool replied = s.hdr_got == kHeaderLen && s.got >= s.req && s.sent == s.resp;
  const bool closes_now =
      s.ending == Ending::server_closes || (s.ending == Ending::client_half_closes && s.eof);
  if (replied && (closes_now || s.eof)) {
    s.c->close();
    return true;
  }
  return false;
}

void Soak::churn(double until_s) {
  double next_sample = elapsed();
  for (uint64_t i = 0;; ++i) {
    open_clients();
    turn(kStepNs);
    if ((i & 255) != 0) continue;
    const double t = elapsed();
    if (t >= until_s) return;
    if (t >= next_sample) {
      samples_.push_back(sample(t));
      next_sample = t + o_.sample_s;
    }
  }
}

// Let the open connections finish, then run the fake clock until both stacks are idle.
bool Soak::finish_epoch() {
  for (uint64_t limit = now_ + 2 * kConnDeadline; (!clients_.empty() || !servers_.empty()) && now_ < limit;) {
    turn(kStepNs);
  }
  if (!clients_.empty() || !servers_.empty()) return false;
  const uint64_t limit = now_ + 600 * kSec;
  auto idle = [&] {
    return client_->tcp().connections() == 0 && server_->tcp().connections() == 0 &&
           client_->tcp().time_wait() == 0 && server_->tcp().time_wait() == 0 && fault_c_->held() == 0 &&
           fault_s_->held() == 0 && wire_->in_flight(true) == 0 && wire_->in_flight(false) == 0;
  };
  while (!idle() && now_ < limit) turn(100 * kMs);
  for (int i = 0; i < 10; ++i) turn(100 * kMs);  // timers of connections just gone (delayed ACK, ARP)
  return idle();
}

Sample Soak::sample(double t) {
  Sample s;
  s.t = t;
  s.heap = heap_bytes();
  s.rss = rss_bytes();
  s.mbufs_c = rte_mempool_in_use_count(pool_c_);
  s.mbufs_s = rte_mempool_in_use_count(pool_s_);
  s.tcb_c = client_->tcp().connections();
  s.tcb_s = server_->tcp().connections();
  s.tw_c = client_->tcp().time_wait();
  s.tw_s = server_->tcp().time_wait();
  s.tcp_mem_c = client_->tcp().memory_used();
  s.tcp_mem_s = server_->tcp().memory_used();
  for (const ClientConn& k : clients_) s.ooo_segments += k.c->info().ooo_segments;
  for (const ServerConn& v : servers_) s.ooo_segments += v.c->info().ooo_segments;
  s.completed = n_.completed;
  return s;
}

int Soak::run() {
  for (int i = 0; i < 10; ++i) turn(kStepNs);
  base_c_ = rte_mempool_in_use_count(pool_c_);
  base_s_ = rte_mempool_in_use_count(pool_s_);
  t0_ = Clock::now();
  idle_.push_back(sample(0));
  const int epochs = std::max(2, static_cast<int>(std::ceil(o_.duration_s / o_.epoch_s - 1e-9)));
  for (int e = 1; e <= epochs; ++e) {
    churn(o_.duration_s * e / epochs);
    if (!finish_epoch()) ++epochs_failed_;
    idle_.push_back(sample(elapsed()));
  }
  std::vector<std::string> failures;
  const bool ok = check(failures);
  write_json(failures);
  return ok ? 0 : 1;
}

bool Soak::check(std::vector<std::string>& failures) const {
  if (n_.data_errors != 0) failures.push_back("bytes delivered wrong");
  if (n_.completed == 0) failures.push_back("no connection completed");
  if (epochs_failed_ != 0) failures.push_back("an epoch did not drain to idle");
  for (const Sample& s : idle_) {
    if (s.tcb_c + s.tcb_s + s.tw_c + s.tw_s != 0)
      failures.push_back("TCBs or TIME_WAIT entries left when idle");
    if (s.tcp_mem_c + s.tcp_mem_s != 0) failures.push_back("TCP buffer memory held when idle");
    if (s.mbufs_c != base_c_ || s.mbufs_s != base_s_)
      failures.push_back("mbufs not back in their pools when idle");
  }
  const Sample& ref = idle_[std::min<size_t>(1, idle_.size() - 1)];
  const Sample& last = idle_.back();
  if (last.heap > ref.heap + o_.heap_tolerance) failures.push_back("heap grew between idle points");
  if (last.rss > ref.rss + kRssTolerance) failures.push_back("RSS grew between idle points");
  return failures.empty();
}

void write_sample(JsonWriter& w, const Sample& s) {
  w.begin_object();
  w.kv("t", s.t)
      .kv("heap", s.heap)
      .kv("rss", s.rss)
      .kv("mbufs_client", s.mbufs_c)
      .kv("mbufs_server", s.mbufs_s);
  w.kv("tcb_client", s.tcb_c)
      .kv("tcb_server", s.tcb_s)
      .kv("time_wait_client", s.tw_c)
      .kv("time_wait_server", s.tw_s);
  w.kv("tcp_mem_client", s.tcp_mem_c).kv("tcp_mem_server", s.tcp_mem_s).kv("ooo_segments", s.ooo_segments);
  w.kv("completed", s.completed);
  w.end_object();
}

void Soak::write_json(const std::vector<std::string>& failures) const {
  JsonWriter w;
  const double secs = elapsed();
  const Sample& ref = idle_[std::min<size_t>(1, idle_.size() - 1)];
  w.begin_object();
  w.kv("ok", failures.empty()).kv("wall_seconds", secs).kv("fake_seconds", static_cast<double>(now_) / kSec);
  w.kv("epochs", static_cast<uint64_t>(idle_.size() - 1)).kv("concurrency", o_.concurrency);
  w.kv("opened", n_.opened).kv("completed", n_.completed).kv("client_resets", n_.resets_done);
  w.kv("failed", n_.failed).kv("stuck", n_.stuck).kv("data_errors", n_.data_errors).kv("bytes", n_.bytes);
  w.kv("connections_per_second", secs > 0 ? static_cast<double>(n_.opened) / secs : 0.0);
  w.kv("heap_growth", static_cast<int64_t>(idle_.back().heap) - static_cast<int64_t>(ref.heap));
  w.kv("rss_growth", static_cast<int64_t>(idle_.back().rss) - static_cast<int64_t>(ref.rss));
  w.kv("mbuf_baseline_client", base_c_).kv("mbuf_baseline_server", base_s_);
  const drivers::FaultStats a = fault_c_->fault_stats(), b = fault_s_->fault_stats();
  w.key("faults").begin_object();
  w.kv("dropped", a.dropped + b.dropped).kv("duplicated", a.duplicated + b.duplicated);
  w.kv("reordered", a.reordered + b.reordered).kv("corrupted", a.corrupted + b.corrupted);
  w.end_object();
  for (const auto& [name, core] :
       {std::pair{"tcp_client", client_.get()}, std::pair{"tcp_server", server_.get()}}) {
    const tcp::TcpStats& t = core->tcp().stats();
    w.key(name).begin_object();
    w.kv("active_opens", t.active_opens)
        .kv("passive_opens", t.passive_opens)
        .kv("estab_resets", t.estab_resets);
    w.kv("retrans_segs", t.retrans_segs).kv("rto_timeouts", t.rto_timeouts).kv("ooo_segs", t.ooo_segs);
    w.kv("time_wait_entered", t.time_wait_entered).kv("time_wait_recycled", t.time_wait_recycled);
    w.kv("bad_checksum", t.dropped(tcp::TcpDrop::bad_checksum)).kv("mem_pressure", t.mem_pressure);
    w.end_object();
  }
  w.key("failures").begin_array();
  for (const std::string& f : failures) w.value(f);
  w.end_array();
  w.key("idle").begin_array();
  for (const Sample& s : idle_) write_sample(w, s);
  w.end_array();
  w.key("samples").begin_array();
  for (const Sample& s : samples_) write_sample(w, s);
  w.end_array();
  w.end_object();
  std::printf("%s\n", w.str().c_str());
}

}  // namespace

int main(int argc, char** argv) {
  const Options o = parse(argc, argv);
  perf::start_eal("tern-churn-soak", 512);
  int rc;
  {
    Soak soak(o);
    rc = soak.run();
  }
  rte_eal_cleanup();
  return rc;
}
