#include "tern/stack/stack.hpp"

#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_launch.h>
#include <rte_lcore.h>
#include <rte_pause.h>
#include <rte_ring.h>
#include <rte_ring_elem.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstring>
#include <variant>

#include "tern/base/clock.hpp"
#include "tern/base/log.hpp"
#include "tern/config/schema.hpp"
#include "tern/stack/core.hpp"
#include "tern/stack/shared_queue_port.hpp"
#include "tern/stack/steering.hpp"
#include "tern/tcp/congestion.hpp"
#include "tern/tcp/tcp.hpp"

namespace tern {

namespace {

bool has_flag(const std::vector<std::string>& args, std::initializer_list<const char*> names) {
  for (const auto& a : args) {
    for (const char* n : names) {
      size_t len = std::strlen(n);
      if (a.compare(0, len, n) == 0 && (a.size() == len || a[len] == '=')) return true;
    }
  }
  return false;
}

std::vector<std::string> eal_argv(const config::StackConfig& cfg, const std::vector<std::string>& extra) {
  std::vector<std::string> user = cfg.eal_args;
  user.insert(user.end(), extra.begin(), extra.end());
  std::vector<std::string> argv = {"tern"};
  if (!has_flag(user, {"--no-huge", "--huge-dir", "--in-memory"})) argv.push_back("--no-huge");
  if (!has_flag(user, {"-m", "--socket-mem"})) {
    argv.push_back("-m");
    argv.push_back("512");
  }
  if (!has_flag(user, {"--file-prefix"})) argv.push_back("--file-prefix=tern-" + std::to_string(getpid()));
  if (!has_flag(user, {"-a", "--allow", "-b", "--block", "--no-pci"})) argv.push_back("--no-pci");
  if (!has_flag(user, {"--no-telemetry", "--telemetry"})) argv.push_back("--no-telemetry");
  if (!has_flag(user, {"-l", "-c", "--lcores"})) {
    argv.push_back("-l");
    argv.push_back(cfg.lcores);
  }
  if (!has_flag(user, {"--log-level"})) argv.push_back("--log-level=lib.eal:warning");
  argv.insert(argv.end(), user.begin(), user.end());
  return argv;
}

std::atomic<bool> g_eal_started{false};

}  // namespace

namespace {

/**
 * One engine field filled 1:1 from one config key: the value is the key's, scaled by its unit in the
 * key table (config::schema::engine_value(): ms and s to ns, KiB to bytes).
 */
template <class S>
struct EngineRow {
  std::variant<uint32_t S::*, bool S::*> from;  ///< the config member (its key: lib/config's table)
  void (*to)(tcp::TcpParams&, uint64_t);        ///< stores the scaled value in the engine field
};

// Stores v into TcpParams::field (a narrower field gets a value validate() bounded).
#define TERN_TO(field) [](tcp::TcpParams& p, uint64_t v) { p.field = static_cast<decltype(p.field)>(v); }

using config::TcpConfig;
using config::TcpKeepaliveConfig;

constexpr EngineRow<TcpConfig> kTcpRows[] = {
    {&TcpConfig::initial_window, TERN_TO(initial_window)},
    {&TcpConfig::delayed_ack_ms, TERN_TO(delayed_ack_ns)},
    {&TcpConfig::rto_min_ms, TERN_TO(rtt.min_rto_ns)},
    {&TcpConfig::rto_max_ms, TERN_TO(rtt.max_rto_ns)},
    {&TcpConfig::rto_initial_ms, TERN_TO(rtt.initial_rto_ns)},
    {&TcpConfig::msl_ms, TERN_TO(msl_ns)},
    {&TcpConfig::max_connections, TERN_TO(max_connections)},
    {&TcpConfig::max_time_wait, TERN_TO(max_time_wait)},
    {&TcpConfig::backlog, TERN_TO(backlog)},
    {&TcpConfig::syncookies, TERN_TO(syncookies)},
    {&TcpConfig::timestamps, TERN_TO(timestamps)},
    {&TcpConfig::sack, TERN_TO(sack)},
    {&TcpConfig::window_scaling, TERN_TO(window_scaling)},
    {&TcpConfig::send_buffer, TERN_TO(socket.send_buffer)},
    {&TcpConfig::recv_buffer, TERN_TO(socket.recv_buffer)},
    {&TcpConfig::nodelay, TERN_TO(socket.nodelay)},
    {&TcpConfig::max_retries, TERN_TO(max_retries)},
    {&TcpConfig::syn_retries, TERN_TO(syn_retries)},
    {&TcpConfig::fin_wait_2_s, TERN_TO(fin_wait_2_ns)},
    {&TcpConfig::ooo_nodes, TERN_TO(ooo_nodes)},
    {&TcpConfig::challenge_ack_limit, TERN_TO(challenge_ack_per_s)},
    {&TcpConfig::challenge_ack_interval_ms, TERN_TO(challenge_ack_interval_ns)},
    {&TcpConfig::memory_limit_kb, TERN_TO(memory_limit)},
    {&TcpConfig::limited_transmit, TERN_TO(limited_transmit)},
    {&TcpConfig::dsack, TERN_TO(dsack)},
    {&TcpConfig::undo, TERN_TO(undo)},
    {&TcpConfig::hystart, TERN_TO(cc.hystart)},
    {&TcpConfig::abc_limit, TERN_TO(cc.abc_limit)},
    {&TcpConfig::idle_restart, TERN_TO(idle_restart)},
    {&TcpConfig::quick_acks, TERN_TO(quick_acks)},
    {&TcpConfig::user_timeout_ms, TERN_TO(socket.user_timeout_ns)},
    {&TcpConfig::notsent_lowat, TERN_TO(socket.notsent_lowat)},
    {&TcpConfig::fastopen_key_rotate_s, TERN_TO(fastopen_key_rotate_ns)},
    {&TcpConfig::fastopen_cache, TERN_TO(fastopen_cache)},
    {&TcpConfig::fastopen_blackhole_s, TERN_TO(fastopen_blackhole_ns)},
};

constexpr EngineRow<TcpKeepaliveConfig> kKeepaliveRows[] = {
    {&TcpKeepaliveConfig::enabled, TERN_TO(socket.keepalive.enabled)},
    {&TcpKeepaliveConfig::idle_s, TERN_TO(socket.keepalive.idle_ns)},
    {&TcpKeepaliveConfig::interval_s, TERN_TO(socket.keepalive.interval_ns)},
    {&TcpKeepaliveConfig::count, TERN_TO(socket.keepalive.count)},
};
#undef TERN_TO

template <class S, size_t N>
void apply(const EngineRow<S> (&rows)[N], const S& cfg, tcp::TcpParams& p) {
  for (const EngineRow<S>& row : rows) {
    std::visit([&](auto member) { row.to(p, config::schema::engine_value(cfg, member)); }, row.from);
  }
}

}  // namespace

tcp::TcpParams tcp_params(const config::TcpConfig& cfg) {
  tcp::TcpParams p;
  apply(kTcpRows, cfg, p);
  apply(kKeepaliveRows, cfg.keepalive, p);
  // Not 1:1: the three choice keys are names that lib/tcp's parsers turn into its enums.
  // validate() admits only the names these parsers know; keep the defaults otherwise.
  p.socket.congestion = tcp::cc_from_string(cfg.congestion).value_or(p.socket.congestion);
  p.recovery = tcp::loss_recovery_from_string(cfg.recovery).value_or(p.recovery);
  p.socket.ecn = tcp::ecn_from_string(cfg.ecn).value_or(p.socket.ecn);
  return p;
}

namespace {
template <class S, size_t N>
void unmapped(const EngineRow<S> (&rows)[N], std::string_view prefix, std::vector<std::string>& out) {
  for (const auto& key : config::schema::section<S>().keys) {
    bool numeric = false, mapped = false;
    std::visit(
        [&](auto member) {
          using M = decltype(member);
          if constexpr (std::is_same_v<M, uint32_t S::*> || std::is_same_v<M, bool S::*>) {
            numeric = true;
            for (const EngineRow<S>& row : rows) {
              if (const auto* f = std::get_if<M>(&row.from); f != nullptr && *f == member) mapped = true;
            }
          } else if constexpr (!std::is_same_v<M, std::monostate> && !std::is_same_v<M, std::string S::*>) {
            numeric = true;  // a number of another width: no row can hold it yet
          }
        },
        key.field);
    if (numeric && !mapped) out.push_back(std::string(prefix) + std::string(key.name));
  }
}
}  // namespace

std::vector<std::string> tcp_keys_without_engine_field() {
  std::vector<std::string> out;
  unmapped(kTcpRows, "tcp.", out);
  unmapped(kKeepaliveRows, "tcp.keepalive.", out);
  return out;
}

namespace {
// Mbufs of each core's pool that TCP queues never take: the rings the pool must refill and
// the cache, plus room for ARP/IP/UDP queues and TX headers (docs/robustness.md).
uint32_t rx_reserve(const config::StackConfig& cfg) {
  if (cfg.mempool.rx_reserve != 0) return cfg.mempool.rx_reserve;
  uint64_t rings = 0;
  for (const auto& p : cfg.ports) rings += uint64_t{p.rx_desc} + p.tx_desc;
  uint64_t r = std::max<uint64_t>(cfg.mempool.mbufs / 4, rings + cfg.mempool.cache + 256);
  return static_cast<uint32_t>(std::min<uint64_t>(r, cfg.mempool.mbufs));
}

// Free mbufs below which TCP prunes out-of-order data at once (Core::check_pool): the reserve
// less what the rings and the cache hold in normal running, at least two RX bursts.
uint32_t pool_low_water(const config::StackConfig& cfg, uint32_t reserve, uint16_t rx_burst) {
  uint64_t held = cfg.mempool.cache;
  for (const auto& p : cfg.ports) held += uint64_t{p.rx_desc} + p.tx_desc;
  const uint64_t floor = 2u * rx_burst;
  const uint64_t lw = reserve > held + floor ? reserve - held : floor;
  return static_cast<uint32_t>(std::min<uint64_t>(lw, reserve));
}
}  // namespace

std::unique_ptr<Stack> Stack::create(const config::StackConfig& cfg, const std::vector<std::string>& eal_args,
                                     PortFactory factory, std::string& error) {
  using config::schema::engine_value;  // a key's value in ns or bytes, by its unit in the key table
  if (auto bad = config::validate(cfg)) {
    error = bad->message;
    return nullptr;
  }
  LogLevel lvl;
  if (parse_log_level(cfg.log_level, lvl)) set_log_level(lvl);
  if (g_eal_started.exchange(true)) {
    error = "EAL is already running in this process: create one Stack per process";
    return nullptr;
  }
  std::vector<std::string> args = eal_argv(cfg, eal_args);
  std::vector<char*> argv;
  std::string joined;
  for (auto& a : args) {
    argv.push_back(a.data());
    joined += a + " ";
  }
  TERN_LOG_DEBUG("EAL arguments: %s", joined.c_str());
  if (rte_eal_init(static_cast<int>(argv.size()), argv.data()) < 0) {
    error = std::string("DPDK EAL initialisation failed (") + rte_strerror(rte_errno) +
            ") with arguments: " + joined + "- check the lcore list and the EAL arguments after --";
    return nullptr;
  }
  std::unique_ptr<Stack> s(new Stack());
  unsigned lc;
  RTE_LCORE_FOREACH(lc) s->lcores_.push_back(lc);
  // The main lcore runs core 0.
  auto main_it = std::find(s->lcores_.begin(), s->lcores_.end(), rte_get_main_lcore());
  if (main_it != s->lcores_.end()) std::iter_swap(s->lcores_.begin(), main_it);
  const uint16_t ncores = static_cast<uint16_t>(s->lcores_.size());

  for (uint16_t c = 0; c < ncores; ++c) {
    std::string name = "tern_pool_" + std::to_string(c);
    rte_mempool* mp =
        rte_pktmbuf_pool_create(name.c_str(), cfg.mempool.mbufs, cfg.mempool.cache, 0,
                                static_cast<uint16_t>(cfg.mempool.data_room + RTE_PKTMBUF_HEADROOM),
                                static_cast<int>(rte_lcore_to_socket_id(s->lcores_[c])));
    if (mp == nullptr) {
      error = "cannot create mbuf pool " + name + " of " + std::to_string(cfg.mempool.mbufs) + " mbufs (" +
              rte_strerror(rte_errno) + "): lower mempool.mbufs or raise EAL memory (-m)";
      return nullptr;
    }
    s->pools_.push_back(mp);
  }
  for (const auto& pc : cfg.ports) {
    PortSetup setup;
    setup.queues = pc.queues != 0 ? std::min<uint16_t>(pc.queues, ncores)
                                  : ncores;  // a queue no core polls would lose frames
    setup.pools.assign(s->pools_.begin(), s->pools_.begin() + setup.queues);
    setup.lro = pc.gro && pc.checksum == "auto";  // a merged frame can only be checked by the NIC
    std::string perr;
    std::unique_ptr<Port> p = factory(pc, setup, perr);
    if (!p) {
      error = "port '" + pc.name + "' (" + pc.devargs + "): " + perr;
      return nullptr;
    }
    s->ports_.push_back(std::move(p));
    s->port_names_.push_back(pc.name);
  }
  s->setup_steering(cfg);
  // With RX concentrated on fewer queues than cores, every core's TCP holds mbufs of the same
  // pools: each gets its share of what the pool has beyond the RX reserve (docs/multicore.md).
  bool concentrated = false;
  for (const auto& p : s->ports_) concentrated |= p->caps().rx_queues < ncores;
  for (uint16_t c = 0; c < ncores; ++c) {
    CoreParams cp;
    cp.index = c;
    cp.pool = s->pools_[c];
    for (size_t i = 0; i < cfg.ports.size(); ++i) {
      CoreInterface ci;
      ci.port = s->ports_[i].get();
      ci.queue = c;
      ci.params.name = cfg.ports[i].name;
      ci.params.address = cfg.ports[i].address;
      ci.params.checksum = cfg.ports[i].checksum == "trusted"    ? ChecksumMode::trusted
                           : cfg.ports[i].checksum == "software" ? ChecksumMode::software
                                                                 : ChecksumMode::automatic;
      ci.params.gso = cfg.ports[i].gso;
      ci.params.gro = cfg.ports[i].gro;
      if (c == 0) {
        const PortCaps& pc = ci.port->caps();
        const bool tso = pc.tso && ci.params.checksum == ChecksumMode::automatic;
        TERN_LOG_INFO("port %s: checksum %s%s, tcp segmentation %s, gro %s, mtu %u",
                      cfg.ports[i].name.c_str(), to_string(ci.params.checksum),
                      ci.params.checksum == ChecksumMode::trusted
                          ? " (not computed, not verified: the peer must be a cooperating process)"
                          : "",
                      !ci.params.gso ? "per segment"
                      : tso          ? "TSO (the port cuts)"
                                     : "software GSO",
                      ci.params.gro ? "on" : "off", pc.mtu);
      }
      ci.params.gratuitous_arp = cfg.arp.gratuitous && c == 0;
      ci.params.neighbour.table_size = cfg.arp.table_size;
      ci.params.neighbour.queue_len = cfg.arp.queue_len;
      ci.params.neighbour.reachable_ns = engine_value(cfg.arp, &config::ArpConfig::reachable_ms);
      ci.params.neighbour.stale_ns = engine_value(cfg.arp, &config::ArpConfig::stale_ms);
      ci.params.neighbour.retry_ns = engine_value(cfg.arp, &config::ArpConfig::retry_ms);
      ci.params.neighbour.retries = cfg.arp.retries;
      ci.params.neighbour.lock_ns = engine_value(cfg.arp, &config::ArpConfig::lock_time_ms);
      cp.interfaces.push_back(ci);
    }
    for (const auto& r : cfg.routes) {
      auto idx = config::port_for_route(cfg, r);
      if (idx) {
        (void)cp.routes.add(
            l3::Route{r.prefix, r.gateway, static_cast<uint16_t>(*idx), r.mac.value_or(wire::MacAddr{})});
      }
    }
    cp.ipv4.default_ttl = cfg.ipv4.default_ttl;
    cp.ipv4.reassembly.timeout_ns = engine_value(cfg.ipv4, &config::Ipv4Config::reassembly_timeout_ms);
    cp.ipv4.reassembly.max_bytes = cfg.ipv4.reassembly_max_bytes;
    cp.ipv4.reassembly.max_datagrams = cfg.ipv4.reassembly_max_datagrams;
    cp.ipv4.pmtu_min = cfg.ipv4.pmtu_min;
    cp.icmp.echo = cfg.icmp.echo;
    cp.icmp.error_rate = cfg.icmp.error_rate;
    cp.icmp.echo_rate = cfg.icmp.echo_rate;
    cp.icmp.dest_error_rate = cfg.icmp.dest_error_rate;
    cp.icmp.dest_error_burst = cfg.icmp.dest_error_burst;
    cp.udp.rx_queue_len = cfg.udp.rx_queue_len;
    cp.tcp = tcp_params(cfg.tcp);  // per core: each core gets the configured limits, not a share
    cp.tcp.rx_reserve = rx_reserve(cfg);
    if (concentrated) {
      const uint64_t cost = sizeof(rte_mbuf) + cfg.mempool.data_room + RTE_PKTMBUF_HEADROOM;
      const uint64_t share = uint64_t{cfg.mempool.mbufs - cp.tcp.rx_reserve} * cost / ncores;
      cp.tcp.memory_limit = cp.tcp.memory_limit != 0 ? std::min(cp.tcp.memory_limit, share) : share;
    }
    if (s->steering_) {
      cp.steering = s->steering_.get();
      cp.tcp.steering = s->steering_->table();  // active opens pick ports that come back here
      cp.tcp.rx_queue = c;
    }
    cp.pool_low_water = pool_low_water(cfg, cp.tcp.rx_reserve, cp.rx_burst);
    s->cores_.push_back(std::make_unique<Core>(std::move(cp)));
  }
  // Every stack has the rings, one core included: the mailbox (live statistics, submit) works the
  // same; a one-core stack never steers, so its steering ring stays empty (one empty dequeue a poll).
  s->links_ = std::make_unique<CoreLinks>();
  if (!s->links_->create(ncores, "tern_", cfg.cores.steer_ring, cfg.cores.mailbox,
                         static_cast<int>(rte_lcore_to_socket_id(s->lcores_[0])), error)) {
    return nullptr;
  }
  for (auto& c : s->cores_) c->connect(*s->links_);
  s->setup_.resize(ncores);
  s->adaptive_ = cfg.cores.idle == "adaptive";
  s->idle_polls_ = cfg.cores.idle_polls;
  s->sleep_ns_ = engine_value(cfg.cores, &config::CoresConfig::sleep_us);
  s->drain_ns_ = engine_value(cfg.cores, &config::CoresConfig::drain_ms);
  return s;
}

Stack::~Stack() {
  shutdown();
  rte_eal_cleanup();
}

void Stack::setup_steering(const config::StackConfig& cfg) {
  const uint16_t ncores = static_cast<uint16_t>(lcores_.size());
  port_steering_.assign(ports_.size(), PortSteering{});
  if (ncores == 1) {
    for (size_t i = 0; i < ports_.size(); ++i) {
      port_steering_[i].why = "one core";
      TERN_LOG_INFO("port %s: single core", cfg.ports[i].name.c_str());
    }
    return;
  }
  // The port's RSS as read back, if it can carry every core's flows to that core's queue.
  auto hardware_table = [&](size_t i, wire::RssSteering& t, std::string& why) {
    const PortCaps& caps = ports_[i]->caps();
    RssState st;
    if (caps.rx_queues < ncores) {
      why = std::to_string(caps.rx_queues) + " RX queue(s) for " + std::to_string(ncores) + " cores";
      return false;
    }
    if (!ports_[i]->rss_state(st)) {
      why = "the device has no programmable RSS (or picks queues by a hash of its own)";
      return false;
    }
    if (!st.l4 || st.key.size() < 16 || st.reta.empty()) {
      why = "the device's RSS does not hash TCP/UDP 4-tuples with a readable key";
      return false;
    }
    t.key.fill(0);
    std::copy_n(st.key.begin(), std::min<size_t>(st.key.size(), t.key.size()), t.key.begin());
    t.reta = st.reta;
    for (uint16_t q : t.reta) {
      if (q >= ncores) {
        why = "the RETA read back names queue " + std::to_string(q) + ", which no core polls";
        return false;
      }
    }
    why = "key " + std::to_string(st.key.size()) + " B and RETA " + std::to_string(st.reta.size()) +
          " entries read back over " + std::to_string(caps.rx_queues) + " queues";
    return true;
  };
  std::vector<SteerMode> modes(ports_.size(), SteerMode::software);
  std::vector<std::string> why(ports_.size());
  wire::RssSteering table;
  wire::RssSteering t0;
  if (hardware_table(0, t0, why[0])) {
    table = t0;
    modes[0] = SteerMode::hardware;
  } else {
    table.key = wire::kSymmetricRssKey;
    for (uint16_t e = 0; e < 128; ++e) table.reta.push_back(static_cast<uint16_t>(e % ncores));
  }
  for (size_t i = 1; i < ports_.size(); ++i) {
    wire::RssSteering ti;
    if (!hardware_table(i, ti, why[i])) continue;
    // One owner function for the stack: a second port steers in hardware only if it hashes alike.
    if (std::equal(ti.key.begin(), ti.key.begin() + 16, table.key.begin()) && ti.reta == table.reta) {
      modes[i] = SteerMode::hardware;
    } else {
      why[i] = "its key or RETA differs from port " + cfg.ports[0].name + "'s";
    }
  }
  steering_ = std::make_unique<FlowSteering>(table, ncores, modes);
  for (size_t i = 0; i < ports_.size(); ++i) {
    port_steering_[i].mode = modes[i];
    port_steering_[i].why = why[i];
    const PortCaps& caps = ports_[i]->caps();
    if (caps.rx_queues < ncores || caps.tx_queues < ncores) {
      ports_[i] = std::make_unique<SharedQueuePort>(std::move(ports_[i]), ncores);
    }
    TERN_LOG_INFO("port %s: %s (%s)%s", cfg.ports[i].name.c_str(), to_string(modes[i]), why[i].c_str(),
                  modes[i] == SteerMode::hardware ? "; a self-test checks the first frames' hashes" : "");
  }
}

void Stack::core_loop(Core& c) {
  // The clock first: set-up that connects arms timers from the core's current time.
  c.start(monotonic_ns());
  for (auto& fn : setup_[c.index()]) fn(c);
  setup_[c.index()].clear();
  bool draining = false;
  uint64_t deadline = 0;
  uint32_t empty = 0;
  for (;;) {
    if (ctl_->stop.load(std::memory_order_relaxed)) break;
    if (stop_flag_ != nullptr && stop_flag_->load(std::memory_order_relaxed)) break;
    const uint64_t now = monotonic_ns();
    if (ctl_->drain.load(std::memory_order_relaxed)) {
      if (!draining) {
        draining = true;
        deadline = now + drain_ns_;
        const size_t closed = c.tcp().close_listeners();
        if (on_drain_) on_drain_(c);
        TERN_LOG_INFO("core %u: draining: %zu listener(s) closed, %u connection(s) open", c.index(), closed,
                      c.tcp().connections());
      }
      if (c.tcp().connections() == 0) break;
      if (now >= deadline) {
        TERN_LOG_INFO("core %u: drain deadline: resetting %u connection(s)", c.index(),
                      c.tcp().connections());
        c.tcp().abort_all();
        break;
      }
    }
    const uint32_t n = c.poll(now);
    if (!adaptive_ || n != 0) {
      empty = 0;
      continue;
    }
    // The adaptive idle policy: spin idle_polls empty polls, pause as many more, then sleep in steps
    // of at most sleep_us (timers have 1 ms resolution, so a step never delays one by more than it).
    if (++empty <= idle_polls_) continue;
    if (empty <= 2 * idle_polls_) {
      rte_pause();
      continue;
    }
    struct timespec ts {
      0, static_cast<long>(sleep_ns_)
    };
    nanosleep(&ts, nullptr);
  }
  // One more turn flushes what the last callbacks queued.
  c.poll(monotonic_ns());
  c.snapshot_buf_stats();
}

int Stack::lcore_main(void* arg) {
  auto* pair = static_cast<std::pair<Stack*, Core*>*>(arg);
  pair->first->core_loop(*pair->second);
  return 0;
}

void Stack::run(const std::atomic<bool>& stop) {
  RunControl ctl;
  stop_flag_ = &stop;
  run(ctl);
  stop_flag_ = nullptr;
}

void Stack::run(RunControl& ctl) {
  ctl_ = &ctl;
  running_.store(true, std::memory_order_release);
  std::vector<std::pair<Stack*, Core*>> args;
  args.reserve(cores_.size());
  for (auto& c : cores_) args.emplace_back(this, c.get());
  for (size_t i = 1; i < cores_.size(); ++i) {
    if (rte_eal_remote_launch(&Stack::lcore_main, &args[i], lcores_[i]) != 0) {
      TERN_LOG_ERROR("cannot launch core %zu on lcore %u", i, lcores_[i]);
    }
  }
  lcore_main(&args[0]);
  rte_eal_mp_wait_lcore();
  running_.store(false, std::memory_order_release);
  ctl_ = nullptr;
}

Status Stack::submit(uint16_t core, std::function<void(Core&)> fn) {
  if (core >= cores_.size()) return make_error(Errc::invalid_argument, "no such core");
  if (links_ == nullptr || links_->mail.empty())
    return make_error(Errc::invalid_argument, "the stack has no mailbox");
  auto* e = new Envelope{std::move(fn), {}, 0xffff, false};
  if (rte_ring_mp_enqueue_elem(links_->mail[core], &e, sizeof(e)) != 0) {
    delete e;
    return make_error(Errc::would_block, "the core's mailbox is full");
  }
  return {};
}

Status Stack::on_each_core(std::function<void(Core&)> fn) {
  if (!running()) {
    for (auto& s : setup_) s.push_back(fn);
    return {};
  }
  for (uint16_t c = 0; c < cores_.size(); ++c) {
    if (auto r = submit(c, fn); !r) return r;
  }
  return {};
}

Result<std::string> Stack::stats_json_live(uint64_t timeout_ns) {
  if (!running()) return stats_json();
  struct Slot {
    std::string json;
    std::atomic<bool> done{false};
  };
  // Shared with the tasks: a core that answers after the timeout still writes into live memory.
  auto slots = std::make_shared<std::vector<Slot>>(cores_.size());
  for (uint16_t c = 0; c < cores_.size(); ++c) {
    auto r = submit(c, [slots](Core& k) {
      k.snapshot_buf_stats();
      JsonWriter w;
      k.write_json(w);
      (*slots)[k.index()].json = w.str();
      (*slots)[k.index()].done.store(true, std::memory_order_release);
    });
    if (!r) return r.error();
  }
  const uint64_t deadline = monotonic_ns() + timeout_ns;
  for (auto& sl : *slots) {
    while (!sl.done.load(std::memory_order_acquire)) {
      if (monotonic_ns() >= deadline) return make_error(Errc::timed_out, "a core did not answer in time");
      struct timespec ts {
        0, 100'000
      };
      nanosleep(&ts, nullptr);
    }
  }
  JsonWriter w;
  w.begin_object();
  w.key("cores").begin_array();
  for (auto& sl : *slots) w.raw(sl.json);
  w.end_array();
  write_ports_json(w);
  w.end_object();
  return w.str();
}

unsigned Stack::mbufs_in_use() const {
  unsigned n = 0;
  for (auto* p : pools_) n += rte_mempool_in_use_count(p);
  return n;
}

SteerMode Stack::steer_mode(size_t i) const noexcept {
  return steering_ ? steering_->mode(i) : SteerMode::single;
}

unsigned Stack::shutdown() {
  cores_.clear();
  if (links_) links_->destroy();  // frames handed over but not taken go back to their pools
  ports_.clear();                 // closing a device returns its RX ring mbufs
  return mbufs_in_use();
}

std::string Stack::stats_json() const {
  JsonWriter w;
  w.begin_object();
  w.key("cores").begin_array();
  for (const auto& c : cores_) c->write_json(w);
  w.end_array();
  write_ports_json(w);
  w.end_object();
  return w.str();
}

void Stack::write_ports_json(JsonWriter& w) const {
  w.key("ports").begin_array();
  for (size_t i = 0; i < ports_.size(); ++i) {
    PortStats ps = ports_[i]->stats();
    LinkStatus ls = ports_[i]->link();
    w.begin_object();
    w.kv("name", port_names_[i]).kv("link_up", ls.up).kv("speed_mbps", uint64_t{ls.speed_mbps});
    w.kv("rx_packets", ps.rx_packets).kv("tx_packets", ps.tx_packets).kv("rx_bytes", ps.rx_bytes);
    w.kv("tx_bytes", ps.tx_bytes).kv("rx_dropped", ps.rx_dropped).kv("tx_dropped", ps.tx_dropped);
    w.kv("rx_errors", ps.rx_errors).kv("tx_errors", ps.tx_errors);
    w.kv("rx_queues", uint64_t{ports_[i]->caps().rx_queues})
        .kv("tx_queues", uint64_t{ports_[i]->caps().tx_queues});
    if (i < port_steering_.size()) {
      const SteerMode m = steering_ ? steering_->mode(i) : port_steering_[i].mode;
      w.kv("steering", to_string(m));
    }
    w.end_object();
  }
  w.end_array();
  w.kv("mbufs_in_use", mbufs_in_use());
}

}  // namespace tern
