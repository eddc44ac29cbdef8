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
#include "tern/stack/steer_mode.hpp"

namespace tern {

// Engine types the application never sees inside (tern/stack/core.hpp and steering.hpp are
// internal, not installed): a Core is handed out by reference, for tern::Net.
class Core;
struct CoreLinks;
class FlowSteering;
class JsonWriter;

/** What the stack asks of a port it opens. */
struct PortSetup {
  uint16_t queues = 1;              ///< RX and TX queue pairs wanted: one per core (or the port's `queues`)
  std::vector<rte_mempool*> pools;  ///< RX pool of each queue (the owning core's)
  /// The factory may open fewer queues when the device has fewer (PortCaps says how many): the stack
  /// steers the other cores' frames in software and shares TX queues.
  bool fit_queues = true;
  bool lro = false;  ///< ask for the NIC's TCP LRO (the port's `gro` is on)
};

/**
 * What the application tells a running stack. Plain atomics, so a signal
 * handler may set them.
 */
struct RunControl {
  std::atomic<bool> stop{false};   ///< stop at once: live connections are reset
  std::atomic<bool> drain{false};  ///< graceful drain (Stack::run), then stop
};

/** How a port's frames reach their owner core, as Stack::create() found it. */
struct PortSteering {
  SteerMode mode = SteerMode::single;
  std::string why;  ///< one line for the start-up log: queues, key, RETA, or why software
};

/**
 * Opens a port for a config entry (the app passes e.g. drivers::open_port).
 * Returns null and sets @p error (what failed, what to do) on failure.
 */
using PortFactory = std::function<std::unique_ptr<Port>(const config::PortConfig& cfg, const PortSetup& setup,
                                                        std::string& error)>;

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
  /**
   * Run until ctl.stop, or until a graceful drain ends. When ctl.drain
   * becomes true every core, on its own thread: closes its listeners (no new
   * connections; half-open and unaccepted ones are reset), runs the
   * on_drain hooks, and keeps polling while its connections finish (FIN
   * both ways, TIME_WAIT excluded) until none is left or cores.drain_ms
   * has passed; then it resets what is left and stops. ctl.stop ends the
   * drain at once.
   */
  void run(RunControl& ctl);
  /**
   * Run @p fn(core) on every core's own thread: before its poll loop when
   * called before run(), else through the mailbox at its next poll. Call
   * from the thread that created the stack (or any thread while running).
   * Errors: would_block when a core's mailbox is full (the cores before it
   * got the task).
   */
  Status on_each_core(std::function<void(Core&)> fn);
  /**
   * Queue @p fn on core @p core from any thread (no completion; a core
   * thread wanting one uses Core::submit_to). While not running, the task
   * runs at the next run(). Errors: invalid_argument, would_block (full).
   */
  Status submit(uint16_t core, std::function<void(Core&)> fn);
  /**
   * Every core's counters while the stack runs, each taken on its own core
   * through the mailbox, plus the ports' and pools'. Call from a thread
   * that is not a core (a core thread would wait for itself). When not
   * running: stats_json(). Errors: timed_out (a core did not answer within
   * @p timeout_ns), would_block (a mailbox was full).
   */
  Result<std::string> stats_json_live(uint64_t timeout_ns = 1'000'000'000);
  /** How port @p i's frames are steered now (the self-test may have switched hardware to software). */
  SteerMode steer_mode(size_t i) const noexcept;
  /** The owner function (null with one core). */
  const FlowSteering* flow_steering() const noexcept { return steering_.get(); }
  /** How each port's frames were set up to be steered at start (index = port). */
  const std::vector<PortSteering>& steering() const noexcept { return port_steering_; }
  /** True between the start and the end of run(). */
  bool running() const noexcept { return running_.load(std::memory_order_acquire); }
  /** Mbufs currently out of the stack's pools (0 after a clean shutdown). */
  unsigned mbufs_in_use() const;
  /** One JSON object with per-core and per-port counters and the pool state (not while running: see
   * stats_json_live()). */
  std::string stats_json() const;
  /** Set a hook run on each core when a drain starts (after its listeners closed). */
  void on_drain(std::function<void(Core&)> fn) { on_drain_ = std::move(fn); }
  /**
   * Tear down cores and ports (freeing every mbuf they hold), then return
   * how many mbufs are still out of the pools: anything but 0 is a leak.
   */
  unsigned shutdown();

 private:
  Stack() = default;
  static int lcore_main(void* arg);
  void core_loop(Core& c);
  void write_ports_json(JsonWriter& w) const;
  void setup_steering(const config::StackConfig& cfg);

  std::vector<rte_mempool*> pools_;
  std::unique_ptr<CoreLinks> links_;  // steering rings and mailboxes, one of each per core
  std::unique_ptr<FlowSteering> steering_;
  std::vector<PortSteering> port_steering_;
  std::vector<std::unique_ptr<Port>> ports_;
  std::vector<std::string> port_names_;
  std::vector<std::unique_ptr<Core>> cores_;
  std::vector<unsigned> lcores_;
  std::vector<std::vector<std::function<void(Core&)>>> setup_;  // per core, run before its loop
  std::function<void(Core&)> on_drain_;
  RunControl* ctl_ = nullptr;
  const std::atomic<bool>* stop_flag_ = nullptr;  // run(stop)'s flag
  std::atomic<bool> running_{false};
  bool adaptive_ = false;
  uint32_t idle_polls_ = 200;
  uint64_t sleep_ns_ = 50'000;
  uint64_t drain_ns_ = 5'000'000'000;
};

}  // namespace tern
