/**
 * @file
 * IPv4 route table with longest-prefix match. Routes live in one hash map per
 * prefix length (the source of truth for add/remove/for_each); lookups go
 * through a DIR-16-8-8 index built from them: a 65,536-entry first level
 * indexed by the top 16 bits of the destination, and 256-entry groups for the
 * second and third bytes where longer prefixes need them. A lookup is one to
 * three dependent loads, whatever the number of routes; it never allocates.
 * Adding a route paints its range in the index (entries remember the prefix
 * length that set them, so a shorter route never overwrites a longer one);
 * removing one rebuilds the index. Each core owns its own copy (256 KiB plus
 * 1 KiB per group).
 */
#pragma once

#include <array>
#include <cstdint>
#include <unordered_map>
#include <vector>

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
  RouteTable();
  RouteTable(const RouteTable& o);
  RouteTable& operator=(const RouteTable& o);
  RouteTable(RouteTable&&) noexcept = default;
  RouteTable& operator=(RouteTable&&) noexcept = default;

  /**
   * Add or replace the route for route.prefix (host bits of the prefix are
   * ignored). Errors: invalid_argument for a length above 32, no_memory when
   * the table holds 2^24 routes or index groups (it never does in practice).
   */
  Status add(const Route& route);
  /** Remove the route for exactly @p prefix; false if absent. */
  bool remove(const wire::Ipv4Prefix& prefix);
  /** The longest matching route for @p dst, or null. Valid until the next add/remove. */
  const Route* lookup(wire::Ipv4Addr dst) const noexcept {
    uint32_t e = l1_[dst.v >> 16];
    if (e & kGroup) {
      e = groups_[((e & kIdMask) << 8) | ((dst.v >> 8) & 0xff)];
      if (e & kGroup) e = groups_[((e & kIdMask) << 8) | (dst.v & 0xff)];
    }
    const uint32_t id = e & kIdMask;
    return id == 0 ? nullptr : routes_[id - 1];
  }
  size_t size() const noexcept { return count_; }
  /** Call @p f(const Route&) for every route. */
  template <typename F>
  void for_each(F&& f) const {
    for (const auto& m : by_len_) {
      for (const auto& [k, e] : m) f(e.route);
    }
  }

 private:
  // Index entry: kGroup set -> low 24 bits name a 256-entry group; otherwise
  // bits 24..29 hold the prefix length that painted it and the low 24 bits a
  // route id (1-based index into routes_; 0 = no route).
  static constexpr uint32_t kGroup = 0x8000'0000u;
  static constexpr uint32_t kIdMask = 0x00ff'ffffu;
  struct Entry {
    Route route;
    uint32_t id = 0;  // 1-based slot in routes_
  };
  static uint32_t leaf(uint8_t len, uint32_t id) noexcept { return (uint32_t{len} << 24) | id; }
  Status paint(const Route& r, uint32_t id);
  void paint_slot(uint32_t& slot, uint32_t value, uint8_t len);
  Result<uint32_t> group_for(uint32_t& slot);
  void rebuild();

  std::array<std::unordered_map<uint32_t, Entry>, 33> by_len_;
  std::vector<uint32_t> l1_;      // 65,536 entries
  std::vector<uint32_t> groups_;  // 256 entries per group
  std::vector<const Route*> routes_;
  std::vector<uint32_t> free_ids_;
  size_t count_ = 0;
};

}  // namespace tern::l3
