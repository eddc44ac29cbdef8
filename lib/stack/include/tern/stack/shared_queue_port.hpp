/**
 * @file
 * SharedQueuePort: gives every core a queue index on a port that has fewer
 * queue pairs than the stack has cores (net_tap with one queue, a NIC with
 * four queues under eight cores). Cores whose index is past the port's RX
 * queues receive nothing from it directly (their frames reach them by
 * software steering); TX queue q is the port's q % tx_queues, taken under a
 * spin lock only when two cores map to it. Frames pass through unchanged.
 */
#pragma once

#include <rte_spinlock.h>

#include <memory>
#include <string>
#include <vector>

#include "tern/port/port.hpp"

namespace tern {

class SharedQueuePort final : public Port {
 public:
  /** Wrap @p inner (owned) for @p cores cores. */
  SharedQueuePort(std::unique_ptr<Port> inner, uint16_t cores);

  const std::string& name() const override { return inner_->name(); }
  /** The inner port's (its real queue counts). */
  const PortCaps& caps() const override { return inner_->caps(); }
  /** The inner queue @p queue, or nothing for a core past the port's RX queues. */
  uint16_t rx_burst(uint16_t queue, rte_mbuf** pkts, uint16_t n) override {
    return queue < inner_->caps().rx_queues ? inner_->rx_burst(queue, pkts, n) : 0;
  }
  uint16_t tx_burst(uint16_t queue, rte_mbuf** pkts, uint16_t n) override;
  LinkStatus link() const override { return inner_->link(); }
  PortStats stats() const override { return inner_->stats(); }
  void poll(uint16_t queue, uint64_t now_ns) override {
    if (queue < inner_->caps().rx_queues) inner_->poll(queue, now_ns);
  }
  bool rss_state(RssState& out) const override { return inner_->rss_state(out); }
  Port& inner() noexcept { return *inner_; }

 private:
  std::unique_ptr<Port> inner_;
  std::vector<uint8_t> shared_;  // per inner TX queue: more than one core uses it
  std::unique_ptr<rte_spinlock_t[]> locks_;
};

}  // namespace tern
