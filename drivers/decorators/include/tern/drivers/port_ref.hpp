/**
 * @file
 * PortRef: a Port that forwards every call to another Port it does not own, so a port owned
 * elsewhere (a PairWire end) can sit under a decorator that takes ownership of its inner port
 * (FaultPort, CapturePort). Frames pass through unchanged; no state of its own.
 */
#pragma once

#include <memory>
#include <string>

#include "tern/port/port.hpp"

namespace tern::drivers {

/** Forwards to @p p, which must outlive it. */
class PortRef final : public Port {
 public:
  explicit PortRef(Port& p) : p_(p) {}
  const std::string& name() const override { return p_.name(); }
  const PortCaps& caps() const override { return p_.caps(); }
  uint16_t rx_burst(uint16_t q, rte_mbuf** pkts, uint16_t n) override { return p_.rx_burst(q, pkts, n); }
  uint16_t tx_burst(uint16_t q, rte_mbuf** pkts, uint16_t n) override { return p_.tx_burst(q, pkts, n); }
  LinkStatus link() const override { return p_.link(); }
  PortStats stats() const override { return p_.stats(); }
  void poll(uint16_t q, uint64_t now) override { p_.poll(q, now); }
  bool rss_state(RssState& out) const override { return p_.rss_state(out); }

 private:
  Port& p_;
};

/** A PortRef to @p p, as the owning pointer decorators take. */
inline std::unique_ptr<Port> ref(Port& p) { return std::make_unique<PortRef>(p); }

}  // namespace tern::drivers
