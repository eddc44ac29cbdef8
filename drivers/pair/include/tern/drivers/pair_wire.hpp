/**
 * @file
 * PairWire: an in-process wire joining two ports, for deterministic
 * two-stack tests without any device. A frame sent on TX queue q of one end
 * is received, in order, on RX queue q of the other end.
 *
 * Threading: no locks. Each queue is a single-producer, single-consumer
 * FIFO: one thread may send on a queue while another receives from it
 * (senders of one queue must be serialised among themselves, as must
 * receivers). Counters are relaxed atomics, readable from any thread.
 *
 * Frames pass unchanged: no offload emulation (checksums are not filled or
 * verified, TSO frames are not split), no MTU enforcement; give caps without
 * offloads unless a test wants the flags themselves.
 */
#pragma once

#include <rte_mbuf.h>

#include <cstddef>
#include <cstdint>
#include <memory>

#include "tern/port/port.hpp"

namespace tern::drivers {

/**
 * Two ports, a() and b(), joined back to back. Not copyable or movable (the
 * ports are referenced by address). Destroying it frees every frame still
 * in flight.
 */
class PairWire {
 public:
  /**
   * @param a_caps capabilities end a reports (its rx_queues and tx_queues
   *        say which queues exist); b_caps the same for end b.
   * @param capacity_per_queue frames each RX queue holds before tx_burst()
   *        on the other end refuses more (at least 1).
   */
  PairWire(PortCaps a_caps, PortCaps b_caps, size_t capacity_per_queue = 4096);
  ~PairWire();
  PairWire(const PairWire&) = delete;
  PairWire& operator=(const PairWire&) = delete;

  /**
   * End a, named "pair-a". tx_burst(q) appends to b's RX queue q and
   * returns how many fit; the rest (refused: queue full, or q is not a TX
   * queue of a / an RX queue of b) stay with the caller and are counted in
   * stats().tx_dropped. rx_burst(q) pops the oldest frames. link() is
   * always up (full duplex, speed 0). stats(): rx/tx packets and bytes.
   */
  Port& a() noexcept;
  /** End b, named "pair-b"; the mirror of a(). */
  Port& b() noexcept;
  /** Frames currently in flight towards @p to_b ? b : a, over all queues. */
  size_t in_flight(bool to_b) const noexcept;

 private:
  class End;  // implementation detail (pair_wire.cpp)
  std::unique_ptr<End> a_;
  std::unique_ptr<End> b_;
};

}  // namespace tern::drivers
