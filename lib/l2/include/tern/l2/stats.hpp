/**
 * @file
 * Layer-2 counters of one interface on one core: frames in and out, ARP
 * traffic, neighbour-table events, and every drop by its reason.
 */
#pragma once

#include <array>
#include <cstdint>
#include <string_view>

namespace tern::l2 {

/** Why a frame or a packet waiting for resolution was dropped. */
enum class L2Drop : uint8_t {
  truncated,          ///< shorter than an Ethernet header
  not_for_us,         ///< unicast to another MAC
  multicast,          ///< multicast group we did not join
  vlan,               ///< 802.1Q tagged; no VLAN is configured
  unknown_ethertype,  ///< neither IPv4 nor ARP
  arp_malformed,      ///< truncated or inconsistent ARP
  arp_unsupported,    ///< ARP for another hardware/protocol type
  arp_bad_sender,     ///< sender MAC multicast/zero, or sender IP is ours from another MAC
  neigh_table_full,   ///< no room for a new neighbour entry
  neigh_queue_full,   ///< too many packets waiting for one resolution
  neigh_unresolved,   ///< resolution failed after all retries
  no_mbuf,            ///< pool exhausted building a frame
  count_
};

/** Counter name of a drop reason (for JSON output). */
std::string_view to_string(L2Drop d) noexcept;

struct L2Stats {
  uint64_t rx_frames = 0;
  uint64_t rx_ipv4 = 0;
  uint64_t rx_arp = 0;
  uint64_t tx_frames = 0;
  uint64_t arp_requests_in = 0;
  uint64_t arp_replies_in = 0;
  uint64_t arp_requests_out = 0;
  uint64_t arp_replies_out = 0;
  uint64_t arp_gratuitous_out = 0;
  uint64_t arp_conflicts = 0;  ///< someone else claims our address
  uint64_t neigh_created = 0;
  uint64_t neigh_resolved = 0;        ///< incomplete -> reachable
  uint64_t neigh_failed = 0;          ///< gave up resolving
  uint64_t neigh_mac_changes = 0;     ///< entries that took a different MAC
  uint64_t neigh_updates_locked = 0;  ///< different MACs ignored within the lock time
  uint64_t neigh_evicted = 0;
  // Evictions to make room, by kind (their sum is neigh_evicted): an entry a peer's ARP
  // created and nothing was sent through; a stale one (LRU); one a peer's ARP created and
  // we sent through, evicted for one of our own resolutions (LRU).
  uint64_t neigh_evicted_unsolicited = 0;
  uint64_t neigh_evicted_stale = 0;
  uint64_t neigh_evicted_active = 0;
  uint64_t neigh_queued = 0;  ///< packets held awaiting resolution
  // Offloads (docs/offloads.md).
  uint64_t tso_frames = 0;    ///< TCP super-segments handed to the port to cut (TSO)
  uint64_t gso_frames = 0;    ///< TCP super-segments cut in software (GSO)
  uint64_t gso_segments = 0;  ///< frames the software GSO made of them
  uint64_t gso_failed = 0;    ///< super-segments (partly) dropped: no mbuf for a piece
  std::array<uint64_t, static_cast<size_t>(L2Drop::count_)> drops{};

  void drop(L2Drop d, uint64_t n = 1) noexcept { drops[static_cast<size_t>(d)] += n; }
  uint64_t dropped(L2Drop d) const noexcept { return drops[static_cast<size_t>(d)]; }
};

}  // namespace tern::l2
