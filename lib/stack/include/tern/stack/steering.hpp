/**
 * @file
 * FlowSteering: which core owns a received frame (issue 10, docs/multicore.md).
 *
 * Every core runs its own stack, so every frame of a flow must reach the one
 * core that holds the flow's state. The owner is one function for the whole
 * stack: the Toeplitz hash of the flow under a key, looked up in a
 * redirection table of cores (RETA). Where the NIC's RSS is programmed with
 * that key and table and it reads back the same, frames arrive on their
 * owner's queue (hardware mode) and the NIC's hash is trusted once a short
 * self-test has checked it; anywhere else (fewer RX queues than cores, no
 * programmable RSS, a device that picks queues by a hash of its own) the
 * receiving core computes the owner in software and hands the frame over
 * (software mode). A frame that reaches the wrong core in hardware mode takes
 * the same hand-over.
 *
 * What a frame belongs to: TCP and UDP by the 4-tuple; IPv4 fragments by the
 * address pair (so all fragments of a datagram meet on one core, which
 * reassembles and then steers the whole datagram by its 4-tuple); ICMP errors
 * by the 4-tuple of the datagram they quote, seen from the peer's side; the
 * rest (ARP, ICMP echo, other protocols, malformed frames) is handled where it
 * arrived (kAnyCore): each core keeps its own ARP table (shared by the
 * neighbour messages) and answers echo itself.
 *
 * Threads: built before the cores start and read by all of them; only each
 * port's mode changes afterwards (the self-test may downgrade hardware to
 * software), through relaxed atomics.
 */
#pragma once

#include <rte_mbuf.h>

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "tern/stack/steer_mode.hpp"
#include "tern/wire/toeplitz.hpp"

namespace tern {

/**
 * Flows pinned to a core against the hash: a connect() with an explicit local port that hashes
 * elsewhere (issue 10). Bounded (kSlots, open addressing); any core may pin or unpin (a spin lock
 * among writers, which are rare: one per such connect and one when its TIME_WAIT ends); readers on
 * the data path take no lock (a sequence counter: they retry when a writer ran meanwhile) and skip
 * the table entirely while it is empty.
 */
class PinnedFlows {
 public:
  static constexpr uint32_t kSlots = 4096;
  PinnedFlows();
  /** Pin the flow whose received frames go src:sport -> dst:dport to @p core. @return false when full. */
  bool pin(wire::Ipv4Addr src, wire::Ipv4Addr dst, uint16_t sport, uint16_t dport, uint16_t core) noexcept;
  void unpin(wire::Ipv4Addr src, wire::Ipv4Addr dst, uint16_t sport, uint16_t dport) noexcept;
  /** The core a flow is pinned to, or 0xffff. */
  uint16_t find(wire::Ipv4Addr src, wire::Ipv4Addr dst, uint16_t sport, uint16_t dport) const noexcept;
  bool empty() const noexcept { return count_.load(std::memory_order_acquire) == 0; }
  uint32_t size() const noexcept { return count_.load(std::memory_order_relaxed); }

 private:
  struct Slot {
    std::atomic<uint64_t> addrs{0};  // src << 32 | dst
    std::atomic<uint32_t> ports{0};  // sport << 16 | dport
    std::atomic<uint16_t> core{0};
    std::atomic<uint8_t> state{0};  // 0 empty, 1 used, 2 removed (keeps probe chains)
  };
  static uint32_t slot_of(uint64_t addrs, uint32_t ports) noexcept;
  std::unique_ptr<Slot[]> slots_;
  std::atomic<uint32_t> count_{0};
  std::atomic<uint32_t> seq_{0};  // odd while a writer changes the table
  std::atomic_flag lock_ = ATOMIC_FLAG_INIT;
};

/** The stack-wide frame-to-core function. */
class FlowSteering {
 public:
  /** Owner meaning "any core: handle it where it arrived". */
  static constexpr uint16_t kAnyCore = 0xffff;

  /**
   * @param table the key and a RETA whose entries are core numbers (< @p cores); a RETA of one
   *        entry per core round robin when empty.
   * @param modes one per port.
   */
  FlowSteering(wire::RssSteering table, uint16_t cores, const std::vector<SteerMode>& modes);

  uint16_t cores() const noexcept { return cores_; }
  /** The key and core table (TCP picks ephemeral ports with it). */
  const wire::RssSteering& table() const noexcept { return table_; }
  SteerMode mode(size_t port) const noexcept { return modes_[port].load(std::memory_order_relaxed); }
  /** The self-test found the port's hash is not ours: steer it in software from now on. */
  void downgrade(size_t port) const noexcept {
    modes_[port].store(SteerMode::software, std::memory_order_relaxed);
  }

  /** Owner of the flow whose received frames go from @p src:@p sport to @p dst:@p dport. */
  uint16_t flow_owner(wire::Ipv4Addr src, wire::Ipv4Addr dst, uint16_t sport, uint16_t dport) const noexcept {
    if (!pins_.empty()) {
      const uint16_t c = pins_.find(src, dst, sport, dport);
      if (c != kAnyCore) return c;
    }
    return table_.reta[hash_.l4(src, dst, sport, dport) % table_.reta.size()];
  }
  /** Flows pinned against the hash (explicit local ports); shared by every core. */
  PinnedFlows& pins() const noexcept { return pins_; }
  /** Owner of an RSS hash the NIC computed with our key. */
  uint16_t hash_owner(uint32_t hash) const noexcept { return table_.reta[hash % table_.reta.size()]; }
  /** The software hash of a 4-tuple (the self-test compares the NIC's with it). */
  uint32_t flow_hash(wire::Ipv4Addr src, wire::Ipv4Addr dst, uint16_t sport, uint16_t dport) const noexcept {
    return hash_.l4(src, dst, sport, dport);
  }

  /** What a received frame is, for steering. */
  struct FrameClass {
    uint16_t owner = kAnyCore;
    bool l4 = false;       ///< a TCP/UDP non-fragment (the NIC's 4-tuple hash applies)
    uint32_t sw_hash = 0;  ///< its software hash (when l4 and computed)
  };
  /**
   * Classify the Ethernet frame @p m (first segment only; anything short or
   * malformed is kAnyCore, left to the receiving core's parsers to count).
   * @p hw_hash: the NIC's hash to use for a TCP/UDP non-fragment, or null to compute it.
   */
  FrameClass classify(const rte_mbuf* m, const uint32_t* hw_hash) const noexcept;
  /** Owner of a whole IPv4 datagram at @p ip (@p len bytes, after reassembly): by its 4-tuple. */
  uint16_t datagram_owner(const uint8_t* ip, uint32_t len) const noexcept;

 private:
  uint16_t ip_owner(const uint8_t* ip, uint32_t len, const uint32_t* hw_hash, FrameClass& fc) const noexcept;
  uint16_t icmp_error_owner(const uint8_t* icmp, uint32_t len) const noexcept;

  wire::RssSteering table_;
  wire::ToeplitzTable hash_;
  mutable PinnedFlows pins_;
  uint16_t cores_;
  std::unique_ptr<std::atomic<SteerMode>[]> modes_;
};

/** One frame or datagram handed from the core that received it to its owner (16 bytes, a ring element). */
struct SteeredPacket {
  rte_mbuf* m;
  uint16_t iface;  ///< interface (port index) it arrived on
  uint8_t kind;    ///< 0: Ethernet frame, 1: reassembled IPv4 datagram
  uint8_t flags;   ///< bit 0: it came as a link-layer broadcast (datagrams)
  uint32_t pad;
};
static_assert(sizeof(SteeredPacket) == 16);

}  // namespace tern
