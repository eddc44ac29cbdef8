/**
 * @file
 * IPv4 route table with longest-prefix match: one hash map per prefix
 * length and a bitmap of the lengths present, so a lookup probes at most as
 * many maps as there are distinct lengths, longest first. Adding a route may
 * allocate; lookups never do. Each core owns its own copy.
 */
#pragma once

#include <array>
#include <cstdint>
#include <unordered_map>

#include "tern/base/result.hpp"
#include "tern/wire/addr.hpp"

namespace tern::l3 {

/** A route: where datagrams for @p prefix go. */
struct Route {
  wire::Ipv4Prefix prefix;
  wire::Ipv4Addr gateway;  ///< next hop; 0.0.0.0 for a connected (on-link) route
  uint16_t iface = 0;      ///< interface index
  /** Static next-hop MAC (forwarding without ARP, as DPDK's l3fwd); zero: resolve by ARP. */
  wire::MacAddr mac{};
  bool connected() const noexcept { return gateway.v == 0; }
};

class RouteTable {
 public:
  /** Add or replace the route for route.prefix (host bits of the prefix are ignored). */
  Status add(const Route& route);
  /** Remove the route for exactly @p prefix; false if absent. */
  bool remove(const wire::Ipv4Prefix& prefix);
  /** The longest matching route for @p dst, or null. */
  const Route* lookup(wire::Ipv4Addr dst) const noexcept;
  size_t size() const noexcept { return count_; }
  /** Call @p f(const Route&) for every route. */
  template <typename F>
  void for_each(F&& f) const {
    for (const auto& m : by_len_) {
      for (const auto& [k, r] : m) f(r);
    }
  }

 private:
  std::array<std::unordered_map<uint32_t, Route>, 33> by_len_;
  uint64_t lens_ = 0;  // bit n set: some route of length n exists
  size_t count_ = 0;
};

}  // namespace tern::l3
