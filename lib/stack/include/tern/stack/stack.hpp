/**
 * @file
 * Stack: the process-wide part of tern. It starts DPDK's EAL, creates one
 * mbuf pool per core, opens the ports (through a factory the application
 * chooses, so lib/ never names a driver), builds one Core per lcore, and
 * runs their poll loops until asked to stop.
 */
#pragma once

#include <atomic>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "tern/config/config.hpp"
#include "tern/port/port.hpp"
#include "tern/stack/core.hpp"

namespace tern {

/** What the stack asks of a port it opens. */
struct PortSetup {
  uint16_t queues = 1;              ///< RX and TX queues: one per core
  std::vector<rte_mempool*> pools;  ///< RX pool of each queue (the owning core's)
};

/**
 * Opens a port for a config entry (the app passes e.g. drivers::open_port).
 * Returns null and sets @p error (what failed, what to do) on failure.
 */
using PortFactory = std::function<std::unique_ptr<Port>(const config::PortConfig& cfg, const PortSetup& setup,
                                                        std::string& error)>;

/**
 * The TCP engine parameters of one core for the `tcp:` section of the
 * configuration: times to ns, `congestion` to tcp::CcAlgo, the socket
 * defaults (buffers, nodelay, keepalive) into TcpParams::socket, the RTO
 * bounds into TcpParams::rtt. Limits are per core: Stack::create() gives
 * every core these same values (max_connections is not divided among
 * cores). Fields the config does not name keep TcpParams' defaults.
 * @p cfg must have passed config::validate().
 */
tcp::TcpParams tcp_params(const config::TcpConfig& cfg);

class Stack {
 public:
  /**
   * Start EAL and build everything @p cfg describes. EAL arguments are the
   * defaults (--no-huge, -m 512, a unique --file-prefix, --no-pci,
   * --no-telemetry, -l from cfg.lcores) then cfg.eal_args then @p eal_args;
   * a flag given explicitly replaces its default. Returns null with @p error
   * set when anything fails; EAL can be started once per process.
   */
  static std::unique_ptr<Stack> create(const config::StackConfig& cfg,
                                       const std::vector<std::string>& eal_args, PortFactory factory,
                                       std::string& error);
  ~Stack();
  Stack(const Stack&) = delete;
  Stack& operator=(const Stack&) = delete;

  size_t core_count() const noexcept { return cores_.size(); }
  Core& core(size_t i) noexcept { return *cores_[i]; }
  size_t port_count() const noexcept { return ports_.size(); }
  Port& port(size_t i) noexcept { return *ports_[i]; }

  /**
   * Run every core's poll loop (core 0 on the calling lcore, others on
   * worker lcores) until @p stop becomes true. Returns when all have stopped.
   */
  void run(const std::atomic<bool>& stop);
  /** Mbufs currently out of the stack's pools (0 after a clean shutdown). */
  unsigned mbufs_in_use() const;
  /** One JSON object with per-core and per-port counters and the pool state. */
  std::string stats_json() const;
  /**
   * Tear down cores and ports (freeing every mbuf they hold), then return
   * how many mbufs are still out of the pools: anything but 0 is a leak.
   */
  unsigned shutdown();

 private:
  Stack() = default;
  static int lcore_main(void* arg);

  std::vector<rte_mempool*> pools_;
  std::vector<rte_ring*> inboxes_;  // one per core when there are several (neighbour sharing)
  std::vector<std::unique_ptr<Port>> ports_;
  std::vector<std::string> port_names_;
  std::vector<std::unique_ptr<Core>> cores_;
  std::vector<unsigned> lcores_;
  const std::atomic<bool>* stop_ = nullptr;
};

}  // namespace tern
